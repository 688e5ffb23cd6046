//! What the relay function is built from: its `main` runs this service; tests read the IAM
//! permissions building it recorded.

use vitasync_host::HostError;
use vitasync_host::aws::AwsHost;

/// The outbox relay.
pub fn service(host: &AwsHost) -> Result<vitasync_domain::announce::relay::Relay, HostError> {
    host.relay()
}
