//! What the callback function is built from: its `main` serves this state; tests read the IAM
//! permissions building it recorded.

use vitasync_api::CallbackApi;
use vitasync_host::HostError;
use vitasync_host::aws::AwsHost;

/// The services the callback function's routes use.
pub fn state(host: &AwsHost) -> Result<CallbackApi, HostError> {
    Ok(CallbackApi {
        callback: host.callback()?,
    })
}
