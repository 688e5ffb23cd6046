//! Envelope encryption for secrets at rest (provider tokens, webhook secrets).
//!
//! Each secret gets its own AES-256 data key from a `KeyManager` (KMS on AWS, a local master key
//! file on the local host). The secret is sealed with AES-256-GCM under that data key; only the
//! ciphertext, the nonce and the *wrapped* data key are stored. The encryption context (workspace
//! and owner) is bound into both layers, so a sealed secret moved to another owner will not open.

use crate::kernel::ids::WorkspaceId;
use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Key, Nonce};
use async_trait::async_trait;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use secrecy::{ExposeSecret, SecretBox, SecretSlice};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::collections::BTreeMap;
use std::sync::Arc;
use thiserror::Error;

pub const DATA_KEY_LEN: usize = 32;
const NONCE_LEN: usize = 12;

#[derive(Debug, Error)]
pub enum CryptoError {
    /// The key service could not be reached or failed.
    #[error("key service unavailable: {0}")]
    Unavailable(String),
    /// The data is not what was sealed for this context (tampered, or another owner's).
    #[error("the secret does not open under this context")]
    Denied,
}

/// Whose secret this is. Bound into the encryption: opening needs the same context.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EncryptionContext {
    pub workspace: WorkspaceId,
    /// What the secret belongs to, e.g. `connection:<id>` or `webhook:<id>`.
    pub owner: String,
}

impl EncryptionContext {
    pub fn new(workspace: &WorkspaceId, owner: impl Into<String>) -> Self {
        Self {
            workspace: workspace.clone(),
            owner: owner.into(),
        }
    }

    /// The context as key/value pairs (KMS `EncryptionContext`).
    pub fn pairs(&self) -> BTreeMap<String, String> {
        BTreeMap::from([
            ("workspace".to_owned(), self.workspace.to_string()),
            ("owner".to_owned(), self.owner.clone()),
        ])
    }

    /// A canonical byte form, used as AES-GCM associated data.
    pub fn associated_data(&self) -> Vec<u8> {
        let mut aad = Vec::new();
        for (key, value) in self.pairs() {
            aad.extend_from_slice(key.as_bytes());
            aad.push(0);
            aad.extend_from_slice(value.as_bytes());
            aad.push(0);
        }
        aad
    }
}

/// A 256-bit key, zeroed when dropped.
pub type DataKey = SecretBox<[u8; DATA_KEY_LEN]>;

/// A fresh data key: the plaintext to use once, and the wrapped form to store.
pub struct GeneratedKey {
    pub plaintext: DataKey,
    pub wrapped: Vec<u8>,
}

/// Makes and unwraps data keys. KMS on AWS; a local master key on the local host.
#[async_trait]
pub trait KeyManager: Send + Sync {
    async fn generate_data_key(
        &self,
        context: &EncryptionContext,
    ) -> Result<GeneratedKey, CryptoError>;
    async fn unwrap_data_key(
        &self,
        wrapped: &[u8],
        context: &EncryptionContext,
    ) -> Result<DataKey, CryptoError>;
}

/// A secret as stored: nothing in it can be read without the key manager.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SealedSecret {
    #[serde(with = "base64_bytes")]
    pub wrapped_key: Vec<u8>,
    #[serde(with = "base64_bytes")]
    pub nonce: Vec<u8>,
    #[serde(with = "base64_bytes")]
    pub ciphertext: Vec<u8>,
}

/// Seals and opens secrets with envelope encryption.
#[derive(Clone)]
pub struct Vault {
    keys: Arc<dyn KeyManager>,
}

impl Vault {
    pub fn new(keys: Arc<dyn KeyManager>) -> Self {
        Self { keys }
    }

    pub async fn seal(
        &self,
        plaintext: &[u8],
        context: &EncryptionContext,
    ) -> Result<SealedSecret, CryptoError> {
        let key = self.keys.generate_data_key(context).await?;
        let (nonce, ciphertext) = aead_seal(&key.plaintext, plaintext, &context.associated_data())?;
        Ok(SealedSecret {
            wrapped_key: key.wrapped,
            nonce,
            ciphertext,
        })
    }

    pub async fn open(
        &self,
        sealed: &SealedSecret,
        context: &EncryptionContext,
    ) -> Result<SecretSlice<u8>, CryptoError> {
        let key = self
            .keys
            .unwrap_data_key(&sealed.wrapped_key, context)
            .await?;
        aead_open(
            &key,
            &sealed.nonce,
            &sealed.ciphertext,
            &context.associated_data(),
        )
        .map(SecretSlice::from)
    }
}

/// AES-256-GCM with a random 96-bit nonce. Returns `(nonce, ciphertext‖tag)`.
pub fn aead_seal(
    key: &DataKey,
    plaintext: &[u8],
    associated_data: &[u8],
) -> Result<(Vec<u8>, Vec<u8>), CryptoError> {
    let cipher = Aes256Gcm::new(Key::<Aes256Gcm>::from_slice(key.expose_secret()));
    let mut nonce = [0u8; NONCE_LEN];
    rand::fill(&mut nonce);
    let ciphertext = cipher
        .encrypt(
            Nonce::from_slice(&nonce),
            Payload {
                msg: plaintext,
                aad: associated_data,
            },
        )
        .map_err(|_| CryptoError::Unavailable("encryption failed".into()))?;
    Ok((nonce.to_vec(), ciphertext))
}

/// Opens what `aead_seal` sealed; `Denied` if anything was changed or the data differs.
pub fn aead_open(
    key: &DataKey,
    nonce: &[u8],
    ciphertext: &[u8],
    associated_data: &[u8],
) -> Result<Vec<u8>, CryptoError> {
    if nonce.len() != NONCE_LEN {
        return Err(CryptoError::Denied);
    }
    let cipher = Aes256Gcm::new(Key::<Aes256Gcm>::from_slice(key.expose_secret()));
    cipher
        .decrypt(
            Nonce::from_slice(nonce),
            Payload {
                msg: ciphertext,
                aad: associated_data,
            },
        )
        .map_err(|_| CryptoError::Denied)
}

/// A data key from raw bytes; `Denied` when the length is wrong.
pub fn data_key_from(bytes: &[u8]) -> Result<DataKey, CryptoError> {
    let key: [u8; DATA_KEY_LEN] = bytes.try_into().map_err(|_| CryptoError::Denied)?;
    Ok(SecretBox::new(Box::new(key)))
}

/// A fresh random data key.
pub fn random_data_key() -> DataKey {
    let mut key = [0u8; DATA_KEY_LEN];
    rand::fill(&mut key);
    SecretBox::new(Box::new(key))
}

mod base64_bytes {
    use super::*;

    pub fn serialize<S: Serializer>(bytes: &[u8], serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&STANDARD.encode(bytes))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<u8>, D::Error> {
        let text = String::deserialize(deserializer)?;
        STANDARD.decode(text).map_err(serde::de::Error::custom)
    }
}
