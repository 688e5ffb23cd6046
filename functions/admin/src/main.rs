//! Lambda function: workspaces, API keys, health and the API documentation.

use vitasync_api::{Function, router_for};
use vitasync_host::{LogFormat, app_from_env, init_tracing};

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    init_tracing(LogFormat::Json);
    let app = app_from_env()?;
    lambda_http::run(router_for(Function::Admin, app)).await
}
