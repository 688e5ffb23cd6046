//! What the admin function is built from: its `main` serves this state; tests read the IAM
//! permissions building it recorded.

use vitasync_api::AdminApi;
use vitasync_host::HostError;
use vitasync_host::aws::AwsHost;

/// The services the admin function's routes use.
pub fn state(host: &AwsHost) -> Result<AdminApi, HostError> {
    Ok(AdminApi {
        authenticator: host.authenticator()?,
        tenancy: host.tenancy()?,
        directory: host.user_directory()?,
        webhook_endpoints: host.webhook_endpoints()?,
        provider_credentials: host.provider_credentials()?,
    })
}
