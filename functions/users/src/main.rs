//! Lambda function: `/v1/users...`.

use vitasync_api::{lambda_routes, router};
use vitasync_host::aws::AwsHost;
use vitasync_host::{LogFormat, init_tracing};

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    init_tracing(LogFormat::Json);
    let state = vitasync_fn_users::state(&AwsHost::from_env().await?)?;
    lambda_http::run(router(lambda_routes::users(), state)).await
}
