//! Client assertions (certificate credentials) as the simulated token endpoint checks them.
//!
//! Written from the specifications — Microsoft's "certificate credentials" page
//! (<https://learn.microsoft.com/entra/identity-platform/certificate-credentials>), RFC 7515
//! (JWS compact form, `x5t`, `x5t#S256`), RFC 7518 (RS256, PS256) and RFC 7519 (claims) — and
//! never from the client's code (`auth::certificate`): a simulator that shared the client's
//! assumptions would prove nothing. The signature is verified with the registered
//! certificate's public key as parsed by `webpki`; the client signs with `ring` directly and
//! never parses a certificate, so the two meet only in the wire format.
//!
//! Refusals answer `invalid_client` with the AADSTS code Entra gives for the same fault.

use anyhow::{bail, Context, Result};
use base64::Engine as _;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::CertificateDer;
use serde_json::Value;

/// Clock skew allowed on `nbf` and `exp`: the five minutes Microsoft's token validation
/// allows by default.
pub(crate) const SKEW_SECS: i64 = 300;

/// A certificate registered on the app (`keyCredentials`): only its public part.
#[derive(Clone)]
pub struct RegisteredCertificate {
    der: Vec<u8>,
    sha1: Vec<u8>,
    sha256: Vec<u8>,
}

impl std::fmt::Debug for RegisteredCertificate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&hex(&self.sha1))
    }
}

impl RegisteredCertificate {
    /// Every certificate of a PEM file (a private key beside it is ignored, never read).
    pub fn from_pem(pem: &[u8]) -> Result<Vec<RegisteredCertificate>> {
        let mut out = Vec::new();
        for cert in CertificateDer::pem_slice_iter(pem) {
            let cert = cert.map_err(|_| anyhow::anyhow!("a certificate in it is not readable PEM"))?;
            out.push(Self::from_der(cert.as_ref())?);
        }
        if out.is_empty() {
            bail!("no certificate (`BEGIN CERTIFICATE`) in it");
        }
        Ok(out)
    }

    pub fn from_der(der: &[u8]) -> Result<RegisteredCertificate> {
        let cert = CertificateDer::from(der);
        webpki::EndEntityCert::try_from(&cert)
            .map_err(|e| anyhow::anyhow!("the simulator cannot read this X.509 certificate ({e:?})"))?;
        let digest = |alg| ring::digest::digest(alg, der).as_ref().to_vec();
        Ok(RegisteredCertificate {
            der: der.to_vec(),
            sha1: digest(&ring::digest::SHA1_FOR_LEGACY_USE_ONLY),
            sha256: digest(&ring::digest::SHA256),
        })
    }

    /// SHA-1 thumbprint, upper-case hex (as the Entra admin center shows it).
    pub fn thumbprint(&self) -> String {
        hex(&self.sha1)
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02X}")).collect()
}

/// Why an assertion was refused: the AADSTS code and Entra's description.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Refusal {
    pub(crate) code: u32,
    pub(crate) description: String,
}

fn refuse(code: u32, description: impl Into<String>) -> Refusal {
    Refusal { code, description: description.into() }
}

/// What a valid assertion told the endpoint.
#[derive(Debug)]
pub(crate) struct Accepted {
    pub(crate) jti: String,
}

/// What the endpoint expects of an assertion.
pub(crate) struct Expected<'a> {
    pub(crate) client_id: &'a str,
    /// The token endpoint's URL as the client reached it.
    pub(crate) audience: &'a str,
    /// Simulator clock, Unix seconds.
    pub(crate) now: i64,
}

fn malformed() -> Refusal {
    refuse(50027, "JWT token is invalid or malformed.")
}

fn decode_part(part: &str) -> Result<Vec<u8>, Refusal> {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(part).map_err(|_| malformed())
}

fn json_object(part: &str) -> Result<serde_json::Map<String, Value>, Refusal> {
    match serde_json::from_slice::<Value>(&decode_part(part)?) {
        Ok(Value::Object(m)) => Ok(m),
        _ => Err(malformed()),
    }
}

/// A NumericDate (RFC 7519 §2): a JSON number, seconds; fractions allowed.
fn numeric_date(claims: &serde_json::Map<String, Value>, name: &str) -> Result<Option<i64>, Refusal> {
    match claims.get(name) {
        None => Ok(None),
        Some(v) => match v.as_i64().or_else(|| v.as_f64().filter(|f| f.is_finite()).map(|f| f.floor() as i64)) {
            Some(n) => Ok(Some(n)),
            None => Err(malformed()),
        },
    }
}

/// Check `assertion` against the registered certificates and what the endpoint expects.
pub(crate) fn verify(
    assertion: &str,
    registered: &[RegisteredCertificate],
    expected: &Expected<'_>,
) -> Result<Accepted, Refusal> {
    // JWS compact serialization: exactly three base64url parts (RFC 7515 §7.1).
    let parts: Vec<&str> = assertion.split('.').collect();
    let [header_b64, claims_b64, signature_b64] = parts[..] else { return Err(malformed()) };
    let header = json_object(header_b64)?;
    let claims = json_object(claims_b64)?;
    let signature = decode_part(signature_b64)?;

    let alg = header.get("alg").and_then(Value::as_str).unwrap_or("");
    let algorithm: &dyn rustls_pki_types::SignatureVerificationAlgorithm = match alg {
        "RS256" => webpki::ring::RSA_PKCS1_2048_8192_SHA256,
        "PS256" => webpki::ring::RSA_PSS_2048_8192_SHA256_LEGACY_KEY,
        other => {
            return Err(refuse(
                700027,
                format!("Client assertion contains an invalid signature. [Reason - The signing algorithm '{other}' is not supported.]"),
            ))
        }
    };
    if header.get("typ").and_then(Value::as_str).is_some_and(|t| !t.eq_ignore_ascii_case("JWT")) {
        return Err(malformed());
    }
    // The key identifier: x5t (SHA-1) and/or x5t#S256 (SHA-256) of the certificate's DER.
    let x5t = header.get("x5t").and_then(Value::as_str).map(decode_part).transpose()?;
    let x5t_s256 = header.get("x5t#S256").and_then(Value::as_str).map(decode_part).transpose()?;
    if x5t.is_none() && x5t_s256.is_none() {
        return Err(refuse(700027, "Client assertion contains an invalid signature. [Reason - The key identifier (x5t or x5t#S256) is missing.]"));
    }
    let named = |c: &&RegisteredCertificate| {
        x5t.as_ref().is_none_or(|t| *t == c.sha1) && x5t_s256.as_ref().is_none_or(|t| *t == c.sha256)
    };
    let Some(cert) = registered.iter().find(named) else {
        let shown = x5t.as_deref().or(x5t_s256.as_deref()).map(hex).unwrap_or_default();
        return Err(refuse(
            700027,
            format!(
                "Client assertion contains an invalid signature. [Reason - The key was not found., Thumbprint of key used by client: '{shown}', Configured keys for app Id '{}': {registered:?}]",
                expected.client_id
            ),
        ));
    };
    let der = CertificateDer::from(cert.der.as_slice());
    let parsed = webpki::EndEntityCert::try_from(&der).map_err(|_| malformed())?;
    let signed = &assertion.as_bytes()[..header_b64.len() + 1 + claims_b64.len()];
    if parsed.verify_signature(algorithm, signed, &signature).is_err() {
        return Err(refuse(
            700027,
            format!(
                "Client assertion contains an invalid signature. [Reason - The provided signature value did not match the expected signature value., Thumbprint of key used by client: '{}']",
                cert.thumbprint()
            ),
        ));
    }

    // Claims (RFC 7519 §4.1; the page's table).
    let text = |name: &str| claims.get(name).and_then(Value::as_str);
    let audience_ok = match claims.get("aud") {
        Some(Value::String(a)) => a == expected.audience,
        Some(Value::Array(list)) => list.iter().any(|a| a.as_str() == Some(expected.audience)),
        _ => false,
    };
    if !audience_ok {
        return Err(refuse(
            700023,
            format!("Client assertion audience claim does not match Realm issuer. Expected '{}'.", expected.audience),
        ));
    }
    if text("iss") != Some(expected.client_id) || text("sub") != Some(expected.client_id) {
        return Err(refuse(700021, "Client assertion application identifier doesn't match 'client_id' parameter."));
    }
    let exp = numeric_date(&claims, "exp")?.ok_or_else(malformed)?;
    let nbf = numeric_date(&claims, "nbf")?;
    if expected.now >= exp.saturating_add(SKEW_SECS) || nbf.is_some_and(|n| n > expected.now.saturating_add(SKEW_SECS))
    {
        return Err(refuse(
            700024,
            format!(
                "Client assertion is not within its valid time range. Current time: {}, assertion valid from {}, expiry time of assertion {}.",
                expected.now,
                nbf.map(|n| n.to_string()).unwrap_or_else(|| "(none)".into()),
                exp
            ),
        ));
    }
    let jti = text("jti").filter(|j| !j.is_empty()).ok_or_else(malformed)?;
    Ok(Accepted { jti: jti.to_string() })
}

/// Read the certificates an app is registered with, for `SimConfig::client_certificates`.
pub fn registered_from_file(path: &std::path::Path) -> Result<Vec<RegisteredCertificate>> {
    let pem = std::fs::read(path).with_context(|| format!("cannot read certificate file {}", path.display()))?;
    RegisteredCertificate::from_pem(&pem).with_context(|| format!("certificate file {}", path.display()))
}
