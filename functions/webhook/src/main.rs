//! Lambda function behind a function URL: `/webhooks/{providerId}`, providers' pushes.

use vitasync_api::{WebhookApi, lambda_routes, router};
use vitasync_host::aws::AwsHost;
use vitasync_host::{LogFormat, init_tracing};

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    init_tracing(LogFormat::Json);
    let host = AwsHost::from_env().await?;
    let state = WebhookApi {
        pushes: host.pushes()?,
    };
    lambda_http::run(router(lambda_routes::webhook(), state)).await
}
