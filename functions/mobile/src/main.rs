//! Lambda function: sign-in tokens, `/v1/auth/*` and `/v1/me...` (the developer's app).

use vitasync_api::{AppApi, lambda_routes, router};
use vitasync_host::aws::AwsHost;
use vitasync_host::{LogFormat, init_tracing};

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    init_tracing(LogFormat::Json);
    let app = AwsHost::from_env().await?.announcing_app()?;
    lambda_http::run(router(lambda_routes::mobile(), AppApi::new(app))).await
}
