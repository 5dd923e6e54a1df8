//! Property: for any file built from a valid vendor CSV by inserting, deleting or
//! duplicating quotes, commas and line ends, the reader panics on nothing, and no row, row
//! error or fatal error it produces contains a seed of the input.

use oathbulk::inventory::{Inventory, ReadOptions, Row};
use oathbulk::record::RowErrorRecord;
use proptest::prelude::*;

/// A seed as vendors ship it: 20 random bytes in Base32. Filtered to seeds with a digit
/// (2–7), which nearly every random seed has (all but 0.1%): the redaction heuristic for
/// text that merely looks like a seed needs one (docs/security.md says so).
fn seed() -> impl Strategy<Value = String> {
    proptest::collection::vec(any::<u8>(), 20)
        .prop_map(|b| data_encoding::BASE32_NOPAD.encode(&b))
        .prop_filter("a seed with a digit", |s| s.bytes().any(|b| (b'2'..=b'7').contains(&b)))
}

#[derive(Debug, Clone)]
enum Edit {
    Insert(usize, u8),
    Delete(usize),
    Duplicate(usize),
}

fn edit() -> impl Strategy<Value = Edit> {
    let special = prop_oneof![Just(b'"'), Just(b','), Just(b'\n'), Just(b'\r')];
    prop_oneof![
        (any::<usize>(), special).prop_map(|(at, c)| Edit::Insert(at, c)),
        any::<usize>().prop_map(Edit::Delete),
        any::<usize>().prop_map(Edit::Duplicate),
    ]
}

/// Apply an edit to one of the special bytes (deletions and duplications pick the n-th
/// quote, comma or line end, so every edit changes the structure).
fn apply(text: &mut Vec<u8>, e: &Edit) {
    let specials: Vec<usize> =
        text.iter().enumerate().filter(|(_, b)| matches!(b, b'"' | b',' | b'\n' | b'\r')).map(|(i, _)| i).collect();
    match *e {
        Edit::Insert(at, c) => {
            let at = at % (text.len() + 1);
            text.insert(at, c);
        }
        Edit::Delete(n) if !specials.is_empty() => {
            text.remove(specials[n % specials.len()]);
        }
        Edit::Duplicate(n) if !specials.is_empty() => {
            let at = specials[n % specials.len()];
            text.insert(at, text[at]);
        }
        _ => {}
    }
}

/// Everything the tool could print for a row (what `list` shows; never the secret).
fn printable(row: &Row) -> String {
    let extra: Vec<String> = row.extra.iter().map(|(k, v)| format!("{k}={v}")).collect();
    format!(
        "{} {} {} {} {} {:?} {:?} {}",
        row.line,
        row.upn,
        row.serial,
        row.manufacturer,
        row.model,
        row.display_name,
        extra,
        row.secret.as_ref().map(|s| s.bits()).unwrap_or(0)
    )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn no_output_of_a_mangled_file_contains_a_seed(
        seeds in proptest::collection::vec(seed(), 1..6),
        quoted in any::<bool>(),
        crlf in any::<bool>(),
        edits in proptest::collection::vec(edit(), 1..8),
        require_secret in any::<bool>(),
    ) {
        let q = |s: &str| if quoted { format!("\"{s}\"") } else { s.to_string() };
        let end = if crlf { "\r\n" } else { "\n" };
        let mut text = format!("upn,serial number,secret key,time interval,manufacturer,model{end}");
        for (i, s) in seeds.iter().enumerate() {
            text.push_str(&format!(
                "{},{},{},30,{},{}{end}",
                q(&format!("user{i}@contoso.com")), q(&format!("SN{i}0{i}")), q(s), q("Acme"), q("T1")
            ));
        }
        let mut bytes = text.into_bytes();
        for e in &edits {
            apply(&mut bytes, e);
        }
        let mut printed = Vec::new();
        let options = ReadOptions { require_secret, ..Default::default() };
        match Inventory::from_reader(std::io::Cursor::new(bytes), options) {
            Err(e) => printed.push(format!("{e:#}")),
            Ok(inventory) => {
                for r in inventory {
                    printed.push(match r {
                        Ok(row) => printable(&row),
                        Err(e) => serde_json::to_string(&RowErrorRecord::from(e)).unwrap(),
                    });
                }
            }
        }
        for p in &printed {
            for s in &seeds {
                prop_assert!(!p.contains(s.as_str()), "seed {} in {}", s, p);
            }
        }
    }
}
