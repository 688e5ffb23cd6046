//! The local key manager: data keys wrapped with a master key kept in a file beside the data.
//! The file is created once with owner-only permissions (0600) and never leaves the machine.

use async_trait::async_trait;
use secrecy::ExposeSecret;
use std::io::{ErrorKind, Read, Write};
use std::path::{Path, PathBuf};
use vitasync_domain::kernel::secrets::{
    CryptoError, DATA_KEY_LEN, DataKey, EncryptionContext, GeneratedKey, KeyManager, aead_open,
    aead_seal, data_key_from, random_data_key,
};

pub const MASTER_KEY_FILE: &str = "master.key";
const NONCE_LEN: usize = 12;

pub struct LocalKeyManager {
    master: DataKey,
}

impl LocalKeyManager {
    /// Loads the master key from `dir`, creating it on first use.
    pub fn open(dir: &Path) -> Result<Self, CryptoError> {
        std::fs::create_dir_all(dir).map_err(|err| unavailable(dir, err))?;
        let path = dir.join(MASTER_KEY_FILE);
        let master = match create_master_key(&path) {
            Ok(key) => key,
            Err(err) if err.kind() == ErrorKind::AlreadyExists => read_master_key(&path)?,
            Err(err) => return Err(unavailable(&path, err)),
        };
        Ok(Self { master })
    }
}

fn unavailable(path: &Path, err: std::io::Error) -> CryptoError {
    CryptoError::Unavailable(format!("{}: {err}", path.display()))
}

fn create_master_key(path: &PathBuf) -> std::io::Result<DataKey> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path)?;
    let key = random_data_key();
    file.write_all(key.expose_secret())?;
    file.sync_all()?;
    Ok(key)
}

fn read_master_key(path: &Path) -> Result<DataKey, CryptoError> {
    let mut bytes = Vec::with_capacity(DATA_KEY_LEN);
    std::fs::File::open(path)
        .and_then(|mut file| file.read_to_end(&mut bytes))
        .map_err(|err| unavailable(path, err))?;
    data_key_from(&bytes).map_err(|_| {
        CryptoError::Unavailable(format!(
            "{} is not a {DATA_KEY_LEN}-byte key",
            path.display()
        ))
    })
}

#[async_trait]
impl KeyManager for LocalKeyManager {
    async fn generate_data_key(
        &self,
        context: &EncryptionContext,
    ) -> Result<GeneratedKey, CryptoError> {
        let plaintext = random_data_key();
        let (nonce, sealed) = aead_seal(
            &self.master,
            plaintext.expose_secret(),
            &context.associated_data(),
        )?;
        let mut wrapped = nonce;
        wrapped.extend(sealed);
        Ok(GeneratedKey { plaintext, wrapped })
    }

    async fn unwrap_data_key(
        &self,
        wrapped: &[u8],
        context: &EncryptionContext,
    ) -> Result<DataKey, CryptoError> {
        if wrapped.len() <= NONCE_LEN {
            return Err(CryptoError::Denied);
        }
        let (nonce, sealed) = wrapped.split_at(NONCE_LEN);
        let key = aead_open(&self.master, nonce, sealed, &context.associated_data())?;
        data_key_from(&key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_master_key_file_is_owner_only_and_reused() {
        let dir = tempfile::tempdir().unwrap();
        LocalKeyManager::open(dir.path()).unwrap();
        let path = dir.path().join(MASTER_KEY_FILE);
        let first = std::fs::read(&path).unwrap();
        assert_eq!(first.len(), DATA_KEY_LEN);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        LocalKeyManager::open(dir.path()).unwrap();
        assert_eq!(
            std::fs::read(&path).unwrap(),
            first,
            "an existing key is kept"
        );
    }

    #[test]
    fn a_damaged_master_key_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(MASTER_KEY_FILE), b"short").unwrap();
        assert!(matches!(
            LocalKeyManager::open(dir.path()),
            Err(CryptoError::Unavailable(_))
        ));
    }
}
