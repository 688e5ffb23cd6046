//! SDK configuration, built once per process at init.

use aws_config::{BehaviorVersion, Region, SdkConfig};

/// Where the adapters find their AWS resources.
#[derive(Debug, Clone, Default)]
pub struct AwsSettings {
    /// Overrides every service endpoint (an emulator in tests). The SDK also honours
    /// `AWS_ENDPOINT_URL` on its own.
    pub endpoint_url: Option<String>,
    /// Overrides the region the environment gives.
    pub region: Option<String>,
}

/// Loads region and credentials from the environment (as Lambda provides them). Does no
/// network I/O: credentials are resolved on first use.
pub async fn sdk_config(settings: &AwsSettings) -> SdkConfig {
    let mut loader = aws_config::defaults(BehaviorVersion::latest());
    if let Some(region) = &settings.region {
        loader = loader.region(Region::new(region.clone()));
    }
    if let Some(endpoint) = &settings.endpoint_url {
        loader = loader.endpoint_url(endpoint);
    }
    loader.load().await
}
