//! What the users function is built from: its `main` serves this state; tests read the IAM
//! permissions building it recorded.

use vitasync_api::UsersApi;
use vitasync_host::HostError;
use vitasync_host::aws::AwsHost;

/// The services the users function's routes use.
pub fn state(host: &AwsHost) -> Result<UsersApi, HostError> {
    Ok(UsersApi {
        authenticator: host.authenticator()?,
        directory: host.user_directory()?,
        users: host.users()?,
    })
}
