//! Provider app secrets from Secrets Manager (`GetSecretValue` by name, the whole
//! `SecretString`), read when first needed rather than resolved into the environment.

use async_trait::async_trait;
use aws_sdk_secretsmanager::Client;
use aws_sdk_secretsmanager::error::DisplayErrorContext;
use secrecy::SecretString;
use vitasync_domain::providers::secrets::{SecretError, SecretReader};

#[derive(Clone)]
pub struct SecretsManagerReader {
    client: Client,
}

impl SecretsManagerReader {
    pub fn new(client: Client) -> Self {
        Self { client }
    }
}

#[async_trait]
impl SecretReader for SecretsManagerReader {
    #[tracing::instrument(skip_all, fields(secret = %name))]
    async fn read(&self, name: &str) -> Result<SecretString, SecretError> {
        let output = self
            .client
            .get_secret_value()
            .secret_id(name)
            .send()
            .await
            .map_err(|err| {
                let not_found = err
                    .as_service_error()
                    .is_some_and(|service| service.is_resource_not_found_exception());
                if not_found {
                    SecretError::Missing(name.to_owned())
                } else {
                    SecretError::Unavailable {
                        name: name.to_owned(),
                        reason: DisplayErrorContext(err).to_string(),
                    }
                }
            })?;
        output
            .secret_string
            .filter(|value| !value.is_empty())
            .map(SecretString::from)
            .ok_or_else(|| SecretError::Missing(name.to_owned()))
    }
}
