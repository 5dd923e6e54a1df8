//! The one redactor: every secret of the run — bearer tokens, refresh tokens, the client
//! secret, every seed read by a command that talks to a server — is registered here as soon
//! as the process holds it, and every path that prints (stdout records in `output.rs`,
//! stderr in `diag.rs`, the journal, the error log) passes its text through [`scrub`].
//! A server that echoes a seed or a token back therefore cannot get it printed.
//!
//! Process-wide on purpose: a message can reach stderr from any layer (a fatal error, a
//! doctor check), and a redactor that had to be handed to each of them would be missing
//! from one of them sooner or later.

use secrecy::{ExposeSecret, SecretString};
use std::borrow::Cow;
use std::collections::{BTreeSet, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{LazyLock, RwLock};

const MARK: &str = "[REDACTED]";
/// Shorter texts are not secrets worth a blind replace (and would mangle output).
const MIN_SECRET_LEN: usize = 8;

#[derive(Default)]
struct Known {
    secrets: Vec<SecretString>,
    /// Canonical (upper-case, unpadded) Base32 of each seed.
    seeds: HashSet<String>,
    seed_lengths: BTreeSet<usize>,
}

static KNOWN: LazyLock<RwLock<Known>> = LazyLock::new(Default::default);
/// Nothing registered yet: `scrub` is free (offline commands never register anything).
static ARMED: AtomicBool = AtomicBool::new(false);

fn known() -> std::sync::RwLockReadGuard<'static, Known> {
    KNOWN.read().unwrap_or_else(|p| p.into_inner())
}

/// Register a token, refresh token or client secret. Also in the form a JSON string holds
/// it (`"` and `\` escaped, controls as `\uXXXX`): stdout, the journal and the error log
/// are redacted after serialising, where a secret holding `"` or `\` no longer appears as
/// it was read.
pub fn add_secret(secret: &SecretString) {
    let text = secret.expose_secret();
    if text.len() < MIN_SECRET_LEN {
        return;
    }
    let escaped = serde_json::to_string(text).ok().map(|q| q[1..q.len() - 1].to_string()).filter(|e| e != text);
    let mut k = KNOWN.write().unwrap_or_else(|p| p.into_inner());
    for form in std::iter::once(text.to_string()).chain(escaped) {
        if !k.secrets.iter().any(|s| s.expose_secret() == form) {
            k.secrets.push(SecretString::from(form));
        }
    }
    // Longest first: a secret that contains another is replaced whole.
    k.secrets.sort_by_key(|s| std::cmp::Reverse(s.expose_secret().len()));
    ARMED.store(true, Ordering::Release);
}

/// Register a seed of the run, in canonical Base32 (`SecretKey::to_base32`: upper case,
/// unpadded). A text, not the key type: the redactor sits below the CSV reader.
pub fn add_seed(b32: String) {
    if b32.len() < MIN_SECRET_LEN {
        return;
    }
    let mut k = KNOWN.write().unwrap_or_else(|p| p.into_inner());
    k.seed_lengths.insert(b32.len());
    k.seeds.insert(b32);
    ARMED.store(true, Ordering::Release);
}

/// Has anything been registered? When not, [`scrub`] returns its text unchanged, so a
/// caller holding bytes (a JSON line) may skip building the `&str` it would take.
pub fn armed() -> bool {
    ARMED.load(Ordering::Acquire)
}

/// `text` with every registered secret replaced by `[REDACTED]`. Seeds are found in any
/// letter case.
pub fn scrub(text: &str) -> Cow<'_, str> {
    if !ARMED.load(Ordering::Acquire) {
        return Cow::Borrowed(text);
    }
    let k = known();
    let mut out = Cow::Borrowed(text);
    for s in &k.secrets {
        let s = s.expose_secret();
        if out.contains(s) {
            out = Cow::Owned(out.replace(s, MARK));
        }
    }
    if k.seeds.is_empty() {
        return out;
    }
    let hits = seed_ranges(&out, &k);
    if hits.is_empty() {
        return out;
    }
    let mut result = String::with_capacity(out.len());
    let mut at = 0;
    for (start, end) in hits {
        if start < at {
            continue;
        }
        result.push_str(&out[at..start]);
        result.push_str(MARK);
        at = end;
    }
    result.push_str(&out[at..]);
    Cow::Owned(result)
}

/// A line for people on stderr: redacted, controls escaped.
pub fn for_people(message: &str) -> String {
    crate::text::escape_controls(&scrub(message)).into_owned()
}

/// Byte ranges of registered seeds: windows of each seed length inside each Base32 run.
fn seed_ranges(text: &str, k: &Known) -> Vec<(usize, usize)> {
    let min = *k.seed_lengths.first().expect("seeds registered");
    let bytes = text.as_bytes();
    let is_b32 = |b: u8| b.is_ascii_alphabetic() || (b'2'..=b'7').contains(&b);
    let mut hits = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if !is_b32(bytes[i]) {
            i += 1;
            continue;
        }
        let start = i;
        while i < bytes.len() && is_b32(bytes[i]) {
            i += 1;
        }
        if i - start < min {
            continue;
        }
        let run = text[start..i].to_ascii_uppercase();
        let mut from = 0;
        while from + min <= run.len() {
            let found = k
                .seed_lengths
                .iter()
                .rev()
                .filter(|&&len| from + len <= run.len())
                .find(|&&len| k.seeds.contains(&run[from..from + len]));
            match found {
                Some(&len) => {
                    hits.push((start + from, start + from + len));
                    from += len;
                }
                None => from += 1,
            }
        }
    }
    hits
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_and_seeds_are_scrubbed_in_any_case() {
        add_secret(&SecretString::from("unit-test-token-abc.def".to_string()));
        add_seed("KRSXG5CTMVSWIMJS".to_string());
        assert_eq!(scrub("x unit-test-token-abc.def y"), "x [REDACTED] y");
        assert_eq!(scrub("seed=krsxg5ctmvswimjs!"), "seed=[REDACTED]!");
        assert_eq!(scrub("{\"secretKey\":\"KRSXG5CTMVSWIMJS\"}"), "{\"secretKey\":\"[REDACTED]\"}");
        assert_eq!(scrub("AAKRSXG5CTMVSWIMJSAA"), "AA[REDACTED]AA");
        assert_eq!(scrub("nothing here SN0001"), "nothing here SN0001");
    }
}
