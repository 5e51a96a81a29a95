//! Secrets at rest: tenant credentials for outside systems are sealed with ChaCha20-Poly1305
//! under a key that never lives in the database.
//!
//! The key is derived from `secret_key` (`LOKET_SECRET_KEY`) when that is set; otherwise it is
//! generated once into `secret.key` next to the SQLite database. Without either (PostgreSQL and
//! no `secret_key`) a per-process key is used, and stored secrets must be entered again after a
//! restart: the server warns about that at start-up.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use chacha20poly1305::aead::{Aead, KeyInit};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};
use rand::RngCore;
use sha2::{Digest, Sha256};
use std::fmt;
use std::path::Path;

/// Seals and opens short secrets. `Debug` never shows the key.
#[derive(Clone)]
pub struct SecretBox {
    cipher: ChaCha20Poly1305,
}

impl fmt::Debug for SecretBox {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretBox(***)")
    }
}

const KEY_FILE: &str = "secret.key";

impl SecretBox {
    pub fn from_key(key: [u8; 32]) -> Self {
        Self {
            cipher: ChaCha20Poly1305::new(Key::from_slice(&key)),
        }
    }

    /// The key for this server: from the configured secret, else the data dir's key file.
    pub fn for_config(secret_key: &str, database_url: &str) -> anyhow::Result<Self> {
        if !secret_key.is_empty() {
            let mut h = Sha256::new();
            h.update(b"loket/secrets-at-rest/v1\0");
            h.update(secret_key.as_bytes());
            return Ok(Self::from_key(h.finalize().into()));
        }
        if let Some(dir) = sqlite_dir(database_url) {
            return Ok(Self::from_key(key_file(&dir.join(KEY_FILE))?));
        }
        tracing::warn!(
            "no secret_key configured (LOKET_SECRET_KEY): stored tenant credentials cannot be read after a restart"
        );
        let mut k = [0u8; 32];
        rand::thread_rng().fill_bytes(&mut k);
        Ok(Self::from_key(k))
    }

    /// `base64(nonce || ciphertext)`; `aad` binds the secret to its owner (e.g. the tenant).
    pub fn seal(&self, plain: &str, aad: &str) -> String {
        let mut nonce = [0u8; 12];
        rand::thread_rng().fill_bytes(&mut nonce);
        let ct = self
            .cipher
            .encrypt(
                Nonce::from_slice(&nonce),
                chacha20poly1305::aead::Payload {
                    msg: plain.as_bytes(),
                    aad: aad.as_bytes(),
                },
            )
            .expect("encryption of a short secret");
        let mut out = nonce.to_vec();
        out.extend_from_slice(&ct);
        B64.encode(out)
    }

    /// The secret, or `None` when it was sealed under another key or for another owner.
    pub fn open(&self, sealed: &str, aad: &str) -> Option<String> {
        let raw = B64.decode(sealed).ok()?;
        if raw.len() < 12 + 16 {
            return None;
        }
        let (nonce, ct) = raw.split_at(12);
        let plain = self
            .cipher
            .decrypt(
                Nonce::from_slice(nonce),
                chacha20poly1305::aead::Payload {
                    msg: ct,
                    aad: aad.as_bytes(),
                },
            )
            .ok()?;
        String::from_utf8(plain).ok()
    }
}

fn sqlite_dir(url: &str) -> Option<std::path::PathBuf> {
    let rest = url
        .strip_prefix("sqlite://")
        .or(url.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next()?;
    if path.is_empty() || path.contains(":memory:") {
        return None;
    }
    Path::new(path).parent().map(|p| p.to_path_buf())
}

/// Reads the 32-byte key file, creating it (mode 0600) the first time.
fn key_file(path: &Path) -> anyhow::Result<[u8; 32]> {
    if let Ok(bytes) = std::fs::read(path) {
        return bytes
            .try_into()
            .map_err(|_| anyhow::anyhow!("{} is not a 32-byte key", path.display()));
    }
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let mut k = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut k);
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    match opts.open(path) {
        Ok(mut f) => {
            use std::io::Write;
            f.write_all(&k)?;
            f.sync_all()?;
            tracing::info!(path = %path.display(), "generated the key for secrets at rest");
            Ok(k)
        }
        // Another process made it first: use theirs.
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => key_file(path),
        Err(e) => Err(e.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seal_open_round_trip_and_binding() {
        let b = SecretBox::from_key([7; 32]);
        let s = b.seal("tok-123", "utrecht");
        assert!(!s.contains("tok-123"));
        assert_eq!(b.open(&s, "utrecht").as_deref(), Some("tok-123"));
        assert_eq!(b.open(&s, "amsterdam"), None);
        assert_eq!(SecretBox::from_key([8; 32]).open(&s, "utrecht"), None);
        assert_ne!(s, b.seal("tok-123", "utrecht"), "fresh nonce each time");
        assert!(!format!("{b:?}").contains('7'));
    }
}
