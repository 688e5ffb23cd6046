//! What the sync-trigger function is built from: its `main` serves this state; tests read the IAM
//! permissions building it recorded.

use vitasync_api::SyncTriggerApi;
use vitasync_host::HostError;
use vitasync_host::aws::AwsHost;

/// The services the sync-trigger function's routes use.
pub fn state(host: &AwsHost) -> Result<SyncTriggerApi, HostError> {
    Ok(SyncTriggerApi {
        authenticator: host.authenticator()?,
        sync_jobs: host.sync_jobs()?,
    })
}
