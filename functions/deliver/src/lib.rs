//! What the deliver function is built from: its `main` runs this service; tests read the IAM
//! permissions building it recorded.

use vitasync_host::HostError;
use vitasync_host::aws::AwsHost;

/// Outbound webhook deliveries.
pub fn service(
    host: &AwsHost,
) -> Result<vitasync_domain::announce::delivery::Deliveries, HostError> {
    host.deliveries()
}
