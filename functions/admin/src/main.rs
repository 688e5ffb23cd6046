//! Lambda function: workspaces, API keys, health and the API documentation.

use vitasync_api::{AppApi, lambda_routes, router};
use vitasync_host::aws::AwsHost;
use vitasync_host::{LogFormat, init_tracing};

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    init_tracing(LogFormat::Json);
    let app = AwsHost::from_env().await?.admin_app()?;
    lambda_http::run(router(lambda_routes::admin(), AppApi { app })).await
}
