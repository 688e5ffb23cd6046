//! What the webhook function is built from: its `main` serves this state; tests read the IAM
//! permissions building it recorded.

use vitasync_api::WebhookApi;
use vitasync_host::HostError;
use vitasync_host::aws::AwsHost;

/// The services the webhook function's routes use.
pub fn state(host: &AwsHost) -> Result<WebhookApi, HostError> {
    Ok(WebhookApi {
        pushes: host.pushes()?,
    })
}
