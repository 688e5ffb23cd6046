//! What the authorize function is built from: its `main` serves this state; tests read the IAM
//! permissions building it recorded.

use vitasync_api::AuthorizeApi;
use vitasync_host::HostError;
use vitasync_host::aws::AwsHost;

/// The services the authorize function's routes use.
pub fn state(host: &AwsHost) -> Result<AuthorizeApi, HostError> {
    Ok(AuthorizeApi {
        connect: host.connect()?,
    })
}
