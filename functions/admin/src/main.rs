//! Lambda function: workspaces, API keys, health and the API documentation.

use vitasync_api::{AdminApi, lambda_routes, router};
use vitasync_host::aws::AwsHost;
use vitasync_host::{LogFormat, init_tracing};

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    init_tracing(LogFormat::Json);
    let host = AwsHost::from_env().await?;
    let state = AdminApi {
        tenancy: host.tenancy()?,
        directory: host.user_directory()?,
        webhook_endpoints: host.webhook_endpoints()?,
    };
    lambda_http::run(router(lambda_routes::admin(), state)).await
}
