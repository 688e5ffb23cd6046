//! Lambda function behind a function URL: `/webhooks/{providerId}`, providers' pushes.

use vitasync_api::{AppApi, lambda_routes, router};
use vitasync_host::aws::AwsHost;
use vitasync_host::{LogFormat, init_tracing};

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    init_tracing(LogFormat::Json);
    let app = AwsHost::from_env().await?.connect_app()?;
    lambda_http::run(router(lambda_routes::webhook(), AppApi::new(app))).await
}
