//! Where a row is parsed: the vendor CSV in all the dialects seen in the wild,
//! turned into [`Row`]s or line-numbered [`RowError`]s. Knows nothing of the network.

mod columns;
mod reader;
pub mod rules;
mod secret;

pub use columns::{field_for, normalise, Field};
pub use reader::{Inventory, ReadOptions};
pub use secret::{SecretFormat, SecretKey, MAX_SECRET_CHARS, RECOMMENDED_MIN_BITS};

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
    }
}
