//! The deployment's provider app secrets (client secrets, webhook verify tokens and signing
//! secrets). On the local host they are values from the environment; on AWS the environment
//! only names them and they are read from the secret store when first needed, kept, and read
//! again when a provider refuses them, so rotating one needs no redeploy.

use crate::kernel::time::{Clock, Timestamp};
use async_trait::async_trait;
use secrecy::SecretString;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use thiserror::Error;

/// Where one secret comes from.
#[derive(Debug, Clone)]
pub enum SecretSource {
    /// The value itself (the local host's environment, tests).
    Value(SecretString),
    /// The name of a secret in the secret store.
    Named(String),
}

#[derive(Debug, Error)]
pub enum SecretError {
    /// The store has no such secret, or it is empty. The name is configuration, not a secret.
    #[error("the secret '{0}' does not exist or is empty")]
    Missing(String),
    /// The store could not be reached or refused us.
    #[error("the secret '{name}' could not be read: {reason}")]
    Unavailable { name: String, reason: String },
}

/// Reads a secret's current value by name (Secrets Manager on AWS).
#[async_trait]
pub trait SecretReader: Send + Sync {
    async fn read(&self, name: &str) -> Result<SecretString, SecretError>;
}

/// For hosts without a secret store: every name is refused, saying why.
pub struct NoSecretStore;

#[async_trait]
impl SecretReader for NoSecretStore {
    async fn read(&self, name: &str) -> Result<SecretString, SecretError> {
        Err(SecretError::Unavailable {
            name: name.to_owned(),
            reason: "this host reads secrets from its environment, not by name".into(),
        })
    }
}

/// A value read recently enough is not read again on a refusal: a flood of forged webhooks
/// must not turn into a flood of secret-store calls.
pub const REREAD_AFTER_SECONDS: i64 = 30;

type Values = HashMap<String, (SecretString, Timestamp)>;

/// Named secrets, read once and kept until a refusal says they may have been rotated.
pub struct SecretCache {
    reader: Arc<dyn SecretReader>,
    clock: Arc<dyn Clock>,
    values: Mutex<Values>,
}

impl SecretCache {
    pub fn new(reader: Arc<dyn SecretReader>, clock: Arc<dyn Clock>) -> Self {
        Self {
            reader,
            clock,
            values: Mutex::default(),
        }
    }

    /// The secret's value: kept, or read now.
    pub async fn get(&self, source: &SecretSource) -> Result<SecretString, SecretError> {
        let name = match source {
            SecretSource::Value(value) => return Ok(value.clone()),
            SecretSource::Named(name) => name,
        };
        if let Some((value, _)) = self.lock().get(name) {
            return Ok(value.clone());
        }
        let value = self.reader.read(name).await?;
        self.lock()
            .insert(name.clone(), (value.clone(), self.clock.now()));
        tracing::info!(secret = %name, "read a provider app secret");
        Ok(value)
    }

    /// Drops whichever of `sources` are named and were read long enough ago, so the next `get`
    /// reads them again. Whether any was dropped (then a retry may succeed).
    pub fn forget_stale<'a>(&self, sources: impl IntoIterator<Item = &'a SecretSource>) -> bool {
        let stale_before = self.clock.now().plus_seconds(-REREAD_AFTER_SECONDS);
        let mut values = self.lock();
        let mut forgot = false;
        for source in sources {
            if let SecretSource::Named(name) = source
                && values
                    .get(name)
                    .is_some_and(|(_, read_at)| *read_at <= stale_before)
            {
                values.remove(name);
                forgot = true;
            }
        }
        forgot
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Values> {
        self.values.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::ExposeSecret;
    use std::sync::atomic::{AtomicI64, AtomicUsize, Ordering};

    struct Ticking(AtomicI64);

    impl Clock for Ticking {
        fn now(&self) -> Timestamp {
            Timestamp::from_millis(self.0.load(Ordering::SeqCst)).unwrap()
        }
    }

    /// A store whose secret is rotated by each read.
    struct Rotating(AtomicUsize);

    #[async_trait]
    impl SecretReader for Rotating {
        async fn read(&self, name: &str) -> Result<SecretString, SecretError> {
            if name == "missing" {
                return Err(SecretError::Missing(name.into()));
            }
            let version = self.0.fetch_add(1, Ordering::SeqCst) + 1;
            Ok(SecretString::from(format!("{name}-v{version}")))
        }
    }

    #[tokio::test]
    async fn a_named_secret_is_read_once_and_again_only_after_a_refusal_once_stale() {
        let clock = Arc::new(Ticking(AtomicI64::new(1_800_000_000_000)));
        let cache = SecretCache::new(Arc::new(Rotating(AtomicUsize::new(0))), clock.clone());
        let named = SecretSource::Named("withings".into());
        async fn read(cache: &SecretCache, source: &SecretSource) -> String {
            cache.get(source).await.unwrap().expose_secret().to_owned()
        }
        assert_eq!(read(&cache, &named).await, "withings-v1");
        assert_eq!(
            read(&cache, &named).await,
            "withings-v1",
            "kept, not read again"
        );
        assert!(
            !cache.forget_stale([&named]),
            "a value just read is not read again on a refusal"
        );
        clock
            .0
            .fetch_add(REREAD_AFTER_SECONDS * 1000, Ordering::SeqCst);
        assert!(cache.forget_stale([&named]));
        assert_eq!(
            read(&cache, &named).await,
            "withings-v2",
            "the rotated value"
        );

        let value = SecretSource::Value(SecretString::from("inline"));
        assert_eq!(cache.get(&value).await.unwrap().expose_secret(), "inline");
        assert!(!cache.forget_stale([&value]));
        let missing = cache.get(&SecretSource::Named("missing".into())).await;
        assert!(matches!(missing, Err(SecretError::Missing(_))));
    }
}
