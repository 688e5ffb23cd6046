//! Lambda function: sign-in tokens, `/v1/auth/*` and `/v1/me...` (the developer's app).

use vitasync_api::{MobileApi, lambda_routes, router};
use vitasync_host::aws::AwsHost;
use vitasync_host::{LogFormat, init_tracing};

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    init_tracing(LogFormat::Json);
    let host = AwsHost::from_env().await?;
    let state = MobileApi {
        tenancy: host.tenancy()?,
        directory: host.user_directory()?,
        user_sessions: host.user_sessions()?,
        phone_ingest: host.phone_ingest()?,
        health_reads: host.health_reads()?,
    };
    lambda_http::run(router(lambda_routes::mobile(), state)).await
}
