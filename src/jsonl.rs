//! A record as one JSON line: the one serialisation for stdout, stderr and the journal —
//! serialise, redact, escape C1 controls, in that order.

use crate::record::{Otp, Record};
use crate::redact;
use serde::ser::Error as _;
use std::borrow::Cow;

/// serde_json escapes C0 controls but writes C1 controls (and DEL) raw; a JSON line read
/// on a terminal (`cat`, `tail -f`) must not carry them either. They only occur inside
/// strings, where `\u0080` is the same character to any JSON reader.
pub fn escape_json_controls(line: &[u8]) -> Cow<'_, [u8]> {
    // DEL is 0x7F; a C1 control (U+0080–U+009F) is 0xC2 then 0x80–0x9F in UTF-8. A line
    // with neither byte (every line of a plain file) is clean: one vectorised search says so.
    if memchr::memchr2(0x7F, 0xC2, line).is_none() {
        return Cow::Borrowed(line);
    }
    let c1 = |w: &[u8]| w[0] == 0xC2 && (0x80..=0x9F).contains(&w[1]);
    if !line.contains(&0x7F) && !line.windows(2).any(c1) {
        return Cow::Borrowed(line);
    }
    let mut out = Vec::with_capacity(line.len() + 16);
    let mut i = 0;
    while i < line.len() {
        if line[i] == 0x7F {
            out.extend_from_slice(b"\\u007f");
            i += 1;
        } else if i + 1 < line.len() && c1(&line[i..i + 2]) {
            out.extend_from_slice(format!("\\u{:04x}", line[i + 1]).as_bytes());
            i += 2;
        } else {
            out.push(line[i]);
            i += 1;
        }
    }
    Cow::Owned(out)
}

/// A record as one JSON line (no newline), redacted and with C1 controls escaped: the one
/// serialisation for stdout, stderr and the journal.
pub fn json_line(record: &Record) -> Result<Vec<u8>, serde_json::Error> {
    let mut line = Vec::with_capacity(256);
    append_json_line(record, &mut line)?;
    Ok(line)
}

/// [`json_line`] appended to `buf` (a buffer reused from record to record on the hot path of
/// `otp`: no allocation per record). Same steps, same order: serialise, redact, escape.
pub fn append_json_line(record: &Record, buf: &mut Vec<u8>) -> Result<(), serde_json::Error> {
    let start = buf.len();
    match record {
        Record::Otp(otp) => write_otp(otp, buf)?,
        other => serde_json::to_writer(&mut *buf, other)?,
    }
    if redact::armed() {
        // serde_json writes UTF-8; the check costs nothing the redactor would not spend.
        let text = std::str::from_utf8(&buf[start..]).map_err(serde_json::Error::custom)?;
        if let Cow::Owned(scrubbed) = redact::scrub(text) {
            buf.truncate(start);
            buf.extend_from_slice(scrubbed.as_bytes());
        }
    }
    if let Cow::Owned(escaped) = escape_json_controls(&buf[start..]) {
        buf.truncate(start);
        buf.extend_from_slice(&escaped);
    }
    Ok(())
}

/// `otp`'s record (one per row of a file of millions) field by field: the bytes serde writes
/// for `Record::Otp`, without its map machinery and its escaping of every key. The values
/// go through serde_json itself, so strings are escaped exactly as everywhere else;
/// `the_otp_writer_writes_what_serde_writes` holds the whole line to serde's.
fn write_otp(otp: &Otp, buf: &mut Vec<u8>) -> Result<(), serde_json::Error> {
    buf.extend_from_slice(br#"{"type":"otp","line":"#);
    serde_json::to_writer(&mut *buf, &otp.line)?;
    buf.extend_from_slice(br#","upn":"#);
    serde_json::to_writer(&mut *buf, &otp.upn)?;
    buf.extend_from_slice(br#","serial":"#);
    serde_json::to_writer(&mut *buf, &otp.serial)?;
    buf.extend_from_slice(br#","code":"#);
    serde_json::to_writer(&mut *buf, &otp.code)?;
    buf.extend_from_slice(br#","step":"#);
    serde_json::to_writer(&mut *buf, &otp.step)?;
    buf.extend_from_slice(br#","time_interval":"#);
    serde_json::to_writer(&mut *buf, &otp.time_interval)?;
    buf.extend_from_slice(br#","hash":""#);
    buf.extend_from_slice(otp.hash.as_str().as_bytes());
    buf.extend_from_slice(br#"","valid_for":"#);
    serde_json::to_writer(&mut *buf, &otp.valid_for)?;
    buf.extend_from_slice(br#","at":"#);
    serde_json::to_writer(&mut *buf, &otp.at)?;
    if let Some(secret) = &otp.secret {
        buf.extend_from_slice(br#","secret":"#);
        serde_json::to_writer(&mut *buf, secret)?;
    }
    buf.push(b'}');
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_controls_are_escaped() {
        let line = serde_json::to_vec(&serde_json::json!({"m": "x\u{9b}y\u{7f}"})).unwrap();
        let escaped = escape_json_controls(&line);
        assert_eq!(std::str::from_utf8(&escaped).unwrap(), r#"{"m":"x\u009by\u007f"}"#);
        let back: serde_json::Value = serde_json::from_slice(&escaped).unwrap();
        assert_eq!(back["m"], "x\u{9b}y\u{7f}");
    }

    #[test]
    fn the_fast_search_finds_every_control_the_scan_does() {
        for text in ["\u{7f}", "\u{80}", "\u{9f}", "a\u{9b}[2J", "\u{c2}\u{a0}é\u{7f}"] {
            let line = serde_json::to_vec(&serde_json::json!({ "m": text })).unwrap();
            assert!(matches!(escape_json_controls(&line), Cow::Owned(_)), "{text:?}");
        }
        // 0xC2 starts harmless characters too (U+00A0–U+00BF): looked at, left alone.
        for text in ["plain", "\u{a0}\u{bf}é€😀", "\u{9}\u{1b}"] {
            let line = serde_json::to_vec(&serde_json::json!({ "m": text })).unwrap();
            assert!(matches!(escape_json_controls(&line), Cow::Borrowed(_)), "{text:?}");
        }
    }

    fn serde_line(record: &Record) -> Vec<u8> {
        serde_json::to_vec(record).unwrap()
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(1000))]

        /// Any text in the string fields (quotes, backslashes, C0 and C1 controls, DEL,
        /// any Unicode), any numbers, both hashes, with and without the revealed secret.
        #[test]
        fn the_otp_writer_writes_what_serde_writes(
            line: u64, upn: String, serial: String, code: String, step: u64, time_interval: u32,
            sha256: bool, valid_for: u32, at: u64, secret: Option<String>,
        ) {
            let hash = if sha256 { crate::otp::HashFunction::Sha256 } else { crate::otp::HashFunction::Sha1 };
            let record = Record::Otp(Otp { line, upn, serial, code, step, time_interval, hash, valid_for, at, secret });
            let Record::Otp(otp) = &record else { unreachable!() };
            let mut ours = Vec::new();
            write_otp(otp, &mut ours).unwrap();
            proptest::prop_assert_eq!(String::from_utf8(ours).unwrap(), String::from_utf8(serde_line(&record)).unwrap());
        }
    }

    #[test]
    fn an_otp_line_is_escaped_like_any_other() {
        let record = Record::Otp(Otp {
            upn: "a\u{9b}b\u{7f}\u{1b}@contoso.com".into(),
            serial: "\"S1\\".into(),
            ..Default::default()
        });
        let line = String::from_utf8(json_line(&record).unwrap()).unwrap();
        assert!(line.contains(r#""upn":"a\u009bb\u007f\u001b@contoso.com","serial":"\"S1\\""#), "{line}");
        assert!(!line.contains('\u{9b}') && !line.contains('\u{7f}') && !line.contains('\u{1b}'), "{line}");
    }

    #[test]
    fn a_secret_with_a_quote_or_backslash_is_redacted_after_serialising() {
        let secret = "cl1ent\"secret\\value~x";
        redact::add_secret(&secrecy::SecretString::from(secret.to_string()));
        let message = format!("the server said: bad client_secret {secret}");
        let record = crate::record::Record::Diagnostic(crate::record::Diagnostic {
            level: "error".into(),
            message: message.clone(),
            code: None,
        });
        let line = String::from_utf8(crate::jsonl::json_line(&record).unwrap()).unwrap();
        assert!(line.contains("[REDACTED]"), "{line}");
        let escaped = serde_json::to_string(secret).unwrap();
        assert!(!line.contains(secret) && !line.contains(&escaped[1..escaped.len() - 1]), "{line}");
        assert!(!line.contains("secret\\\\value"), "no part of it either: {line}");
        // The raw form, for people (stderr, tables).
        assert_eq!(redact::scrub(&message), "the server said: bad client_secret [REDACTED]");
    }
}
