//! What the query function is built from: its `main` serves this state; tests read the IAM
//! permissions building it recorded.

use vitasync_api::QueryApi;
use vitasync_host::HostError;
use vitasync_host::aws::AwsHost;

/// The services the query function's routes use.
pub fn state(host: &AwsHost) -> Result<QueryApi, HostError> {
    Ok(QueryApi {
        authenticator: host.authenticator()?,
        health_reads: host.health_reads()?,
    })
}
