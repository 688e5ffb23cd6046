//! Lambda function: sign-in tokens, `/v1/auth/*` and `/v1/me...` (the developer's app).

use vitasync_api::{lambda_routes, router};
use vitasync_host::aws::AwsHost;
use vitasync_host::{LogFormat, init_tracing};

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    init_tracing(LogFormat::Json);
    let state = vitasync_fn_mobile::state(&AwsHost::from_env().await?)?;
    lambda_http::run(router(lambda_routes::mobile(), state)).await
}
