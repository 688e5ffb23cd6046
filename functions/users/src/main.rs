//! Lambda function: `/v1/users...`.

use vitasync_api::{UsersApi, lambda_routes, router};
use vitasync_host::aws::AwsHost;
use vitasync_host::{LogFormat, init_tracing};

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    init_tracing(LogFormat::Json);
    let host = AwsHost::from_env().await?;
    let state = UsersApi {
        tenancy: host.tenancy()?,
        directory: host.user_directory()?,
        users: host.users()?,
    };
    lambda_http::run(router(lambda_routes::users(), state)).await
}
