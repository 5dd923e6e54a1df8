//! Where a row is parsed: the vendor CSV in all the dialects seen in the wild,
//! turned into [`Row`]s or line-numbered [`RowError`]s. Knows nothing of the network.

mod columns;
pub(crate) mod lines;
mod reader;
pub mod rules;
mod secret;

pub use columns::{field_for, normalise, Field};
pub use reader::{Inventory, ReadOptions, USER_IN_UNKNOWN_COLUMN};
pub use secret::{looks_like_seed, quote_cell, SecretFormat, SecretKey, MAX_SECRET_CHARS, RECOMMENDED_MIN_BITS};

use crate::otp::HashFunction;
use std::sync::Arc;

/// One token from the vendor CSV, normalised.
#[derive(Debug, Clone)]
pub struct Row {
    /// 1-based line of the file where the record starts (the header is line 1).
    pub line: u64,
    pub upn: String,
    pub serial: String,
    /// `None` only when the CSV has no secret column at all.
    pub secret: Option<SecretKey>,
    /// Seconds per step: 30 or 60.
    pub time_interval: u32,
    pub hash: HashFunction,
    pub manufacturer: String,
    pub model: String,
    pub display_name: Option<String>,
    /// Columns the tool does not know, in file order, under their original header.
    pub extra: Vec<(Arc<str>, String)>,
}

/// A row that could not be used. Never stops the other rows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowError {
    pub line: u64,
    /// The field at fault (`serial`, `secret`, …), if one is.
    pub field: Option<String>,
    /// Stable machine-readable code (`invalid_secret`, `ragged_row`, …).
    pub code: &'static str,
    pub message: String,
    pub upn: Option<String>,
    pub serial: Option<String>,
}

pub use rules::{serial_key, upn_key, MAX_TOKENS_PER_USER};

/// Is this plausibly a user principal name (`local@domain.tld`)?
pub fn is_upn(text: &str) -> bool {
    if text.is_ascii() {
        is_ascii_upn(text.as_bytes())
    } else {
        is_upn_by_chars(text)
    }
}

/// Why `upn` is refused for a hidden character, naming it by code point (never raw).
pub fn hidden_char_message(c: char) -> String {
    format!(
        "upn contains an invisible or direction-changing character (U+{:04X}): it would show one name and send \
         another, or count one person twice; remove it",
        c as u32
    )
}

/// The rules of [`is_upn`], char by char: any text.
fn is_upn_by_chars(text: &str) -> bool {
    let Some((local, domain)) = text.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && !domain.is_empty()
        && !domain.contains('@')
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !text.chars().any(|c| c.is_whitespace() || c.is_control())
}

/// [`is_upn`] of ASCII text (every UPN of a vendor file; it runs on every row), in one pass:
/// the same rules, whose whitespace and controls are, in ASCII, the bytes up to 0x20 and DEL.
fn is_ascii_upn(text: &[u8]) -> bool {
    let (mut at, mut dot_after_at) = (None, false);
    for (i, &b) in text.iter().enumerate() {
        match b {
            b'@' if at.is_some() => return false,
            b'@' => at = Some(i),
            b'.' if at.is_some() => dot_after_at = true,
            0..=b' ' | 0x7F => return false,
            _ => {}
        }
    }
    let Some(at) = at else { return false };
    let domain = &text[at + 1..];
    at > 0 && !domain.is_empty() && dot_after_at && domain[0] != b'.' && domain[domain.len() - 1] != b'.'
}

#[cfg(test)]
mod tests {
    #[test]
    fn upn_shapes() {
        assert!(super::is_upn("alice@contoso.com"));
        assert!(!super::is_upn("alice"));
        assert!(!super::is_upn("alice@contoso"));
        assert!(!super::is_upn("@contoso.com"));
        assert!(!super::is_upn("a b@contoso.com"));
        assert!(!super::is_upn("a@b@contoso.com"));
        assert!(!super::is_upn("a@contoso.com."));
        assert!(!super::is_upn("a@.contoso.com"));
        assert!(!super::is_upn("a.b@contoso"));
        assert!(!super::is_upn("a@contoso.com\x7f"));
        assert!(super::is_upn("a.b@contoso.com"));
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(2000))]

        #[test]
        fn the_ascii_pass_agrees_with_the_rules(chars in proptest::collection::vec(proptest::sample::select(vec![
            'a', 'b', '1', '@', '@', '.', '.', '-', '_', ' ', '\t', '\x00', '\x1f', '\x7f', '\u{85}', '\u{a0}', 'é',
        ]), 0..12)) {
            let text: String = chars.into_iter().collect();
            // The ASCII pass (taken for ASCII text) says what the rules say.
            proptest::prop_assert_eq!(super::is_upn(&text), super::is_upn_by_chars(&text), "{:?}", text);
        }
    }
}

/// Entry points for `cargo fuzz` (fuzz/) and for replaying its corpus on stable
/// (tests/fuzz_corpus.rs): one function per target, each checking what must hold for any
/// input, so a corpus file that once broke a rule keeps testing it.
#[doc(hidden)]
pub mod fuzzing {
    use super::{looks_like_seed, Inventory, ReadOptions, SecretFormat, SecretKey};

    /// Read arbitrary bytes as a vendor CSV (with and without a required secret column):
    /// no panic; a row error carries no cell of a misaligned row and no seed-shaped cell.
    pub fn read_csv(data: &[u8]) {
        for require_secret in [false, true] {
            let options = ReadOptions { require_secret, ..Default::default() };
            let Ok(inventory) = Inventory::from_reader(std::io::Cursor::new(data.to_vec()), options) else { continue };
            for row in inventory {
                let Err(e) = row else { continue };
                if matches!(e.code, "ragged_row" | "unclosed_quote" | "line_too_long" | "no_rows") {
                    assert!(e.upn.is_none() && e.serial.is_none(), "{e:?}");
                }
                for cell in [&e.upn, &e.serial].into_iter().flatten() {
                    assert!(!looks_like_seed(cell), "seed-shaped cell in a row error: {e:?}");
                }
            }
        }
    }

    /// Decode arbitrary text as a seed in both formats: no panic; a decoded seed survives
    /// its canonical Base32 form; an error never quotes the input.
    pub fn decode_secret(data: &[u8]) {
        let Ok(text) = std::str::from_utf8(data) else { return };
        for format in [SecretFormat::Base32, SecretFormat::Hex] {
            match SecretKey::decode(text, format) {
                Ok(key) => {
                    let again =
                        SecretKey::decode(&key.to_base32(), SecretFormat::Base32).expect("canonical form decodes");
                    assert!(again == key, "round trip");
                }
                Err(message) => {
                    // A seed-shaped input never shows up in the message (any other input may
                    // happen to be a piece of the message's own wording).
                    let trimmed = text.trim();
                    assert!(!looks_like_seed(trimmed) || !message.contains(trimmed), "the error quotes its input");
                }
            }
        }
    }
}

/// A row error on the wire (docs/json-lines.md): the record says what the error says.
impl From<RowError> for crate::record::RowErrorRecord {
    fn from(e: RowError) -> Self {
        Self {
            line: e.line,
            code: e.code.to_string(),
            message: e.message,
            field: e.field,
            upn: e.upn,
            serial: e.serial,
        }
    }
}
