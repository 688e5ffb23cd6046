//! What the connections function is built from: its `main` serves this state; tests read the IAM
//! permissions building it recorded.

use vitasync_api::ConnectionsApi;
use vitasync_host::HostError;
use vitasync_host::aws::AwsHost;

/// The services the connections function's routes use.
pub fn state(host: &AwsHost) -> Result<ConnectionsApi, HostError> {
    Ok(ConnectionsApi {
        authenticator: host.authenticator()?,
        directory: host.user_directory()?,
        connect_links: host.connect_links()?,
        connect: host.connect()?,
        disconnector: host.disconnector()?,
        subscriptions: host.webhook_subscriptions()?,
    })
}
