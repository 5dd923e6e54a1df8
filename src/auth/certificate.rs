//! App-only sign-in with a certificate: the client credentials grant authenticated by a
//! `client_assertion` (a JWT signed with the certificate's private key) instead of a client
//! secret, as Microsoft documents it in "Microsoft identity platform application
//! authentication certificate credentials"
//! (<https://learn.microsoft.com/entra/identity-platform/certificate-credentials>).
//!
//! The assertion follows that page: header `alg` PS256 (RSASSA-PSS, SHA-256, salt of 32
//! bytes: RFC 7518 §3.5), `typ` JWT, `x5t#S256` (base64url SHA-256 of the certificate's DER),
//! plus `x5t` (its SHA-1 thumbprint, the key identifier of the page's earlier RS256 version,
//! and what Entra shows as the certificate's thumbprint); claims `aud` (the token endpoint it
//! is posted to), `iss` = `sub` = the client id, a fresh `jti`, `nbf` = `iat` = now, `exp` ten
//! minutes later ("5-10 minutes after nbf at most"). A new one is signed for every token
//! request, renewals included.
//!
//! The key: one PEM file holding the certificate and its unencrypted RSA private key (PKCS#8
//! `BEGIN PRIVATE KEY` or PKCS#1 `BEGIN RSA PRIVATE KEY`). On Unix a key file that other
//! users may read or write is refused, as ssh refuses one. Every line of the key and every
//! assertion is registered with the redactor ([`crate::redact`]) as soon as it is held.

use crate::redact;
use anyhow::{anyhow, bail, Context, Result};
use base64::Engine as _;
use ring::signature::RsaKeyPair;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use secrecy::zeroize::Zeroizing;
use secrecy::SecretString;
use std::path::{Path, PathBuf};

/// `client_assertion_type` of a JWT client assertion (RFC 7523 §2.2).
pub const ASSERTION_TYPE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
/// The end of every private-key PEM label (`BEGIN PRIVATE KEY`, `BEGIN RSA PRIVATE KEY`, …).
const KEY_MARK: &str = "PRIVATE KEY-----";
/// How long an assertion is valid: the page's upper bound, ten minutes after `nbf`.
pub const ASSERTION_LIFETIME_SECS: i64 = 600;

/// A certificate and its private key, read from a PEM file. Prints no key material.
pub struct Certificate {
    path: PathBuf,
    key: RsaKeyPair,
    sha1: Vec<u8>,
    sha256: Vec<u8>,
}

impl std::fmt::Debug for Certificate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Certificate").field("path", &self.path).field("thumbprint", &self.thumbprint()).finish()
    }
}

fn b64url(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

impl Certificate {
    /// Read `path`: the key's lines are registered with the redactor before anything else is
    /// done with them; a key file other users may read or write is refused (Unix).
    pub fn load(path: &Path) -> Result<Self> {
        let bytes = Zeroizing::new(
            std::fs::read(path).with_context(|| format!("cannot read certificate file {}", path.display()))?,
        );
        register_key_lines(&bytes);
        if bytes.windows(KEY_MARK.len()).any(|w| w == KEY_MARK.as_bytes()) {
            refuse_loose_permissions(path)?;
        }
        Self::from_pem(&bytes, path)
    }

    fn from_pem(pem: &[u8], path: &Path) -> Result<Self> {
        let shown = path.display();
        let has = |label: &str| pem.windows(label.len()).any(|w| w == label.as_bytes());
        if has("-----BEGIN ENCRYPTED PRIVATE KEY-----") || has("Proc-Type: 4,ENCRYPTED") {
            bail!(
                "the private key in {shown} is encrypted; oathbulk reads an unencrypted key only (kept safe by \
                 the file's permissions): `openssl pkey -in {shown} -out KEY.pem`, then put the certificate \
                 and KEY.pem in one file readable by you alone"
            );
        }
        // The PEM reader's own errors may quote a line of the file: never shown.
        let key = match PrivateKeyDer::from_pem_slice(pem) {
            Ok(k) => k,
            Err(_) => bail!(
                "{shown} holds no private key: it needs the certificate and its RSA private key (`BEGIN PRIVATE \
                 KEY` or `BEGIN RSA PRIVATE KEY`) in one PEM file"
            ),
        };
        let key = match &key {
            PrivateKeyDer::Pkcs8(k) => RsaKeyPair::from_pkcs8(k.secret_pkcs8_der()),
            PrivateKeyDer::Pkcs1(k) => RsaKeyPair::from_der(k.secret_pkcs1_der()),
            _ => {
                bail!("the private key in {shown} is not an RSA key: Entra certificate credentials are signed with RSA")
            }
        }
        .map_err(|why| {
            anyhow!("the private key in {shown} is not a usable RSA key ({why}): it must be RSA, 2048 to 8192 bits")
        })?;
        let mut certs = Vec::new();
        for cert in CertificateDer::pem_slice_iter(pem) {
            certs.push(cert.map_err(|_| anyhow!("{shown}: a certificate in it is not readable PEM"))?);
        }
        if certs.is_empty() {
            bail!("{shown} holds a private key but no certificate (`BEGIN CERTIFICATE`): put both in one PEM file");
        }
        // The key's public half (DER RSAPublicKey) sits verbatim in its certificate's
        // subjectPublicKeyInfo: a file may hold a chain, the signing certificate is that one.
        let public = ring::signature::KeyPair::public_key(&key).as_ref();
        let Some(der) = certs.iter().find(|c| c.as_ref().windows(public.len()).any(|w| w == public)) else {
            bail!("the private key in {shown} belongs to none of the certificates in it");
        };
        let digest = |alg| ring::digest::digest(alg, der.as_ref()).as_ref().to_vec();
        Ok(Self {
            path: path.to_path_buf(),
            sha1: digest(&ring::digest::SHA1_FOR_LEGACY_USE_ONLY),
            sha256: digest(&ring::digest::SHA256),
            key,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The SHA-1 thumbprint in upper-case hex: what the Entra admin center, Windows and
    /// PowerShell's `Thumbprint` show.
    pub fn thumbprint(&self) -> String {
        self.sha1.iter().map(|b| format!("{b:02X}")).collect()
    }

    /// A client assertion for `client_id` at the token endpoint `token_url`, valid from `now`
    /// (Unix seconds) for [`ASSERTION_LIFETIME_SECS`]. Registered with the redactor.
    pub fn assertion(&self, token_url: &str, client_id: &str, now: i64) -> Result<SecretString> {
        let header = serde_json::json!({
            "alg": "PS256",
            "typ": "JWT",
            "x5t": b64url(&self.sha1),
            "x5t#S256": b64url(&self.sha256),
        });
        let claims = serde_json::json!({
            "aud": token_url,
            "iss": client_id,
            "sub": client_id,
            "jti": uuid::Uuid::new_v4().to_string(),
            "nbf": now,
            "iat": now,
            "exp": now + ASSERTION_LIFETIME_SECS,
        });
        let signing_input =
            format!("{}.{}", b64url(header.to_string().as_bytes()), b64url(claims.to_string().as_bytes()));
        let mut signature = vec![0u8; self.key.public().modulus_len()];
        self.key
            .sign(
                &ring::signature::RSA_PSS_SHA256,
                &ring::rand::SystemRandom::new(),
                signing_input.as_bytes(),
                &mut signature,
            )
            .map_err(|_| anyhow!("cannot sign the client assertion with the key in {}", self.path.display()))?;
        let assertion = SecretString::from(format!("{signing_input}.{}", b64url(&signature)));
        redact::add_secret(&assertion);
        Ok(assertion)
    }
}

/// Every base64 line of the file's private-key blocks, registered with the redactor: no
/// part of the key can be printed even if something quoted the file.
fn register_key_lines(pem: &[u8]) {
    let text = String::from_utf8_lossy(pem);
    let mut in_key = false;
    for line in text.lines().map(str::trim) {
        if line.starts_with("-----BEGIN") {
            in_key = line.contains("PRIVATE KEY");
        } else if line.starts_with("-----END") {
            in_key = false;
        } else if in_key && !line.contains(':') {
            redact::add_secret(&SecretString::from(line.to_string()));
        }
    }
}

/// Like ssh: a private key that other users may read (or replace) is refused, not used.
#[cfg(unix)]
fn refuse_loose_permissions(path: &Path) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let meta = std::fs::metadata(path).with_context(|| format!("cannot read certificate file {}", path.display()))?;
    let mode = meta.permissions().mode() & 0o777;
    if mode & 0o077 != 0 {
        bail!(
            "certificate file {p} holds a private key and other users can access it (permissions {mode:04o}); \
             like ssh, oathbulk refuses such a key: run `chmod 600 {p}`",
            p = path.display()
        );
    }
    Ok(())
}

/// Windows: the file's ACL decides (its own folder under the user profile is private).
#[cfg(not(unix))]
fn refuse_loose_permissions(_path: &Path) -> Result<()> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_without_a_key_or_with_an_encrypted_one_is_refused_without_quoting_it() {
        let p = Path::new("c.pem");
        let cert_only = b"-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIU\n-----END CERTIFICATE-----\n";
        let e = Certificate::from_pem(cert_only, p).unwrap_err().to_string();
        assert!(e.contains("no private key"), "{e}");
        let encrypted = b"-----BEGIN ENCRYPTED PRIVATE KEY-----\nMIIFHzBJBgkqhkiG9w0BBQ0wPDAbBgkqhkiG9w0BBQww\n-----END ENCRYPTED PRIVATE KEY-----\n";
        let e = Certificate::from_pem(encrypted, p).unwrap_err().to_string();
        assert!(e.contains("encrypted") && !e.contains("MIIFHzBJ"), "{e}");
        let garbage_key = b"-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n-----END PRIVATE KEY-----\n";
        let e = Certificate::from_pem(garbage_key, p).unwrap_err().to_string();
        assert!(e.contains("not a usable RSA key") && !e.contains("MIIEvQIB"), "{e}");
    }

    #[test]
    fn key_lines_are_registered_with_the_redactor() {
        register_key_lines(b"-----BEGIN CERTIFICATE-----\nCERTLINEabcdefgh\n-----END CERTIFICATE-----\n-----BEGIN RSA PRIVATE KEY-----\nKEYLINEunit1234567\n-----END RSA PRIVATE KEY-----\n");
        assert_eq!(redact::scrub("x KEYLINEunit1234567 y"), "x [REDACTED] y");
        assert_eq!(redact::scrub("CERTLINEabcdefgh"), "CERTLINEabcdefgh", "the certificate is public");
    }

    #[cfg(unix)]
    #[test]
    fn a_key_file_others_can_read_is_refused() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("app.pem");
        std::fs::write(&p, "-----BEGIN PRIVATE KEY-----\n").unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o644)).unwrap();
        let e = Certificate::load(&p).unwrap_err().to_string();
        assert!(e.contains("chmod 600") && e.contains("0644"), "{e}");
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o600)).unwrap();
        let e = Certificate::load(&p).unwrap_err().to_string();
        assert!(!e.contains("chmod"), "{e}");
    }
}
