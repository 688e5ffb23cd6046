//! What the mobile function is built from: its `main` serves this state; tests read the IAM
//! permissions building it recorded.

use vitasync_api::MobileApi;
use vitasync_host::HostError;
use vitasync_host::aws::AwsHost;

/// The services the mobile function's routes use.
pub fn state(host: &AwsHost) -> Result<MobileApi, HostError> {
    Ok(MobileApi {
        authenticator: host.authenticator()?,
        directory: host.user_directory()?,
        user_sessions: host.user_sessions()?,
        phone_ingest: host.phone_ingest()?,
        health_reads: host.health_reads()?,
    })
}
