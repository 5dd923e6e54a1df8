//! Passwords and keys for protected seed files: asked on the terminal, or read from standard
//! input (`--zip-password-stdin`, `--pskc-password-stdin`, one line each, the archive's first
//! when both are asked), or (a PSKC pre-shared key) read from a file. Never echoed, never
//! logged; asked only when a file turns out to need one.

use anyhow::{bail, Context, Result};
use secrecy::SecretString;
use std::io::BufRead;
use std::path::Path;

pub use crate::inventory::source::PasswordFrom;

/// What a password opens, for the prompt and the messages.
#[derive(Debug, Clone, Copy)]
pub enum Lock {
    Zip,
    Pskc,
}

impl Lock {
    fn flag(self) -> &'static str {
        match self {
            Lock::Zip => "--zip-password-stdin",
            Lock::Pskc => "--pskc-password-stdin",
        }
    }
    fn what(self) -> &'static str {
        match self {
            Lock::Zip => "the ZIP archive",
            Lock::Pskc => "the PSKC file",
        }
    }
}

impl PasswordFrom {
    /// The password for `lock`: a line of standard input, or asked on the terminal.
    pub fn get(&self, lock: Lock) -> Result<SecretString> {
        let from_stdin = match lock {
            Lock::Zip => self.zip_stdin,
            Lock::Pskc => self.pskc_stdin,
        };
        let text = if from_stdin {
            let mut line = String::new();
            std::io::stdin().lock().read_line(&mut line).context("cannot read the password from standard input")?;
            if line.is_empty() {
                bail!("{} was given but standard input is empty: pipe the password of {}", lock.flag(), lock.what());
            }
            line.trim_end_matches(['\n', '\r']).to_string()
        } else {
            rpassword::prompt_password(format!("Password for {}: ", lock.what())).map_err(|_| {
                anyhow::anyhow!(
                    "{} is protected by a password and there is no terminal to ask it on: pipe it with {}",
                    lock.what(),
                    lock.flag()
                )
            })?
        };
        Ok(SecretString::from(text))
    }
}

/// A pre-shared key from `--pskc-key-file`: hex (32, 48 or 64 digits, spaces and line ends
/// ignored) or the raw 16, 24 or 32 bytes. The file's content is never quoted.
pub fn read_key_file(path: &Path) -> Result<Vec<u8>> {
    let raw = std::fs::read(path).with_context(|| format!("cannot read --pskc-key-file {}", path.display()))?;
    let hex: Vec<u8> = raw.iter().copied().filter(|b| !b.is_ascii_whitespace()).collect();
    if matches!(hex.len(), 32 | 48 | 64) && hex.iter().all(u8::is_ascii_hexdigit) {
        return data_encoding::HEXLOWER_PERMISSIVE
            .decode(&hex)
            .map_err(|_| anyhow::anyhow!("--pskc-key-file {}: not hex", path.display()));
    }
    if matches!(raw.len(), 16 | 24 | 32) {
        return Ok(raw);
    }
    bail!(
        "--pskc-key-file {}: expected an AES key as 32, 48 or 64 hex digits or as 16, 24 or 32 raw bytes (the file \
         has {} bytes)",
        path.display(),
        raw.len()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_file_is_hex_or_raw() {
        let dir = tempfile::tempdir().unwrap();
        let hex = dir.path().join("hex");
        std::fs::write(&hex, "12345678901234567890123456789012\n").unwrap();
        assert_eq!(read_key_file(&hex).unwrap()[..2], [0x12, 0x34]);
        let raw = dir.path().join("raw");
        std::fs::write(&raw, [7u8; 16]).unwrap();
        assert_eq!(read_key_file(&raw).unwrap(), vec![7u8; 16]);
        let bad = dir.path().join("bad");
        std::fs::write(&bad, "zzqq").unwrap();
        let err = read_key_file(&bad).unwrap_err().to_string();
        assert!(err.contains("4 bytes") && !err.contains("zzqq"), "{err}");
    }
}
