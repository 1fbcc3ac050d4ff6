//! The runner's secret key: 32 random bytes, hex in a file readable by its owner only, and
//! AES-256-GCM sealing with a random 96-bit nonce per value.
//!
//! The key file is created on first start when absent (mode 0600, logged), so a new runner
//! needs no setup; losing it makes the stored secrets unreadable, so it belongs in backups,
//! apart from the store.

use std::fmt;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use ring::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use ring::rand::{SecureRandom, SystemRandom};

use super::{hex, unhex};

/// Bytes of key material.
const KEY_LEN: usize = 32;

/// Why the secret key could not be loaded or created.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum KeyError {
    /// The file exists but could not be read, or could not be created.
    #[error("--secret-key-file {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The file does not hold 64 hex digits.
    #[error(
        "--secret-key-file {path}: not a key (64 hex digits expected); restore the file from a backup, or move it away to start with a new key (secrets set under the old one must then be set again)"
    )]
    Malformed {
        /// The file.
        path: PathBuf,
    },
    /// The operating system gave no random bytes.
    #[error("the operating system's random number source failed")]
    Random,
}

/// Why a sealed value could not be opened, or a value sealed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SealError {
    /// The stored value was not sealed under this key, or was altered.
    #[error(
        "the secret cannot be decrypted with this runner's key (--secret-key-file): set it again, or start with the key it was set under"
    )]
    WrongKey,
    /// The operating system gave no random bytes for a nonce.
    #[error("the operating system's random number source failed")]
    Random,
}

/// The key secrets are sealed under. Its `Debug` shows nothing of it.
pub struct SecretKey {
    key: LessSafeKey,
    rng: SystemRandom,
}

impl fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretKey(***)")
    }
}

impl SecretKey {
    /// A key from 32 bytes.
    pub fn from_bytes(bytes: &[u8; KEY_LEN]) -> Self {
        // AES-256 takes any 32 bytes.
        let unbound = UnboundKey::new(&AES_256_GCM, bytes).unwrap_or_else(|_| unreachable!("32-byte key"));
        Self { key: LessSafeKey::new(unbound), rng: SystemRandom::new() }
    }

    /// A fresh random key (for tests and first starts).
    ///
    /// # Errors
    ///
    /// [`KeyError::Random`].
    pub fn generate() -> Result<(Self, [u8; KEY_LEN]), KeyError> {
        let mut bytes = [0u8; KEY_LEN];
        SystemRandom::new().fill(&mut bytes).map_err(|_| KeyError::Random)?;
        Ok((Self::from_bytes(&bytes), bytes))
    }

    /// Reads the key at `path`, or creates it there (mode 0600) when no file exists. The
    /// boolean says whether it was created.
    ///
    /// # Errors
    ///
    /// [`KeyError`] naming the file.
    pub fn load_or_create(path: &Path) -> Result<(Self, bool), KeyError> {
        let io = |source| KeyError::Io { path: path.to_owned(), source };
        match std::fs::read_to_string(path) {
            Ok(text) => {
                let bytes = unhex(text.trim())
                    .and_then(|v| <[u8; KEY_LEN]>::try_from(v).ok())
                    .ok_or_else(|| KeyError::Malformed { path: path.to_owned() })?;
                Ok((Self::from_bytes(&bytes), false))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let (key, bytes) = Self::generate()?;
                let mut options = std::fs::OpenOptions::new();
                options.write(true).create_new(true);
                #[cfg(unix)]
                std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
                let mut file = options.open(path).map_err(io)?;
                file.write_all(format!("{}\n", hex(&bytes)).as_bytes()).map_err(io)?;
                file.sync_all().map_err(io)?;
                Ok((key, true))
            }
            Err(e) => Err(io(e)),
        }
    }

    /// Seals `value` bound to `name` (a sealed value moved to another name does not open):
    /// hex of nonce || ciphertext || tag.
    ///
    /// # Errors
    ///
    /// [`SealError::Random`].
    pub fn seal(&self, name: &str, value: &str) -> Result<String, SealError> {
        let mut nonce = [0u8; NONCE_LEN];
        self.rng.fill(&mut nonce).map_err(|_| SealError::Random)?;
        let mut data = value.as_bytes().to_vec();
        self.key
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(name.as_bytes()),
                &mut data,
            )
            .map_err(|_| SealError::Random)?;
        let mut out = nonce.to_vec();
        out.extend_from_slice(&data);
        Ok(hex(&out))
    }

    /// Opens what [`seal`](Self::seal) made for `name`.
    ///
    /// # Errors
    ///
    /// [`SealError::WrongKey`] when it was sealed under another key or name, or altered.
    pub fn open(&self, name: &str, sealed: &str) -> Result<String, SealError> {
        let bytes = unhex(sealed).ok_or(SealError::WrongKey)?;
        if bytes.len() < NONCE_LEN {
            return Err(SealError::WrongKey);
        }
        let (nonce, data) = bytes.split_at(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| SealError::WrongKey)?;
        let mut data = data.to_vec();
        let plain = self
            .key
            .open_in_place(nonce, Aad::from(name.as_bytes()), &mut data)
            .map_err(|_| SealError::WrongKey)?;
        String::from_utf8(plain.to_vec()).map_err(|_| SealError::WrongKey)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seal_and_open() {
        let (key, _) = SecretKey::generate().unwrap();
        let a = key.seal("PW", "hunter2").unwrap();
        let b = key.seal("PW", "hunter2").unwrap();
        assert_ne!(a, b, "a fresh nonce per value");
        assert!(!a.contains(&hex(b"hunter2")));
        assert_eq!(key.open("PW", &a).unwrap(), "hunter2");
        assert_eq!(key.open("OTHER", &a), Err(SealError::WrongKey));
        let (other, _) = SecretKey::generate().unwrap();
        assert_eq!(other.open("PW", &a), Err(SealError::WrongKey));
        assert_eq!(key.open("PW", "00"), Err(SealError::WrongKey));
        assert_eq!(format!("{key:?}"), "SecretKey(***)");
    }

    #[test]
    fn key_file_is_created_private_then_reused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("runner.key");
        let (first, created) = SecretKey::load_or_create(&path).unwrap();
        assert!(created);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
        }
        let sealed = first.seal("X", "v").unwrap();
        let (again, created) = SecretKey::load_or_create(&path).unwrap();
        assert!(!created);
        assert_eq!(again.open("X", &sealed).unwrap(), "v");
        std::fs::write(&path, "nope").unwrap();
        let err = SecretKey::load_or_create(&path).unwrap_err().to_string();
        assert!(err.contains("64 hex digits"), "{err}");
    }
}
