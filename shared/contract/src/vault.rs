//! The key manager's contract, through the vault that uses it.

use secrecy::ExposeSecret;
use std::sync::Arc;
use vitasync_domain::kernel::ids::WorkspaceId;
use vitasync_domain::kernel::secrets::{CryptoError, EncryptionContext, KeyManager, Vault};

pub async fn vault(keys: Arc<dyn KeyManager>) {
    let vault = Vault::new(keys);
    let ws = WorkspaceId::generate();
    let context = EncryptionContext::new(&ws, "connection:01J0000000000000000000000A");
    let secret = b"refresh-token-of-a-real-user";

    let sealed = vault.seal(secret, &context).await.unwrap();
    let text = serde_json::to_string(&sealed).unwrap();
    assert!(!text.contains("refresh-token"), "only ciphertext is stored");
    assert!(!sealed.ciphertext.windows(secret.len()).any(|w| w == secret));
    let opened = vault.open(&sealed, &context).await.unwrap();
    assert_eq!(opened.expose_secret(), secret);

    // Every seal uses a fresh data key and nonce.
    let again = vault.seal(secret, &context).await.unwrap();
    assert_ne!(again.ciphertext, sealed.ciphertext);
    assert_ne!(again.wrapped_key, sealed.wrapped_key);

    let other_owner = EncryptionContext::new(&ws, "connection:01J0000000000000000000000B");
    let other_workspace = EncryptionContext::new(&WorkspaceId::generate(), context.owner.clone());
    for wrong in [other_owner, other_workspace] {
        assert!(
            matches!(vault.open(&sealed, &wrong).await, Err(CryptoError::Denied)),
            "opened under {wrong:?}"
        );
    }

    let mut tampered = sealed.clone();
    tampered.ciphertext[0] ^= 1;
    assert!(matches!(
        vault.open(&tampered, &context).await,
        Err(CryptoError::Denied)
    ));
    let mut swapped = sealed.clone();
    swapped.wrapped_key = again.wrapped_key.clone();
    assert!(matches!(
        vault.open(&swapped, &context).await,
        Err(CryptoError::Denied)
    ));
    let mut broken_key = sealed.clone();
    let last = broken_key.wrapped_key.len() - 1;
    broken_key.wrapped_key[last] ^= 1;
    assert!(matches!(
        vault.open(&broken_key, &context).await,
        Err(CryptoError::Denied)
    ));
}
