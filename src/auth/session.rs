//! A session's sign-in where no credential store exists (a headless Linux box without Secret
//! Service): what `oathbulk login` would keep in the store (a refresh token, say) is sealed
//! with AES-256-GCM under a key the caller holds in memory — the PowerShell module makes one
//! per session and hands it to each child process in [`SESSION_KEY_ENV`], never in argv — and
//! written to one file, `0600`, under the user's cache folder. Later runs given the same key
//! open it, renew the sign-in and seal the rotated refresh token again; without the key the
//! file is ciphertext and names only the sign-in it belongs to (authority, tenant, app).
//! `oathbulk logout` (Disconnect-OathBulk) removes it.

use super::store::Key;
use aes_gcm::aead::{Aead, AeadCore, KeyInit, OsRng, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use anyhow::{bail, Context, Result};
use base64::Engine as _;
use secrecy::{ExposeSecret, SecretBox, SecretString};
use serde::{Deserialize, Serialize};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

/// The session key: 32 random bytes in Base64, from the caller's environment.
pub const SESSION_KEY_ENV: &str = "OATHBULK_SESSION_KEY";
/// What a session file says it is; also bound into the seal, so a file of another format
/// (or one edited to claim another sign-in) does not open.
const FORMAT: &str = "oathbulk-session-1";
/// A session file is a few kilobytes; anything much larger is not one.
const MAX_FILE_BYTES: u64 = 64 * 1024;

/// A session key and the file it seals.
pub struct Session {
    key: SecretBox<[u8; 32]>,
    path: PathBuf,
}

/// The file: who the sign-in is for (in the clear, so `logout` and messages can name it),
/// and the sealed store entry.
#[derive(Serialize, Deserialize)]
struct File {
    format: String,
    key: Key,
    nonce: String,
    sealed: String,
}

impl Session {
    /// The session named by [`SESSION_KEY_ENV`]; `None` when it is unset or empty. A key that
    /// is not 32 bytes of Base64 is an error (never a weaker key used quietly).
    pub fn from_env() -> Result<Option<Self>> {
        match std::env::var(SESSION_KEY_ENV) {
            Ok(text) if !text.trim().is_empty() => Self::new(&text, &cache_dir()?).map(Some),
            _ => Ok(None),
        }
    }

    /// The session of `encoded` (Base64 of 32 bytes), its file under `cache` (the user's
    /// cache folder: `oathbulk/sessions/` below it).
    pub fn new(encoded: &str, cache: &Path) -> Result<Self> {
        super::register_raw_credential(encoded);
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(encoded.trim())
            .ok()
            .filter(|b| b.len() == 32)
            .with_context(|| format!("${SESSION_KEY_ENV} is not 32 bytes in Base64"))?;
        let mut key = [0u8; 32];
        key.copy_from_slice(&bytes);
        // The file's name comes from the key (one file per session), but tells nothing of it.
        let id = ring::digest::digest(&ring::digest::SHA256, &[b"oathbulk session file ", &key[..]].concat());
        let name: String = id.as_ref()[..16].iter().map(|b| format!("{b:02x}")).collect();
        let path = cache.join("oathbulk").join("sessions").join(format!("{name}.session"));
        Ok(Self { key: SecretBox::new(Box::new(key)), path })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Seal `entry` (the store's entry: JSON holding the secret) for `key` and replace the
    /// file with it, atomically: a reader sees the old file or the new one.
    pub fn save(&self, key: &Key, entry: &SecretString) -> Result<()> {
        let cipher = Aes256Gcm::new(self.key.expose_secret().into());
        let nonce = Aes256Gcm::generate_nonce(&mut OsRng);
        let aad = associated_data(key)?;
        let sealed = cipher
            .encrypt(&nonce, Payload { msg: entry.expose_secret().as_bytes(), aad: &aad })
            .map_err(|_| anyhow::anyhow!("cannot seal the session's sign-in"))?;
        let b64 = base64::engine::general_purpose::STANDARD;
        let file =
            File { format: FORMAT.into(), key: key.clone(), nonce: b64.encode(nonce), sealed: b64.encode(sealed) };
        write_private(&self.path, &serde_json::to_vec(&file)?)
    }

    /// The sign-in this session kept: for whom, and the store entry. `None` when there is no
    /// file; an error when the file does not open with this key (another session's, or
    /// altered): it is never half-trusted.
    pub fn load(&self) -> Result<Option<(Key, SecretString)>> {
        let Some(bytes) = read_private(&self.path)? else { return Ok(None) };
        let refused = || {
            anyhow::anyhow!(
                "the session file {} does not open with this session's key (another session's, or altered); \
                 sign in again",
                self.path.display()
            )
        };
        let file: File = serde_json::from_slice(&bytes).map_err(|_| refused())?;
        if file.format != FORMAT {
            return Err(refused());
        }
        let b64 = base64::engine::general_purpose::STANDARD;
        let nonce = b64.decode(&file.nonce).ok().filter(|n| n.len() == 12).ok_or_else(refused)?;
        let sealed = b64.decode(&file.sealed).map_err(|_| refused())?;
        let cipher = Aes256Gcm::new(self.key.expose_secret().into());
        let aad = associated_data(&file.key)?;
        let plain =
            cipher.decrypt(Nonce::from_slice(&nonce), Payload { msg: &sealed, aad: &aad }).map_err(|_| refused())?;
        let entry = SecretString::from(String::from_utf8(plain).map_err(|_| refused())?);
        Ok(Some((file.key, entry)))
    }

    /// Remove the file. True when there was one.
    pub fn remove(&self) -> Result<bool> {
        match std::fs::remove_file(&self.path) {
            Ok(()) => Ok(true),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
            Err(e) => Err(e).with_context(|| format!("cannot remove the session file {}", self.path.display())),
        }
    }
}

/// What the seal binds besides the secret: the format and whose sign-in it is, so a file
/// edited to name another tenant or app does not open.
fn associated_data(key: &Key) -> Result<Vec<u8>> {
    Ok([FORMAT.as_bytes(), b"\n", &serde_json::to_vec(key)?].concat())
}

/// The user's cache folder: `%LOCALAPPDATA%` (Windows), `~/Library/Caches` (macOS),
/// `$XDG_CACHE_HOME` or `~/.cache` (elsewhere).
fn cache_dir() -> Result<PathBuf> {
    let var = |name: &str| std::env::var_os(name).filter(|v| !v.is_empty()).map(PathBuf::from);
    let found = if cfg!(windows) {
        var("LOCALAPPDATA")
    } else if cfg!(target_os = "macos") {
        var("HOME").map(|h| h.join("Library/Caches"))
    } else {
        var("XDG_CACHE_HOME").filter(|p| p.is_absolute()).or_else(|| var("HOME").map(|h| h.join(".cache")))
    };
    found.context("no cache folder for the session file ($XDG_CACHE_HOME, $HOME or %LOCALAPPDATA% is unset)")
}

/// Write `bytes` to `path` through a new file only its owner may read (`0600` in a `0700`
/// folder on unix), renamed into place.
fn write_private(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = path.parent().context("a session file has a folder")?;
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let tmp = dir.join(format!(".{}.tmp", uuid::Uuid::new_v4().simple()));
    let mut o = std::fs::OpenOptions::new();
    o.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        o.mode(0o600).custom_flags(libc::O_NOFOLLOW);
    }
    let written = o.open(&tmp).and_then(|mut f| {
        f.write_all(bytes)?;
        f.sync_all()
    });
    if let Err(e) = written.and_then(|()| std::fs::rename(&tmp, path)) {
        let _ = std::fs::remove_file(&tmp);
        return Err(e).with_context(|| format!("cannot write the session file {}", path.display()));
    }
    Ok(())
}

/// The file's bytes (`None` when there is none), never through a symbolic link.
fn read_private(path: &Path) -> Result<Option<Vec<u8>>> {
    let mut o = std::fs::OpenOptions::new();
    o.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        o.custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK);
    }
    let file = match o.open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e).with_context(|| format!("cannot open the session file {}", path.display())),
    };
    if !file.metadata()?.is_file() {
        bail!("the session file {} is not a regular file", path.display());
    }
    let mut bytes = Vec::new();
    file.take(MAX_FILE_BYTES + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        bail!("the session file {} is too large to be one", path.display());
    }
    Ok(Some(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key_text(byte: u8) -> String {
        base64::engine::general_purpose::STANDARD.encode([byte; 32])
    }

    fn sign_in() -> Key {
        Key::new("https://login.example", "contoso.example", "app")
    }

    #[test]
    fn a_sealed_entry_opens_with_its_key_only_and_holds_no_plaintext() {
        let dir = tempfile::tempdir().unwrap();
        let mine = Session::new(&key_text(7), dir.path()).unwrap();
        let entry = SecretString::from(r#"{"secret":"rt-plain-4242"}"#.to_string());
        mine.save(&sign_in(), &entry).unwrap();
        let bytes = std::fs::read(mine.path()).unwrap();
        assert!(!String::from_utf8_lossy(&bytes).contains("rt-plain-4242"));
        let (key, back) = mine.load().unwrap().unwrap();
        assert_eq!((key, back.expose_secret()), (sign_in(), entry.expose_secret()));
        // Another key names another file; given this file, it cannot open it.
        let other = Session { path: mine.path().to_path_buf(), ..Session::new(&key_text(8), dir.path()).unwrap() };
        assert_ne!(Session::new(&key_text(8), dir.path()).unwrap().path(), mine.path());
        assert!(other.load().is_err());
        assert!(mine.remove().unwrap() && !mine.remove().unwrap());
        assert!(mine.load().unwrap().is_none());
    }

    #[test]
    fn a_file_edited_to_name_another_sign_in_does_not_open() {
        let dir = tempfile::tempdir().unwrap();
        let s = Session::new(&key_text(1), dir.path()).unwrap();
        s.save(&sign_in(), &SecretString::from("x".to_string())).unwrap();
        let text = std::fs::read_to_string(s.path()).unwrap().replace("contoso.example", "fabrikam.example");
        std::fs::write(s.path(), text).unwrap();
        assert!(s.load().is_err());
    }

    #[cfg(unix)]
    #[test]
    fn the_file_is_its_owners_alone() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let s = Session::new(&key_text(2), dir.path()).unwrap();
        s.save(&sign_in(), &SecretString::from("x".to_string())).unwrap();
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(s.path()), 0o600);
        assert_eq!(mode(s.path().parent().unwrap()), 0o700);
    }

    #[test]
    fn a_short_or_malformed_key_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        for bad in ["", "not base64!", &base64::engine::general_purpose::STANDARD.encode([1u8; 16])] {
            assert!(Session::new(bad, dir.path()).is_err(), "{bad}");
        }
    }
}
