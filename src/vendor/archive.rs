//! A password ZIP (AES or ZipCrypto, as Token2 and Feitian send seed files; Feitian's are
//! sometimes renamed `.pdf`): its one seed file is read into memory and never written out.

use super::password::{Lock, PasswordFrom};
use anyhow::{bail, Context, Result};
use secrecy::ExposeSecret;
use std::io::{Cursor, Read};

/// Local file header: how every ZIP starts, whatever its name.
pub fn looks_like_zip(head: &[u8]) -> bool {
    head.starts_with(b"PK\x03\x04")
}

/// The size of an unpacked seed file past which it is refused (a ZIP bomb, not a vendor file).
const MAX_UNPACKED: u64 = 64 << 20;

/// The seed file inside `archive`: the one file there is, or the one file whose name ends in
/// `.csv`, `.pskc`, `.xml` or `.txt`. Asks the password only if the entry is encrypted.
pub fn seed_file(archive: Vec<u8>, passwords: &PasswordFrom) -> Result<Vec<u8>> {
    let mut zip =
        zip::ZipArchive::new(Cursor::new(archive)).context("the file starts as a ZIP but is not a valid one")?;
    let files: Vec<(usize, String)> = (0..zip.len())
        .filter_map(|i| {
            let entry = zip.by_index_raw(i).ok()?;
            (!entry.is_dir()).then(|| (i, entry.name().map(|n| n.to_string()).unwrap_or_default()))
        })
        .collect();
    let seedy = |name: &str| {
        let lower = name.to_ascii_lowercase();
        [".csv", ".pskc", ".pskcxml", ".xml", ".txt"].iter().any(|e| lower.ends_with(e))
    };
    let index = match files.as_slice() {
        [] => bail!("the ZIP archive holds no file"),
        [(i, _)] => *i,
        more => match more.iter().filter(|(_, n)| seedy(n)).collect::<Vec<_>>().as_slice() {
            [(i, _)] => *i,
            _ => bail!(
                "the ZIP archive holds {} files ({}): expected one seed file (.csv or .pskc)",
                more.len(),
                more.iter().map(|(_, n)| format!("'{n}'")).collect::<Vec<_>>().join(", ")
            ),
        },
    };
    let encrypted = zip.by_index_raw(index)?.encrypted();
    let mut out = Vec::new();
    let entry = if encrypted {
        let password = passwords.get(Lock::Zip)?;
        match zip.by_index_decrypt(index, password.expose_secret().as_bytes()) {
            Ok(entry) => entry,
            Err(zip::result::ZipError::InvalidPassword) => bail!("the ZIP archive's password is wrong"),
            Err(e) => return Err(e).context("cannot open the file inside the ZIP archive"),
        }
    } else {
        zip.by_index(index)?
    };
    entry.take(MAX_UNPACKED + 1).read_to_end(&mut out).map_err(|e| {
        // ZipCrypto's password check passes one wrong password in 256; the CRC (or AES's
        // MAC) at the end then fails.
        anyhow::anyhow!("cannot read the file inside the ZIP archive (a wrong password, or a damaged archive): {e}")
    })?;
    if out.len() as u64 > MAX_UNPACKED {
        bail!("the file inside the ZIP archive unpacks to more than {} MiB: not a seed file", MAX_UNPACKED >> 20);
    }
    Ok(out)
}
