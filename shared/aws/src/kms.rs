//! Data keys from KMS: `GenerateDataKey` (AES-256) and `Decrypt`, both bound to the secret's
//! encryption context, so KMS itself refuses to unwrap a key for another owner.

use async_trait::async_trait;
use aws_sdk_kms::Client;
use aws_sdk_kms::error::DisplayErrorContext;
use aws_sdk_kms::operation::decrypt::DecryptError;
use aws_sdk_kms::primitives::Blob;
use aws_sdk_kms::types::DataKeySpec;
use std::collections::HashMap;
use vitasync_domain::kernel::secrets::{
    CryptoError, DataKey, EncryptionContext, GeneratedKey, KeyManager, data_key_from,
};

#[derive(Clone)]
pub struct KmsKeyManager {
    client: Client,
    key_id: String,
}

impl KmsKeyManager {
    pub fn new(client: Client, key_id: impl Into<String>) -> Self {
        Self {
            client,
            key_id: key_id.into(),
        }
    }
}

fn context_map(context: &EncryptionContext) -> HashMap<String, String> {
    context.pairs().into_iter().collect()
}

#[async_trait]
impl KeyManager for KmsKeyManager {
    #[tracing::instrument(skip_all)]
    async fn generate_data_key(
        &self,
        context: &EncryptionContext,
    ) -> Result<GeneratedKey, CryptoError> {
        let output = self
            .client
            .generate_data_key()
            .key_id(&self.key_id)
            .key_spec(DataKeySpec::Aes256)
            .set_encryption_context(Some(context_map(context)))
            .send()
            .await
            .map_err(|err| CryptoError::Unavailable(DisplayErrorContext(err).to_string()))?;
        let plaintext = output
            .plaintext
            .ok_or_else(|| CryptoError::Unavailable("KMS returned no plaintext key".into()))?;
        let wrapped = output
            .ciphertext_blob
            .ok_or_else(|| CryptoError::Unavailable("KMS returned no wrapped key".into()))?;
        Ok(GeneratedKey {
            plaintext: data_key_from(plaintext.as_ref()).map_err(|_| {
                CryptoError::Unavailable("KMS returned a key of the wrong size".into())
            })?,
            wrapped: wrapped.into_inner(),
        })
    }

    #[tracing::instrument(skip_all)]
    async fn unwrap_data_key(
        &self,
        wrapped: &[u8],
        context: &EncryptionContext,
    ) -> Result<DataKey, CryptoError> {
        let output = self
            .client
            .decrypt()
            .key_id(&self.key_id)
            .ciphertext_blob(Blob::new(wrapped))
            .set_encryption_context(Some(context_map(context)))
            .send()
            .await
            .map_err(|err| match err.into_service_error() {
                DecryptError::InvalidCiphertextException(_)
                | DecryptError::IncorrectKeyException(_) => CryptoError::Denied,
                other => CryptoError::Unavailable(DisplayErrorContext(other).to_string()),
            })?;
        let plaintext = output
            .plaintext
            .ok_or_else(|| CryptoError::Unavailable("KMS returned no plaintext".into()))?;
        data_key_from(plaintext.as_ref())
    }
}
