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
    // Each shape needs 16 letters and digits in a row, or a text of nothing but letters,
    // digits and separators: a cell with neither (`user42@contoso.com`, every UPN of a
    // vendor file) is told apart in one cheap pass.
    let (mut alnum, mut longest, mut only_alnum) = (0usize, 0usize, true);
    for &c in text.as_bytes() {
        if c.is_ascii_alphanumeric() {
            alnum += 1;
            longest = longest.max(alnum);
        } else {
            alnum = 0;
            only_alnum &= matches!(c, b' ' | b'-' | b'=');
        }
    }
    if longest < SEED_MIN_CHARS && !only_alnum {
        return false;
    }
    let (mut run, mut digits, mut hex) = (0usize, 0usize, 0usize);
    let (mut spaced, mut spaced_digits, mut only_b32) = (0usize, 0usize, true);
    // Bytes, not chars: every shape is ASCII, and a byte of a multi-byte character (all
    // >= 0x80) breaks a run and spoils `only_b32` exactly as the whole character would.
    for &c in text.as_bytes() {
        hex = if c.is_ascii_hexdigit() { hex + 1 } else { 0 };
        match c {
            b'A'..=b'Z' | b'a'..=b'z' => {
                run += 1;
                spaced += 1;
            }
            b'2'..=b'7' => {
                run += 1;
                digits += 1;
                spaced += 1;
                spaced_digits += 1;
            }
            b' ' | b'-' | b'=' => (run, digits) = (0, 0),
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

/// Whether a column name says it holds a secret: a word naming a seed, a secret or a key
/// (`Seed (hex)`, `secretBase64`, `OTP key`, `key_b32`). Such an extra column is never kept:
/// it is not printed by `list` nor shown to scripts. Over-hiding (`Key ID`) is the safe side.
pub fn names_a_secret(header: &str) -> bool {
    let lower = header.to_lowercase();
    lower.contains("secret")
        || lower.contains("seed")
        || lower.split(|c: char| !c.is_ascii_alphanumeric()).any(|w| w.starts_with("key") || w.ends_with("key"))
}

/// Whether `cell` is `seed` written another way: hex (spaced, colon- or dash-separated,
/// `0x`-prefixed), Base64 (standard or URL-safe, padded or not, as PSKC exports write it),
/// or Base32 with any separators (dots, underscores, spaces, dashes) and any case. The row's
/// own seed a second time is a secret wherever it sits.
pub fn encodes_seed(cell: &str, seed: &[u8]) -> bool {
    if seed.is_empty() {
        return false;
    }
    let cell = cell.trim();
    // Every encoding below takes at least 1.3 characters a byte and at most 3 (spaced hex).
    if cell.len() < seed.len() || cell.len() > seed.len() * 4 + 8 {
        return false;
    }
    let compact: String = cell.chars().filter(|c| !c.is_whitespace()).collect();
    for engine in [
        &data_encoding::BASE64,
        &data_encoding::BASE64_NOPAD,
        &data_encoding::BASE64URL,
        &data_encoding::BASE64URL_NOPAD,
    ] {
        if engine.decode(compact.as_bytes()).is_ok_and(|b| b == seed) {
            return true;
        }
    }
    let bare = compact.strip_prefix("0x").or_else(|| compact.strip_prefix("0X")).unwrap_or(&compact);
    let stripped: String = bare.chars().filter(|c| !matches!(c, ':' | '-' | '.' | '_' | ',' | ';' | '=')).collect();
    if data_encoding::HEXLOWER_PERMISSIVE.decode(stripped.as_bytes()).is_ok_and(|b| b == seed) {
        return true;
    }
    let upper = stripped.to_ascii_uppercase();
    data_encoding::BASE32_NOPAD.decode(upper.as_bytes()).is_ok_and(|b| b == seed)
}

/// A cell for a message: quoted, or a placeholder when it could be a seed.
pub fn quote_cell(text: &str) -> String {
    if looks_like_seed(text) {
        "(a value that looks like a secret key, not shown)".into()
    } else {
        let shown: String = text.chars().take(80).collect();
        let more = if shown.len() < text.len() { "…" } else { "" };
        format!("'{}{more}'", crate::text::escape_controls(&shown))
    }
}

/// What a byte of a Base32 cell is to [`decode_plain_base32`]: its 5-bit value (either
/// case), [`SKIP`] for the separators the general route drops on ASCII (whitespace, `-`,
/// `=`), [`OTHER`] for anything else (non-ASCII bytes included).
const BASE32_VALUES: [u8; 256] = {
    let mut table = [OTHER; 256];
    let mut i = 0;
    while i < 26 {
        table[b'A' as usize + i] = i as u8;
        table[b'a' as usize + i] = i as u8;
        i += 1;
    }
    let mut d = 0;
    while d < 6 {
        table[b'2' as usize + d] = 26 + d as u8;
        d += 1;
    }
    let mut s = 0;
    let separators = [b' ', b'\t', b'\n', 0x0B, 0x0C, b'\r', b'-', b'='];
    while s < separators.len() {
        table[separators[s] as usize] = SKIP;
        s += 1;
    }
    table
};
const SKIP: u8 = 0x40;
const OTHER: u8 = 0xFF;

/// The hot path of [`SecretKey::decode`] (`otp` decodes a seed on every row of files of
/// millions): a cell that decodes, its characters' values gathered by table lookup, then
/// eight at a time turned into five bytes. `None` for anything else —
/// a byte that is not Base32 or a separator, no character, more than
/// [`MAX_SECRET_CHARS`], an impossible length, bits left over that are not zero — which
/// then takes the general route for its result and its message. Every `Some` is what the
/// general route returns (`the_plain_path_decodes_as_the_general_route`).
fn decode_plain_base32(raw: &[u8]) -> Option<Vec<u8>> {
    // The characters' 5-bit values, separators dropped.
    let mut values = [0u8; MAX_SECRET_CHARS];
    let mut chars = 0;
    for &b in raw {
        let value = BASE32_VALUES[usize::from(b)];
        if value < 32 {
            *values.get_mut(chars)? = value;
            chars += 1;
        } else if value != SKIP {
            return None;
        }
    }
    // Lengths 1, 3 and 6 (mod 8) leave 5 or more bits: no Base32 encoder writes them.
    if chars == 0 || matches!(chars % 8, 1 | 3 | 6) {
        return None;
    }
    let values = &values[..chars];
    let mut out = Vec::with_capacity(chars * 5 / 8);
    // Eight characters are 40 bits, five bytes.
    let mut groups = values.chunks_exact(8);
    for group in &mut groups {
        let bits = group.iter().fold(0u64, |acc, &v| (acc << 5) | u64::from(v));
        out.extend_from_slice(&bits.to_be_bytes()[3..]);
    }
    let tail = groups.remainder();
    if !tail.is_empty() {
        // 2, 4, 5 or 7 characters: 1, 2, 3 or 4 bytes, and 2, 4, 1 or 3 bits that must be zero.
        let bits = tail.iter().fold(0u64, |acc, &v| (acc << 5) | u64::from(v));
        let (bytes, spare) = (tail.len() * 5 / 8, tail.len() * 5 % 8);
        if bits & ((1 << spare) - 1) != 0 {
            return None;
        }
        out.extend_from_slice(&(bits >> spare).to_be_bytes()[8 - bytes..]);
    }
    Some(out)
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
        if format == SecretFormat::Base32 {
            if let Some(bytes) = decode_plain_base32(raw.as_bytes()) {
                return Ok(Self(bytes));
            }
        }
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

    /// `looks_like_seed` as its doc says it, shape by shape, on chars: the byte loop (and the
    /// cheap pass before it) must agree with it on any text, multi-byte characters included.
    fn looks_like_seed_by_its_doc(text: &str) -> bool {
        let b32 = |c: char| c.is_ascii_alphabetic() || ('2'..='7').contains(&c);
        let digit = |c: char| ('2'..='7').contains(&c);
        let run = |r: &str| (r.len() >= SEED_MIN_CHARS && r.contains(digit)) || r.len() >= 24;
        let hex = |r: &str| r.len() >= 32;
        let unspaced: String = text.chars().filter(|c| !matches!(c, ' ' | '-' | '=')).collect();
        text.split(|c| !b32(c)).any(run)
            || text.split(|c: char| !c.is_ascii_hexdigit()).any(hex)
            || (unspaced.chars().all(b32) && unspaced.len() >= SEED_MIN_CHARS && unspaced.contains(digit))
    }

    /// Mostly seed material (so runs of 16 and more happen), with separators, and
    /// multi-byte characters of 2, 3 and 4 bytes (one a C1 control, one Unicode whitespace).
    fn alphabet() -> Vec<char> {
        let mut chars: Vec<char> = ('A'..='Z').chain('a'..='z').chain('0'..='9').collect();
        chars.extend([' ', '-', '=', '@', '.', '_', 'é', '\u{9b}', '\u{a0}', '\u{2003}', '€', '😀']);
        chars
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(2000))]

        #[test]
        fn looks_like_seed_is_what_its_doc_says(chars in proptest::collection::vec(proptest::sample::select(alphabet()), 0..60)) {
            let text: String = chars.into_iter().collect();
            proptest::prop_assert_eq!(looks_like_seed(&text), looks_like_seed_by_its_doc(&text), "{:?}", text);
        }

        /// Seeds as vendors write them (either case, spaced, dashed, padded), and cells that
        /// are not quite seeds (a stray character, a wrong length, non-canonical last
        /// character, too long, non-ASCII spaces): the plain path says what the general route
        /// says, or leaves the cell to it.
        #[test]
        fn the_plain_path_decodes_as_the_general_route(chars in proptest::collection::vec(proptest::sample::select(cell_alphabet()), 0..140)) {
            let raw: String = chars.into_iter().collect();
            let general = general_decode(&raw);
            match decode_plain_base32(raw.as_bytes()) {
                Some(bytes) => proptest::prop_assert_eq!(Ok(bytes), general.clone(), "{:?}", raw),
                // Left to the general route: a cell that fails, or one with a non-ASCII space.
                None => proptest::prop_assert!(general.is_err() || !raw.is_ascii(), "{:?}", raw),
            }
            proptest::prop_assert_eq!(SecretKey::decode(&raw, SecretFormat::Base32).map(|k| k.0).ok(), general.ok());
        }

        #[test]
        fn random_seeds_take_the_plain_path(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 1..80)) {
            let text = data_encoding::BASE32_NOPAD.encode(&bytes);
            proptest::prop_assert_eq!(decode_plain_base32(text.as_bytes()), Some(bytes.clone()));
            let spaced = text.to_lowercase().as_bytes().chunks(4).map(|c| std::str::from_utf8(c).unwrap()).collect::<Vec<_>>().join(" ");
            proptest::prop_assert_eq!(decode_plain_base32(spaced.as_bytes()), Some(bytes));
        }
    }

    /// The general route alone (what `decode` did before the plain path).
    fn general_decode(raw: &str) -> Result<Vec<u8>, String> {
        let cleaned: String = raw
            .chars()
            .filter(|c| !c.is_whitespace() && *c != '-' && *c != '=')
            .map(|c| c.to_ascii_uppercase())
            .collect();
        if cleaned.is_empty() {
            return Err("empty".into());
        }
        if cleaned.len() > MAX_SECRET_CHARS {
            return Err("long".into());
        }
        if cleaned.find(|c: char| !matches!(c, 'A'..='Z' | '2'..='7')).is_some() {
            return Err("not base32".into());
        }
        if matches!(cleaned.len() % 8, 1 | 3 | 6) {
            return Err("length".into());
        }
        data_encoding::BASE32_NOPAD.decode(cleaned.as_bytes()).map_err(|_| "trailing bits".into())
    }

    fn cell_alphabet() -> Vec<char> {
        let mut chars: Vec<char> = ('A'..='Z').chain('2'..='7').collect();
        chars.extend([
            'a', 'q', 'z', ' ', '-', '=', '\t', '\r', '\n', '\u{b}', '\u{c}', '0', '1', '8', '@', '\u{a0}', 'é',
        ]);
        chars
    }

    #[test]
    fn non_canonical_base32_is_left_to_the_general_route() {
        // A last "GF" is 10 bits: 8 make the byte, the last 2 must be zero; "GE" is canonical.
        assert_eq!(decode_plain_base32(b"GEZDGNBVGY3TQOJQ"), Some(b"1234567890".to_vec()));
        assert_eq!(decode_plain_base32(b"GEZDGNBVGY3TQOJQGE"), Some(b"12345678901".to_vec()));
        assert_eq!(decode_plain_base32(b"GEZDGNBVGY3TQOJQGF"), None);
        assert!(SecretKey::decode("GEZDGNBVGY3TQOJQGF", SecretFormat::Base32).unwrap_err().contains("trailing bits"));
        assert_eq!(decode_plain_base32(b""), None);
        assert_eq!(decode_plain_base32(b" - "), None);
        assert_eq!(decode_plain_base32("A".repeat(129).as_bytes()), None);
        assert_eq!(decode_plain_base32("A".repeat(128).as_bytes()), Some(vec![0; 80]));
    }

    #[test]
    fn a_seed_in_another_encoding_is_recognised_and_others_are_not() {
        let seed: Vec<u8> = (0u8..20).map(|i| i.wrapping_mul(37).wrapping_add(11)).collect();
        let hex: Vec<String> = seed.iter().map(|b| format!("{b:02x}")).collect();
        let b32 = data_encoding::BASE32_NOPAD.encode(&seed);
        let dotted: Vec<&str> = (0..b32.len()).step_by(4).map(|i| &b32[i..(i + 4).min(b32.len())]).collect();
        for form in [
            hex.join(" "),
            hex.join(":").to_uppercase(),
            format!("0x{}", hex.concat()),
            data_encoding::BASE64.encode(&seed),
            data_encoding::BASE64URL_NOPAD.encode(&seed),
            dotted.join("."),
            dotted.join("_").to_lowercase(),
        ] {
            assert!(encodes_seed(&form, &seed), "{form}");
        }
        let other: Vec<u8> = seed.iter().map(|b| b ^ 1).collect();
        assert!(!encodes_seed(&hex.join(" "), &other));
        assert!(!encodes_seed("Cost centre 4711, building 2", &seed));
        assert!(names_a_secret("Seed (hex)") && names_a_secret("secretBase64") && names_a_secret("OTP key"));
        assert!(!names_a_secret("Notes") && !names_a_secret("Cost Center"));
    }

    #[test]
    fn debug_never_shows_bytes() {
        let k = SecretKey::decode("GEZDGNBVGY3TQOJQ", SecretFormat::Base32).unwrap();
        assert_eq!(format!("{k:?}"), "SecretKey(<80 bits redacted>)");
    }
}
