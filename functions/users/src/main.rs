//! Lambda function: `/v1/users...`.

use vitasync_api::{Function, router_for};
use vitasync_host::aws::AwsHost;
use vitasync_host::{LogFormat, init_tracing};

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    init_tracing(LogFormat::Json);
    let app = AwsHost::from_env().await?.announcing_app()?;
    lambda_http::run(router_for(Function::Users, app)).await
}
