//! Self-signed certificates for the certificate sign-in suites, made with the `openssl`
//! command line (not with the code under test), and client assertions signed by it: a third
//! implementation the client's assertions and the simulator's checks must both agree with.

use base64::Engine as _;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// Run `openssl ARGS`; a missing or failing openssl fails the test, loudly.
pub fn openssl(args: &[&str]) -> Vec<u8> {
    let out = Command::new("openssl").args(args).stdin(Stdio::null()).output().unwrap_or_else(|e| {
        panic!("the certificate tests need the openssl command line ({e}): apt-get install openssl")
    });
    assert!(out.status.success(), "openssl {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    out.stdout
}

pub fn b64url(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

pub fn b64url_decode(text: &str) -> Vec<u8> {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(text).unwrap()
}

/// A certificate and its key, as an admin would hold them.
pub struct TestCert {
    /// Certificate + private key, mode 0600: what `--certificate` takes.
    pub pem: PathBuf,
    /// The certificate alone: what the app registration (the simulator) holds.
    pub crt: PathBuf,
    /// The private key alone (PKCS#8).
    pub key: PathBuf,
    /// SHA-1 and SHA-256 of the certificate's DER, from openssl.
    pub sha1: Vec<u8>,
    pub sha256: Vec<u8>,
    /// The key's base64 lines: none may ever be printed.
    pub key_lines: Vec<String>,
}

fn fingerprint(crt: &Path, alg: &str) -> Vec<u8> {
    let text =
        String::from_utf8(openssl(&["x509", "-in", crt.to_str().unwrap(), "-noout", "-fingerprint", alg])).unwrap();
    let hex = text.trim().rsplit('=').next().unwrap().replace(':', "");
    (0..hex.len()).step_by(2).map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap()).collect()
}

impl TestCert {
    /// A new RSA-2048 key and a self-signed certificate for it, under `dir/name.*`. With
    /// `pkcs1`, the PEM holds the key as `BEGIN RSA PRIVATE KEY` (PKCS#1), else PKCS#8.
    pub fn new(dir: &Path, name: &str, pkcs1: bool) -> TestCert {
        let key = dir.join(format!("{name}.key"));
        let crt = dir.join(format!("{name}.crt"));
        let (k, c) = (key.to_str().unwrap(), crt.to_str().unwrap());
        openssl(&[
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            k,
            "-out",
            c,
            "-days",
            "2",
            "-subj",
            &format!("/CN={name}"),
        ]);
        let key_text = if pkcs1 {
            String::from_utf8(openssl(&["rsa", "-in", k, "-traditional"])).unwrap()
        } else {
            std::fs::read_to_string(&key).unwrap()
        };
        assert!(key_text.contains(if pkcs1 { "BEGIN RSA PRIVATE KEY" } else { "BEGIN PRIVATE KEY" }));
        let pem = dir.join(format!("{name}.pem"));
        std::fs::write(&pem, format!("{}{key_text}", std::fs::read_to_string(&crt).unwrap())).unwrap();
        // Owner-only, as a key must be (unix refuses others'; Windows goes by the ACL).
        #[cfg(unix)]
        for p in [&pem, &key] {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(p, std::fs::Permissions::from_mode(0o600)).unwrap();
        }
        let key_lines = key_text.lines().filter(|l| !l.starts_with("-----")).map(str::to_string).collect();
        TestCert { sha1: fingerprint(&crt, "-sha1"), sha256: fingerprint(&crt, "-sha256"), pem, crt, key, key_lines }
    }

    /// What the simulated app registration holds: the public certificate only.
    pub fn registered(&self) -> Vec<oathbulk::simulate::RegisteredCertificate> {
        oathbulk::simulate::registered_from_file(&self.crt).unwrap()
    }

    /// A client assertion signed by openssl with this key: RS256 (PKCS#1 v1.5) or PS256
    /// (PSS, salt = digest length, RFC 7518 §3.5).
    pub fn openssl_assertion(&self, header: &Value, claims: &Value, dir: &Path) -> String {
        let input = format!("{}.{}", b64url(header.to_string().as_bytes()), b64url(claims.to_string().as_bytes()));
        let file = dir.join(format!("signing-input-{}", uuid::Uuid::new_v4().simple()));
        std::fs::write(&file, &input).unwrap();
        let mut args = vec!["dgst", "-sha256", "-sign", self.key.to_str().unwrap()];
        if header["alg"] == "PS256" {
            args.extend(["-sigopt", "rsa_padding_mode:pss", "-sigopt", "rsa_pss_saltlen:digest"]);
        }
        args.push(file.to_str().unwrap());
        let signature = openssl(&args);
        format!("{input}.{}", b64url(&signature))
    }

    /// The documented header for this certificate.
    pub fn header(&self, alg: &str) -> Value {
        serde_json::json!({"alg": alg, "typ": "JWT", "x5t": b64url(&self.sha1)})
    }

    /// Verify `assertion`'s signature with openssl and this certificate's public key.
    pub fn openssl_verifies(&self, assertion: &str, dir: &Path) -> bool {
        let (input, signature) = assertion.rsplit_once('.').unwrap();
        let id = uuid::Uuid::new_v4().simple().to_string();
        let (input_file, sig_file, pub_file) =
            (dir.join(format!("in-{id}")), dir.join(format!("sig-{id}")), dir.join(format!("pub-{id}")));
        std::fs::write(&input_file, input).unwrap();
        std::fs::write(&sig_file, b64url_decode(signature)).unwrap();
        std::fs::write(&pub_file, openssl(&["x509", "-in", self.crt.to_str().unwrap(), "-noout", "-pubkey"])).unwrap();
        let header: Value = serde_json::from_slice(&b64url_decode(input.split('.').next().unwrap())).unwrap();
        let mut args =
            vec!["dgst", "-sha256", "-verify", pub_file.to_str().unwrap(), "-signature", sig_file.to_str().unwrap()];
        if header["alg"] == "PS256" {
            args.extend(["-sigopt", "rsa_padding_mode:pss", "-sigopt", "rsa_pss_saltlen:digest"]);
        }
        args.push(input_file.to_str().unwrap());
        Command::new("openssl").args(&args).output().unwrap().status.success()
    }

    /// No line of the private key in `text`.
    pub fn assert_key_absent(&self, text: &str, what: &str) {
        for line in &self.key_lines {
            assert!(!text.contains(line.as_str()), "a line of the private key in {what}");
        }
    }
}

/// Header and claims of a JWT, decoded (no verification).
pub fn decode_jwt(jwt: &str) -> (Value, Value) {
    let mut parts = jwt.split('.');
    let header = serde_json::from_slice(&b64url_decode(parts.next().unwrap())).unwrap();
    let claims = serde_json::from_slice(&b64url_decode(parts.next().unwrap())).unwrap();
    (header, claims)
}
