//! Lambda function: the OAuth callback: code exchange, sealed tokens, the first backfill.

use vitasync_api::{CallbackApi, lambda_routes, router};
use vitasync_host::aws::AwsHost;
use vitasync_host::{LogFormat, init_tracing};

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    init_tracing(LogFormat::Json);
    let host = AwsHost::from_env().await?;
    let state = CallbackApi {
        callback: host.callback()?,
    };
    lambda_http::run(router(lambda_routes::callback(), state)).await
}
