//! Lambda function: providers, connections, connect links and widget sessions, webhook
//! subscriptions and the demo provider.

use vitasync_api::{ConnectionsApi, lambda_routes, router};
use vitasync_host::aws::AwsHost;
use vitasync_host::{LogFormat, init_tracing};

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    init_tracing(LogFormat::Json);
    let host = AwsHost::from_env().await?;
    let state = ConnectionsApi {
        tenancy: host.tenancy()?,
        directory: host.user_directory()?,
        providers: host.provider_registry()?,
        connect: host.connect()?,
        disconnector: host.disconnector()?,
        subscriptions: host.webhook_subscriptions()?,
    };
    lambda_http::run(router(lambda_routes::connections(), state)).await
}
