//! Where a code is computed: RFC 6238 (TOTP over RFC 4226 HOTP) via `totp-rs`,
//! plus the step/expiry arithmetic the activation engine needs.
//!
//! This module knows nothing about CSV or HTTP: it takes a decoded secret and an
//! instant. The simulator uses the same functions to *verify* codes, so the two
//! sides always agree on the maths (the HTTP code paths stay separate).

use serde::{Deserialize, Serialize};
use totp_rs::{Algorithm, TOTP};

/// Verification codes Entra accepts are always six digits.
pub const DIGITS: usize = 6;

/// The HMAC a token uses. Entra knows two (`hmacsha1`, `hmacsha256`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum HashFunction {
    #[default]
    Sha1,
    Sha256,
}

impl HashFunction {
    /// Accepts the spellings vendors and Graph use: `sha1`, `SHA-1`, `hmacsha1`, …
    pub fn parse(text: &str) -> Option<Self> {
        // The spellings files carry on every row, without building a folded copy.
        for (spelling, hash) in [("sha1", Self::Sha1), ("sha256", Self::Sha256)] {
            if text.eq_ignore_ascii_case(spelling) {
                return Some(hash);
            }
        }
        let folded: String =
            text.chars().filter(|c| !matches!(c, '-' | '_' | ' ')).flat_map(char::to_lowercase).collect();
        match folded.strip_prefix("hmac").unwrap_or(&folded) {
            "sha1" => Some(Self::Sha1),
            "sha256" => Some(Self::Sha256),
            _ => None,
        }
    }

    /// The Graph spelling (`hashFunction`).
    pub fn graph_name(self) -> &'static str {
        match self {
            Self::Sha1 => "hmacsha1",
            Self::Sha256 => "hmacsha256",
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Sha1 => "sha1",
            Self::Sha256 => "sha256",
        }
    }

    fn algorithm(self) -> Algorithm {
        match self {
            Self::Sha1 => Algorithm::SHA1,
            Self::Sha256 => Algorithm::SHA256,
        }
    }
}

/// A computed code and where it sits in time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Code {
    /// Zero-padded decimal digits ("012345" is a valid code).
    pub code: String,
    /// The TOTP counter: `floor(unix / period)`.
    pub step: u64,
    /// Seconds until the code rolls over (1..=period).
    pub valid_for: u32,
}

/// The TOTP counter for an instant.
pub fn step_at(unix: u64, period: u32) -> u64 {
    unix / u64::from(period.max(1))
}

/// Seconds left in the step that contains `unix`.
pub fn seconds_left(unix: u64, period: u32) -> u32 {
    let period = u64::from(period.max(1));
    (period - unix % period) as u32
}

/// The code for a given counter value (HOTP with the TOTP parameters).
pub fn code_for_step(secret: &[u8], hash: HashFunction, period: u32, step: u64, digits: usize) -> String {
    // `new_unchecked`: real hardware tokens ship 80-bit seeds, which `TOTP::new`
    // rejects (RFC 4226 recommends 160 bits but allows 128+). `check` flags them.
    let totp = TOTP::new_unchecked(hash.algorithm(), digits, 0, u64::from(period.max(1)), secret.to_vec());
    totp.generate(step * u64::from(period.max(1)))
}

/// The six-digit code shown by the token at `unix`.
pub fn code_at(secret: &[u8], hash: HashFunction, period: u32, unix: u64) -> Code {
    let step = step_at(unix, period);
    Code { code: code_for_step(secret, hash, period, step, DIGITS), step, valid_for: seconds_left(unix, period) }
}

/// A code that matched: the step it belongs to, and how far that is from the step at the
/// time it was checked (negative: a code from the past; positive: one from the next step,
/// which only a clock running fast can show).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Verified {
    pub step: u64,
    pub offset: i64,
}

/// Server-side check used by the simulator: is `code` six digits, matching a step from `back`
/// steps before `unix`'s to `ahead` steps after it?
pub fn verify(
    secret: &[u8],
    hash: HashFunction,
    period: u32,
    unix: u64,
    code: &str,
    back: u64,
    ahead: u64,
) -> Option<Verified> {
    if code.len() != DIGITS || !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let centre = step_at(unix, period);
    (centre.saturating_sub(back)..=centre + ahead)
        .find(|&step| code_for_step(secret, hash, period, step, DIGITS) == code)
        .map(|step| Verified { step, offset: step as i64 - centre as i64 })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_spellings() {
        for s in ["sha1", "SHA-1", "hmacsha1", "HmacSHA1", "sha_1"] {
            assert_eq!(HashFunction::parse(s), Some(HashFunction::Sha1), "{s}");
        }
        for s in ["sha256", "SHA-256", "hmacsha256"] {
            assert_eq!(HashFunction::parse(s), Some(HashFunction::Sha256), "{s}");
        }
        assert_eq!(HashFunction::parse("md5"), None);
        assert_eq!(HashFunction::parse("sha512"), None);
    }

    #[test]
    fn step_arithmetic() {
        assert_eq!(step_at(59, 30), 1);
        assert_eq!(seconds_left(59, 30), 1);
        assert_eq!(seconds_left(60, 30), 30);
        assert_eq!(seconds_left(61, 60), 59);
    }

    #[test]
    fn verify_accepts_one_step_either_side_only() {
        let secret = b"12345678901234567890";
        let now = 1_700_000_000;
        let prev = code_for_step(secret, HashFunction::Sha1, 30, step_at(now, 30) - 1, 6);
        let far = code_for_step(secret, HashFunction::Sha1, 30, step_at(now, 30) - 3, 6);
        assert!(verify(secret, HashFunction::Sha1, 30, now, &prev, 1, 1).is_some());
        assert!(verify(secret, HashFunction::Sha1, 30, now, &far, 1, 1).is_none());
    }

    #[test]
    fn verify_windows_may_be_lopsided() {
        let secret = b"12345678901234567890";
        let now = 1_700_000_000;
        let at = |d: i64| code_for_step(secret, HashFunction::Sha1, 30, (step_at(now, 30) as i64 + d) as u64, 6);
        let v = |code: &str, back, ahead| verify(secret, HashFunction::Sha1, 30, now, code, back, ahead).is_some();
        assert!(v(&at(0), 0, 0) && !v(&at(-1), 0, 0) && !v(&at(1), 0, 0), "strict: this step only");
        assert!(v(&at(-1), 1, 0) && !v(&at(1), 1, 0), "past only");
        assert!(!v(&at(-1), 0, 1) && v(&at(1), 0, 1), "ahead only");
    }

    #[test]
    fn verify_says_which_step_matched_and_how_far_from_now() {
        let secret = b"12345678901234567890";
        let now = 1_700_000_000;
        let centre = step_at(now, 30);
        for d in [-2i64, -1, 0, 1, 2] {
            let step = (centre as i64 + d) as u64;
            let code = code_for_step(secret, HashFunction::Sha1, 30, step, 6);
            assert_eq!(verify(secret, HashFunction::Sha1, 30, now, &code, 2, 2), Some(Verified { step, offset: d }));
        }
    }

    #[test]
    fn verify_refuses_what_is_not_six_digits() {
        let secret = b"12345678901234567890";
        let now = 1_700_000_000;
        let code = code_at(secret, HashFunction::Sha1, 30, now).code;
        // The same digits with a sign, a space or a seventh digit in front are not the code.
        for bad in [format!("+{}", &code[1..]), format!(" {}", &code[1..]), format!("0{code}"), String::new()] {
            assert_eq!(verify(secret, HashFunction::Sha1, 30, now, &bad, 1, 1), None, "{bad:?}");
        }
        assert!(verify(secret, HashFunction::Sha1, 30, now, &code, 0, 0).is_some());
    }
}
