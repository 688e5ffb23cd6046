//! Lambda function: the connect pages and the redirect to a provider's consent screen.

use vitasync_api::{AuthorizeApi, lambda_routes, router};
use vitasync_host::aws::AwsHost;
use vitasync_host::{LogFormat, init_tracing};

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    init_tracing(LogFormat::Json);
    let host = AwsHost::from_env().await?;
    let state = AuthorizeApi {
        connect: host.connect()?,
    };
    lambda_http::run(router(lambda_routes::authorize(), state)).await
}
