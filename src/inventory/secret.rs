//! Decoding a token's seed from the vendor CSV.
//!
//! Base32 (RFC 4648) is the norm; hex only when the user says so (`--secret-format hex`):
//! a 40-character hex string is also valid Base32, so guessing would silently
//! produce wrong codes for every token.

use std::fmt;

/// How the `secret key` column is encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SecretFormat {
    #[default]
    Base32,
    Hex,
}

/// Microsoft caps the secret at 128 characters (of Base32).
pub const MAX_SECRET_CHARS: usize = 128;
/// RFC 4226 asks for at least 128 bits; real tokens often ship 80.
pub const RECOMMENDED_MIN_BITS: usize = 128;

/// A decoded seed. Never printed by `Debug`; revealed only through [`SecretKey::to_base32`],
/// which callers use solely behind `--reveal-secrets` or when sending it to the tenant.
#[derive(Clone, PartialEq, Eq)]
pub struct SecretKey(Vec<u8>);

impl fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SecretKey(<{} bits redacted>)", self.0.len() * 8)
    }
}

/// Fewest Base32 characters a seed has (80 bits): shorter runs are serials, codes, words.
pub const SEED_MIN_CHARS: usize = 16;

/// Could this text hold a seed? It does when it has an unbroken run of at least 16 Base32
/// characters (80 bits, either case) with a digit in it, or of 24 letters (a seed that
/// happens to have no digit), or 32 hex digits; or when the whole text is Base32 split by
/// spaces, dashes or padding (`gezd gnbv gy3t qojq`) with 16 such characters and a digit.
/// Messages never quote such a text and rows never carry one outside the secret column,
/// whatever column it sits in: a shifted or mislabelled column must not print a seed.
/// Names (`christopherjohnson@…`, 18 letters, no digit) and prose stay printable.
pub fn looks_like_seed(text: &str) -> bool {
    // Every shape below needs 16 characters: most cells (serials, models) end here.
    if text.len() < SEED_MIN_CHARS {
        return false;
    }
    let (mut run, mut digits, mut hex) = (0usize, 0usize, 0usize);
    let (mut spaced, mut spaced_digits, mut only_b32) = (0usize, 0usize, true);
    for c in text.chars() {
        hex = if c.is_ascii_hexdigit() { hex + 1 } else { 0 };
        match c {
            'A'..='Z' | 'a'..='z' => {
                run += 1;
                spaced += 1;
            }
            '2'..='7' => {
                run += 1;
                digits += 1;
                spaced += 1;
                spaced_digits += 1;
            }
            ' ' | '-' | '=' => (run, digits) = (0, 0),
            _ => {
                (run, digits) = (0, 0);
                only_b32 = false;
            }
        }
        if (run >= SEED_MIN_CHARS && digits > 0) || run >= 24 || hex >= 32 {
            return true;
        }
    }
    only_b32 && spaced >= SEED_MIN_CHARS && spaced_digits > 0
}

/// A cell for a message: quoted, or a placeholder when it could be a seed.
pub fn quote_cell(text: &str) -> String {
    if looks_like_seed(text) {
        "(a value that looks like a secret key, not shown)".into()
    } else {
        let shown: String = text.chars().take(80).collect();
        let more = if shown.len() < text.len() { "…" } else { "" };
        format!("'{}{more}'", crate::output::escape_controls(&shown))
    }
}

impl SecretKey {
    pub fn from_bytes(bytes: Vec<u8>) -> Self {
        Self(bytes)
    }
    pub fn bytes(&self) -> &[u8] {
        &self.0
    }
    pub fn bits(&self) -> usize {
        self.0.len() * 8
    }
    /// Canonical upper-case, unpadded Base32: the form Entra's import takes.
    pub fn to_base32(&self) -> String {
        data_encoding::BASE32_NOPAD.encode(&self.0)
    }

    /// Normalise and decode one CSV cell. The error text never contains the secret.
    pub fn decode(raw: &str, format: SecretFormat) -> Result<Self, String> {
        // Hot path (`otp` on millions of rows): ASCII cells are cleaned into a stack buffer,
        // byte by byte; anything else takes the general (char-aware) route. Same result.
        let mut stack = [0u8; 2 * MAX_SECRET_CHARS];
        let heap: String;
        let cleaned: &str = if raw.len() <= stack.len() && raw.is_ascii() {
            let mut n = 0;
            for b in raw.bytes() {
                // `char::is_whitespace` on ASCII: space, \t, \n, \x0B, \x0C, \r.
                if !matches!(b, b' ' | b'\t' | b'\n' | 0x0B | 0x0C | b'\r' | b'-' | b'=') {
                    stack[n] = b.to_ascii_uppercase();
                    n += 1;
                }
            }
            std::str::from_utf8(&stack[..n]).expect("ASCII in, ASCII out")
        } else {
            heap = raw
                .chars()
                .filter(|c| !c.is_whitespace() && *c != '-' && *c != '=')
                .map(|c| c.to_ascii_uppercase())
                .collect();
            &heap
        };
        if cleaned.is_empty() {
            return Err("secret key is empty".into());
        }
        match format {
            SecretFormat::Base32 => {
                if cleaned.len() > MAX_SECRET_CHARS {
                    return Err(format!(
                        "secret key has {} Base32 characters; Entra accepts at most {MAX_SECRET_CHARS}",
                        cleaned.len()
                    ));
                }
                if let Some(pos) = cleaned.find(|c: char| !matches!(c, 'A'..='Z' | '2'..='7')) {
                    let hint = if cleaned.chars().all(|c| c.is_ascii_hexdigit()) {
                        " (it looks like hex: pass --secret-format hex if the vendor ships hex)"
                    } else {
                        ""
                    };
                    return Err(format!("secret key is not Base32: character {} is outside A-Z/2-7{hint}", pos + 1));
                }
                if matches!(cleaned.len() % 8, 1 | 3 | 6) {
                    return Err(format!("secret key has an impossible Base32 length ({} characters)", cleaned.len()));
                }
                data_encoding::BASE32_NOPAD
                    .decode(cleaned.as_bytes())
                    .map(Self)
                    .map_err(|_| "secret key is not valid Base32 (trailing bits are not zero)".into())
            }
            SecretFormat::Hex => {
                if cleaned.len() % 2 == 1 {
                    return Err(format!("hex secret key has an odd length ({} characters)", cleaned.len()));
                }
                let decoded = data_encoding::HEXUPPER
                    .decode(cleaned.as_bytes())
                    .map_err(|_| "secret key is not hex (0-9, A-F)".to_string())?;
                if data_encoding::BASE32_NOPAD.encode_len(decoded.len()) > MAX_SECRET_CHARS {
                    return Err(format!(
                        "secret key is {} bytes; Entra accepts at most {MAX_SECRET_CHARS} Base32 characters",
                        decoded.len()
                    ));
                }
                Ok(Self(decoded))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base32_is_normalised() {
        let a = SecretKey::decode("gezd gnbv-gy3t qojq====", SecretFormat::Base32).unwrap();
        assert_eq!(a.bytes(), b"1234567890");
        assert_eq!(a.to_base32(), "GEZDGNBVGY3TQOJQ");
    }

    #[test]
    fn bad_base32_is_rejected_without_echoing_it() {
        let err = SecretKey::decode("GEZDGNBVGY3TQOJ1", SecretFormat::Base32).unwrap_err();
        assert!(!err.contains("GEZD"), "{err}");
        assert!(SecretKey::decode("ABC", SecretFormat::Base32).is_err()); // len % 8 == 3
        assert!(SecretKey::decode("", SecretFormat::Base32).is_err());
        assert!(SecretKey::decode(&"A".repeat(136), SecretFormat::Base32).is_err());
    }

    #[test]
    fn hex_only_when_declared() {
        let hex = "3132333435363738393031323334353637383930";
        let k = SecretKey::decode(hex, SecretFormat::Hex).unwrap();
        assert_eq!(k.bytes(), b"12345678901234567890");
        // The same text read as Base32 decodes to something else entirely: never guess.
        let as_b32 = SecretKey::decode(hex, SecretFormat::Base32);
        assert!(as_b32.is_err() || as_b32.unwrap().bytes() != b"12345678901234567890");
        assert!(SecretKey::decode("abc", SecretFormat::Hex).is_err());
        assert!(SecretKey::decode("zz", SecretFormat::Hex).is_err());
    }

    #[test]
    fn ascii_fast_path_matches_the_general_route() {
        // Long (past the stack buffer) and non-ASCII cells take the general route.
        let long = format!("{}{}", " ".repeat(300), "GEZDGNBVGY3TQOJQ");
        assert_eq!(SecretKey::decode(&long, SecretFormat::Base32).unwrap().bytes(), b"1234567890");
        let nbsp = "GEZD\u{a0}GNBV\u{2003}GY3T QOJQ";
        assert_eq!(SecretKey::decode(nbsp, SecretFormat::Base32).unwrap().bytes(), b"1234567890");
        let vt = "gezd\x0bgnbv\x0cgy3t\tqojq\r";
        assert_eq!(SecretKey::decode(vt, SecretFormat::Base32).unwrap().bytes(), b"1234567890");
        assert!(SecretKey::decode("GEZDGNBVGY3TQOJÄ", SecretFormat::Base32).is_err());
        assert!(SecretKey::decode(" - = ", SecretFormat::Base32).is_err());
    }

    #[test]
    fn seed_shaped_text_is_never_quoted() {
        assert!(looks_like_seed("GEZDGNBVGY3TQOJQ"));
        assert!(looks_like_seed("gezd gnbv gy3t qojq"));
        assert!(!looks_like_seed("SN00001"));
        assert!(!looks_like_seed("alice@contoso.com"));
        assert!(looks_like_seed("SN1GEZDGNBVGY3TQOJQ")); // a seed glued to a serial
        assert!(looks_like_seed("3132333435363738393031323334353637383930"));
        assert!(!looks_like_seed("christopherjohnson@contoso.com"));
        assert!(!looks_like_seed("Delivered to the main office in Zurich"));
        assert!(looks_like_seed("GEZD-GNBV-GY3T-QOJQ"));
        assert!(!quote_cell("GEZDGNBVGY3TQOJQ").contains("GEZD"));
        assert_eq!(quote_cell("45"), "'45'");
        assert_eq!(quote_cell("a\x1bb"), "'a\\x1bb'");
    }

    #[test]
    fn debug_never_shows_bytes() {
        let k = SecretKey::decode("GEZDGNBVGY3TQOJQ", SecretFormat::Base32).unwrap();
        assert_eq!(format!("{k:?}"), "SecretKey(<80 bits redacted>)");
    }
}
