//! What the sync-worker function is built from: its `main` runs this service; tests read the IAM
//! permissions building it recorded.

use vitasync_host::HostError;
use vitasync_host::aws::AwsHost;

/// The job worker: sync jobs, pushed data, webhook subscriptions.
pub fn service(host: &AwsHost) -> Result<vitasync_domain::worker::JobWorker, HostError> {
    host.job_worker()
}
