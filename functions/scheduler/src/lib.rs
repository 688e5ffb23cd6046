//! What the scheduler function is built from: its `main` runs this service; tests read the IAM
//! permissions building it recorded.

use vitasync_host::HostError;
use vitasync_host::aws::AwsHost;

/// The scheduler's round.
pub fn service(host: &AwsHost) -> Result<vitasync_domain::sync::SyncScheduler, HostError> {
    host.sync_scheduler()
}
