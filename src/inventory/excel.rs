//! What a spreadsheet does to a vendor file, named with its fix: serials in scientific
//! notation, leading zeros dropped, `;` or tab separators, Windows-1252 bytes, and HOTP rows
//! (a vendor's counter-based tokens, which Entra does not take). Each check reads header
//! names and serials only, never a cell that may hold a seed, and no message quotes a cell.

use super::columns::{field_for, normalise};

/// Row error code: the serial is a number Excel rewrote as `2.20015E+09`.
pub const SCIENTIFIC_SERIAL: &str = "serial_scientific_notation";
/// Row error code: the row is a counter-based (HOTP) token.
pub const HOTP_ROW: &str = "hotp_not_supported";
/// Finding code (`check`): serials shorter than the rest of their batch.
pub const SERIAL_LENGTH: &str = "serial_length_break";

/// The end of a message about bytes that are not UTF-8, with the likely cause and the fix.
pub const NOT_UTF8: &str = "holds bytes that are not UTF-8: most likely Windows-1252, what Excel writes for \
                            \"CSV (comma delimited)\" (an accented name, say); save the file as \"CSV UTF-8\", or \
                            convert it: iconv -f WINDOWS-1252 -t UTF-8 FILE > FILE-utf8.csv";

/// Excel's scientific notation of a long number: `2.20015E+09`, `2E+09`, `1.5e10`. A bare
/// `12E4567` (a plausible serial) is not taken for it: Excel writes a sign or a decimal point.
pub fn scientific(serial: &str) -> bool {
    let Some((mantissa, exponent)) = serial.split_once(['E', 'e']) else { return false };
    let (int, frac) = match mantissa.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (mantissa, None),
    };
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    let (signed, exp) = match exponent.strip_prefix(['+', '-']) {
        Some(rest) => (true, rest),
        None => (false, exponent),
    };
    digits(int) && frac.is_none_or(digits) && digits(exp) && (signed || frac.is_some())
}

pub fn scientific_message() -> String {
    "serial number is in scientific notation (Excel shows a long number so, and saves it so: its last digits \
     are lost); re-export the serials from the vendor's file with the column formatted as Text"
        .into()
}

/// A header line that split into one or two cells on commas but into known columns on `;`
/// or a tab: the file's separator.
pub fn other_delimiter(names: &[String]) -> Option<u8> {
    let known = |cells: &mut dyn Iterator<Item = &str>| cells.filter(|c| field_for(c).is_some()).count();
    if known(&mut names.iter().map(String::as_str)) >= 2 {
        return None;
    }
    let line = names.join(",");
    [b';', b'\t', b'|'].into_iter().find(|&d| known(&mut line.split(char::from(d))) >= 2)
}

/// The name of a separator as `--delimiter` takes it.
pub fn delimiter_name(d: u8) -> String {
    match d {
        b'\t' => "tab".into(),
        other => char::from(other).to_string(),
    }
}

pub fn delimiter_message(d: u8) -> String {
    let name = delimiter_name(d);
    let shown = if d == b'\t' { "tabs".to_string() } else { format!("'{name}'") };
    format!(
        "the file is separated by {shown}, not commas (Excel saves \"CSV\" so where the comma is the decimal \
         mark, and \"Text\" with tabs): pass --delimiter '{name}' to read it as it is, or save it as \"CSV UTF-8\""
    )
}

/// Why a row is a HOTP token, from the columns the reader does not know (name, value): a
/// type column saying HOTP (or event-based), or a counter with no type column saying TOTP.
pub fn hotp_marker<'a>(extra: impl Iterator<Item = (&'a str, &'a str)>) -> Option<String> {
    let mut counter = None;
    for (name, value) in extra {
        let header = normalise(name);
        let value = value.trim().to_ascii_lowercase();
        if matches!(header.as_str(), "type" | "tokentype" | "otptype" | "mode" | "oathtype") {
            if value.contains("hotp") || value.contains("event") {
                return Some(format!(
                    "the '{name}' column says this token is HOTP (counter-based); Entra takes TOTP (time-based) \
                     tokens only: leave the row out, or ask the vendor for the TOTP seeds"
                ));
            }
            if value.contains("totp") || value.contains("time") {
                return None;
            }
        }
        let counts = matches!(header.as_str(), "counter" | "eventcounter" | "movingfactor" | "hotpcounter");
        if counts && !value.is_empty() && counter.is_none() {
            counter = Some(name.to_string());
        }
    }
    counter.map(|name| {
        format!(
            "the row has a '{name}' value: counters belong to HOTP (counter-based) tokens, and Entra takes TOTP \
             (time-based) tokens only; if these tokens are TOTP, remove the column"
        )
    })
}

/// Serials made of digits that are shorter than the length most of the batch shares: the
/// leading zeros Excel drops from `0012345`. (the length, the lines), when there are some.
/// A batch is at least four such serials, three quarters of them one length.
pub fn short_serials<'a>(serials: impl Iterator<Item = (u64, &'a str)>) -> Option<(usize, Vec<u64>)> {
    let numeric: Vec<(u64, usize)> = serials
        .filter(|(_, s)| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()))
        .map(|(l, s)| (l, s.len()))
        .collect();
    if numeric.len() < 4 {
        return None;
    }
    let mut by_len = std::collections::BTreeMap::<usize, usize>::new();
    for (_, len) in &numeric {
        *by_len.entry(*len).or_default() += 1;
    }
    let (&usual, &count) = by_len.iter().max_by_key(|(len, n)| (**n, **len))?;
    if count * 4 < numeric.len() * 3 {
        return None;
    }
    let lines: Vec<u64> = numeric.iter().filter(|(_, len)| *len < usual).map(|(l, _)| *l).collect();
    (!lines.is_empty()).then_some((usual, lines))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn excel_scientific_notation_is_recognised_and_serials_are_not() {
        for s in ["2.20015E+09", "2E+09", "1.5e10", "9.87654E-05", "2.2E+9"] {
            assert!(scientific(s), "{s}");
        }
        for s in ["220015000", "12E4567", "GALT12345678", "E+09", "2.E+09", "2.2E+", "AE+09", ""] {
            assert!(!scientific(s), "{s}");
        }
    }

    #[test]
    fn semicolon_and_tab_headers_are_named() {
        let one = |h: &str| vec![h.to_string()];
        assert_eq!(other_delimiter(&one("upn;serial number;secret key")), Some(b';'));
        assert_eq!(other_delimiter(&one("upn\tserial number\tsecret key")), Some(b'\t'));
        // A comma file is a comma file, even with a `;` in a header name.
        let names: Vec<String> = ["upn", "serial number", "notes;misc"].iter().map(|s| s.to_string()).collect();
        assert_eq!(other_delimiter(&names), None);
        assert_eq!(other_delimiter(&one("foo;bar")), None);
        assert!(delimiter_message(b'\t').contains("--delimiter 'tab'"));
    }

    #[test]
    fn hotp_rows_are_told_by_type_or_by_counter() {
        let rows = |pairs: &[(&'static str, &'static str)]| hotp_marker(pairs.iter().copied());
        assert!(rows(&[("Type", "HOTP")]).unwrap().contains("'Type'"));
        assert!(rows(&[("Token Type", "event-based")]).is_some());
        assert!(rows(&[("Counter", "0")]).unwrap().contains("'Counter'"));
        // A type saying TOTP wins over a counter; an empty counter is no counter.
        assert!(rows(&[("Counter", "0"), ("type", "TOTP")]).is_none());
        assert!(rows(&[("Counter", "")]).is_none());
        assert!(rows(&[("Notes", "hotp")]).is_none());
    }

    #[test]
    fn serials_that_lost_their_leading_zeros_are_found() {
        let batch = [(2, "0012345"), (3, "0012346"), (4, "12347"), (5, "0012348"), (6, "0012349")];
        assert_eq!(short_serials(batch.into_iter()), Some((7, vec![4])));
        // Two batches of different lengths, evenly mixed: no pattern to break.
        let mixed = [(2, "1234"), (3, "1235"), (4, "123456"), (5, "123457")];
        assert_eq!(short_serials(mixed.into_iter()), None);
        // Letters are not Excel's numbers.
        let letters = [(2, "AB00123"), (3, "AB00124"), (4, "AB125"), (5, "AB00126")];
        assert_eq!(short_serials(letters.into_iter()), None);
    }
}
