//! PSKC (RFC 6030), the XML key container Feitian and others ship seeds in: secrets as plain
//! Base64 values, or encrypted with AES-CBC under a pre-shared key or a key derived from a
//! password (PBKDF2), each encrypted value authenticated by an HMAC-SHA1 `ValueMAC`.
//!
//! The order is the safety: the file's key is found (a wrong one fails at the MAC key), then
//! EVERY encrypted secret's MAC is checked, and only then is any secret decrypted. A wrong
//! key or an altered file is refused whole, before one secret is used. No message quotes a
//! value of the file other than its serials and algorithm names.

use aes::cipher::{block_padding::Pkcs7, BlockModeDecrypt, KeyIvInit};
use anyhow::{anyhow, bail, Context, Result};
use hmac::{KeyInit, Mac};
use roxmltree::{Document, Node};
use secrecy::ExposeSecret;
use secrecy::SecretString;

/// No vendor file comes near this; beyond it the file is refused, not read.
pub const MAX_BYTES: u64 = 64 << 20;
/// PBKDF2 rounds beyond this are a file built to stall the reader, not a vendor's.
const MAX_ITERATIONS: u32 = 10_000_000;

/// One `KeyPackage` of the file, decoded.
pub struct Key {
    /// The line of the file where the package starts.
    pub line: u64,
    pub serial: String,
    pub manufacturer: String,
    pub model: String,
    /// The `Algorithm` URI of the key (`urn:ietf:params:xml:ns:keyprov:pskc:totp`, …).
    pub algorithm: String,
    /// `ResponseFormat Length`: digits of a code.
    pub digits: Option<u32>,
    /// `Suite` (`HMAC-SHA256`, …), empty when the file has none.
    pub suite: String,
    /// `TimeInterval`'s plain value, empty when the file has none.
    pub time_interval: String,
    pub has_counter: bool,
    /// The seed, or why the package has none (never a value of the file).
    pub secret: Result<Vec<u8>, String>,
}

/// What opens an encrypted file: a pre-shared key (`--pskc-key-file`), or a password, asked
/// only when the file is protected by one.
pub struct Opener<'a> {
    pub key: Option<&'a [u8]>,
    pub password: &'a dyn Fn() -> Result<SecretString>,
}

/// Is this the start of an XML document (after a BOM and blanks)?
pub fn looks_like_xml(head: &[u8]) -> bool {
    let head = head.strip_prefix(&[0xEF, 0xBB, 0xBF]).unwrap_or(head);
    head.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'<')
}

/// Decode every key package of a PSKC document.
pub fn decode(xml: &[u8], opener: &Opener) -> Result<Vec<Key>> {
    let text = std::str::from_utf8(xml).context("the PSKC file is not UTF-8")?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    // roxmltree expands no external entity and refuses a DTD: nothing outside the file is read.
    let doc = Document::parse(text).map_err(|e| anyhow!("the PSKC file is not well-formed XML: {e}"))?;
    let root = doc.root_element();
    if root.tag_name().name() != "KeyContainer" {
        bail!("not a PSKC file: its root element is '{}', not KeyContainer (RFC 6030)", root.tag_name().name());
    }
    let line = |n: Node| u64::from(doc.text_pos_at(n.range().start).row);
    let packages: Vec<Node> = children(root, "KeyPackage").collect();
    let secrets: Vec<Option<Node>> = packages.iter().map(|p| path(*p, &["Key", "Data", "Secret"])).collect();
    let encrypted: Vec<(Node, Node)> = packages
        .iter()
        .zip(&secrets)
        .filter_map(|(p, s)| s.filter(|s| child(*s, "EncryptedValue").is_some()).map(|s| (*p, s)))
        .collect();
    let crypto = if encrypted.is_empty() { None } else { Some(Crypto::open(root, opener)?) };
    if let Some(crypto) = &crypto {
        for (package, secret) in &encrypted {
            crypto.verify(*secret, line(*package))?;
        }
    }
    Ok(packages.iter().zip(secrets).map(|(p, s)| key_of(*p, s, crypto.as_ref(), line(*p))).collect())
}

fn key_of(package: Node, secret: Option<Node>, crypto: Option<&Crypto>, line: u64) -> Key {
    let device = |name: &str| path(package, &["DeviceInfo", name]).map(text).unwrap_or_default().to_string();
    let key = child(package, "Key");
    let param = |name: &str| key.and_then(|k| path(k, &["AlgorithmParameters", name]));
    let data = |name: &str| key.and_then(|k| path(k, &["Data", name]));
    let secret = match secret {
        None => Err("the key package has no secret".to_string()),
        Some(s) => match (child(s, "PlainValue"), crypto) {
            (Some(plain), _) => base64(text(plain)).ok_or_else(|| "the secret's PlainValue is not Base64".to_string()),
            (None, Some(crypto)) => crypto.decrypt(s),
            (None, None) => Err("the secret has neither a PlainValue nor an EncryptedValue".to_string()),
        },
    };
    Key {
        line,
        serial: device("SerialNo"),
        manufacturer: device("Manufacturer"),
        model: device("Model"),
        algorithm: key.and_then(|k| k.attribute("Algorithm")).unwrap_or_default().trim().to_string(),
        digits: param("ResponseFormat").and_then(|r| r.attribute("Length")).and_then(|l| l.trim().parse().ok()),
        suite: param("Suite").map(text).unwrap_or_default().to_string(),
        time_interval: data("TimeInterval").and_then(|t| child(t, "PlainValue")).map(text).unwrap_or_default().into(),
        has_counter: data("Counter").is_some(),
        secret,
    }
}

/// The keys of an encrypted file: the one that decrypts, the one that authenticates.
struct Crypto {
    key: Vec<u8>,
    mac_key: Vec<u8>,
}

impl Crypto {
    fn open(root: Node, opener: &Opener) -> Result<Self> {
        let encryption = child(root, "EncryptionKey");
        let key = match encryption.and_then(|e| child(e, "DerivedKey")) {
            Some(derived) => derive(derived, opener.password)?,
            None => {
                let Some(key) = opener.key else {
                    let name = encryption.and_then(|e| child(e, "KeyName")).map(text).unwrap_or_default();
                    let named = if name.is_empty() {
                        String::new()
                    } else {
                        format!(" (named {} in the file)", crate::inventory::quote_cell(name))
                    };
                    bail!(
                        "the PSKC file's secrets are encrypted with a pre-shared key{named}: pass --pskc-key-file FILE \
                         (the key in hex, as the vendor sent it)"
                    );
                };
                key.to_vec()
            }
        };
        let method = child(root, "MACMethod");
        if let Some(algorithm) = method.and_then(|m| m.attribute("Algorithm")) {
            if !algorithm.trim().ends_with("hmac-sha1") {
                bail!(
                    "the PSKC file's MAC algorithm '{}' is not supported (HMAC-SHA1 is, as RFC 6030 asks)",
                    algorithm
                );
            }
        }
        // Without a MACKey (files of RFC 6030's drafts) the MAC key is the encryption key.
        let mac_key = match method.and_then(|m| child(m, "MACKey")) {
            None => key.clone(),
            Some(mac_key) => decrypt_value(&key, mac_key).map_err(|_| {
                anyhow!(
                    "the key or password does not open this PSKC file (its MAC key does not decrypt): a wrong \
                     --pskc-key-file or password, or an altered file; no secret was read"
                )
            })?,
        };
        Ok(Self { key, mac_key })
    }

    /// The secret's `ValueMAC` is the HMAC of its whole `CipherValue` (IV and ciphertext).
    fn verify(&self, secret: Node, line: u64) -> Result<()> {
        let value = child(secret, "EncryptedValue").expect("only encrypted secrets are verified");
        let cipher = cipher_value(value).ok_or_else(|| anyhow!("line {line}: the encrypted secret is not Base64"))?;
        let Some(mac) = child(secret, "ValueMAC").and_then(|m| base64(text(m))) else {
            bail!("line {line}: the encrypted secret has no ValueMAC: nothing authenticates it, so it is refused");
        };
        let mut hmac = hmac::Hmac::<sha1::Sha1>::new_from_slice(&self.mac_key).expect("HMAC takes any key length");
        hmac.update(&cipher);
        hmac.verify_slice(&mac).map_err(|_| {
            anyhow!(
                "line {line}: the MAC of the encrypted secret does not match: a wrong --pskc-key-file or password, or \
                 an altered file; the file is refused and no secret was used"
            )
        })
    }

    fn decrypt(&self, secret: Node) -> Result<Vec<u8>, String> {
        let value = child(secret, "EncryptedValue").ok_or("the secret has no EncryptedValue")?;
        decrypt_value(&self.key, value).map_err(|e| format!("the secret does not decrypt: {e}"))
    }
}

/// PBKDF2 (HMAC-SHA1, the only PRF RFC 6030's examples and python-pskc write) from the
/// file's salt, rounds and key length, and the password.
fn derive(derived: Node, password: &dyn Fn() -> Result<SecretString>) -> Result<Vec<u8>> {
    let method = child(derived, "KeyDerivationMethod").context("the PSKC DerivedKey has no KeyDerivationMethod")?;
    let algorithm = method.attribute("Algorithm").unwrap_or_default().trim();
    if !algorithm.ends_with("pbkdf2") {
        bail!("the PSKC key derivation '{algorithm}' is not supported (PBKDF2 is)");
    }
    let params = child(method, "PBKDF2-params").context("the PSKC PBKDF2 method has no PBKDF2-params")?;
    let salt = path(params, &["Salt", "Specified"])
        .and_then(|s| base64(text(s)))
        .context("the PSKC PBKDF2 parameters have no Base64 salt")?;
    let rounds: u32 = child(params, "IterationCount")
        .and_then(|n| text(n).parse().ok())
        .filter(|n| (1..=MAX_ITERATIONS).contains(n))
        .with_context(|| format!("the PSKC PBKDF2 IterationCount is missing or not 1 to {MAX_ITERATIONS}"))?;
    let length: usize = child(params, "KeyLength").map_or(Some(16), |n| text(n).parse().ok()).unwrap_or(0);
    if !matches!(length, 16 | 24 | 32) {
        bail!("the PSKC PBKDF2 KeyLength is not 16, 24 or 32 bytes (an AES key)");
    }
    if let Some(prf) = child(params, "PRF").and_then(|p| p.attribute("Algorithm")) {
        if !prf.trim().ends_with("hmac-sha1") {
            bail!("the PSKC PBKDF2 PRF '{prf}' is not supported (HMAC-SHA1 is)");
        }
    }
    let password = password()?;
    let mut key = vec![0u8; length];
    pbkdf2::pbkdf2_hmac::<sha1::Sha1>(password.expose_secret().as_bytes(), &salt, rounds, &mut key);
    Ok(key)
}

/// Decrypt an element holding `EncryptionMethod` and `CipherData/CipherValue` (IV first).
fn decrypt_value(key: &[u8], holder: Node) -> Result<Vec<u8>> {
    let algorithm = child(holder, "EncryptionMethod").and_then(|m| m.attribute("Algorithm")).unwrap_or_default();
    let data = cipher_value(holder).context("the CipherValue is not Base64")?;
    let expected = match algorithm.trim().rsplit('#').next().unwrap_or_default() {
        "aes128-cbc" => 16,
        "aes192-cbc" => 24,
        "aes256-cbc" => 32,
        _ => bail!("encryption '{algorithm}' is not supported (AES-128, -192 or -256 in CBC mode are)"),
    };
    if key.len() != expected {
        bail!("the key has {} bytes, and {algorithm} takes {expected}", key.len());
    }
    if data.len() < 32 || data.len() % 16 != 0 {
        bail!("the CipherValue is not an IV and whole AES blocks");
    }
    let (iv, body) = data.split_at(16);
    let mut buf = body.to_vec();
    let padding = |_| anyhow!("the padding is wrong (a wrong key)");
    let len = match expected {
        16 => cbc::Decryptor::<aes::Aes128>::new_from_slices(key, iv)?
            .decrypt_padded::<Pkcs7>(&mut buf)
            .map_err(padding)?
            .len(),
        24 => cbc::Decryptor::<aes::Aes192>::new_from_slices(key, iv)?
            .decrypt_padded::<Pkcs7>(&mut buf)
            .map_err(padding)?
            .len(),
        _ => cbc::Decryptor::<aes::Aes256>::new_from_slices(key, iv)?
            .decrypt_padded::<Pkcs7>(&mut buf)
            .map_err(padding)?
            .len(),
    };
    buf.truncate(len);
    Ok(buf)
}

fn cipher_value(holder: Node) -> Option<Vec<u8>> {
    path(holder, &["CipherData", "CipherValue"]).and_then(|v| base64(text(v)))
}

/// Elements are matched by local name: vendors write PSKC with and without prefixes, and
/// some with the namespaces of RFC 6030's drafts.
fn child<'a, 'i>(node: Node<'a, 'i>, name: &str) -> Option<Node<'a, 'i>> {
    node.children().find(|c| c.is_element() && c.tag_name().name() == name)
}

fn children<'a, 'i: 'a>(node: Node<'a, 'i>, name: &'a str) -> impl Iterator<Item = Node<'a, 'i>> + 'a {
    node.children().filter(move |c| c.is_element() && c.tag_name().name() == name)
}

fn path<'a, 'i>(node: Node<'a, 'i>, names: &[&str]) -> Option<Node<'a, 'i>> {
    names.iter().try_fold(node, |n, name| child(n, name))
}

fn text<'a>(node: Node<'a, '_>) -> &'a str {
    node.text().unwrap_or_default().trim()
}

/// Base64 as XML carries it: line breaks and blanks anywhere.
fn base64(text: &str) -> Option<Vec<u8>> {
    use base64::Engine;
    let compact: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    base64::engine::general_purpose::STANDARD.decode(compact).ok()
}
