//! Properties of the two readers that take text from outside: the journal reader (as
//! `--resume` and `undo` read a journal) and the credential parser (a pasted token, a token
//! file, `./AuthKey.txt`). The checks per input are the fuzz targets' own
//! (`lifecycle::fuzzing`, `auth::fuzzing`); here they meet inputs built to be near-valid.

use oathbulk::auth::{self, TokenSource};
use oathbulk::journal::{self, Journal};
use oathbulk::lifecycle::{self, undo};
use oathbulk::record::{
    Action, Activation, ActivationStatus, ChangeOperation, ChangeRecord, ChangeStatus, ImportRecord, ImportStatus,
    JournalHeader, Record,
};
use proptest::prelude::*;

#[derive(Debug)]
enum Backend {
    Graph,
}

fn header() -> JournalHeader {
    JournalHeader::new("activate", Backend::Graph, Some("tid-proptest".into()))
        .at("https://graph.microsoft.com:443", false)
}

/// Any text a server or a CSV may put in a journal's fields: quotes, backslashes, controls,
/// bidi and zero-width characters, other scripts.
fn text() -> impl Strategy<Value = String> {
    proptest::string::string_regex("[a-z0-9@.\"\\\\ \n\t\u{1b}\u{9b}\u{7f}\u{202e}\u{200b}éあ-]{0,12}").unwrap()
}

fn serial() -> impl Strategy<Value = String> {
    prop_oneof![Just("SN1".to_string()), Just("sn1".to_string()), Just("SN2".to_string()), Just("SN3".to_string())]
}

/// A device id as a run writes it, none (a forged line), or an empty one.
fn device_id() -> impl Strategy<Value = Option<String>> {
    prop_oneof![
        3 => "[0-9a-f]{8}".prop_map(Some),
        1 => Just(None),
        1 => Just(Some(String::new())),
        1 => Just(Some("  ".to_string())),
    ]
}

fn activation() -> impl Strategy<Value = Record> {
    let status = prop_oneof![
        Just(ActivationStatus::Activated),
        Just(ActivationStatus::AlreadyActive),
        Just(ActivationStatus::NotAttempted),
        Just(ActivationStatus::Failed),
        Just(ActivationStatus::Conflict),
    ];
    let action = prop_oneof![Just(Action::Activate), Just(Action::AssignAndActivate), Just(Action::None)];
    let in_flight = prop_oneof![Just(None), Just(Some("in_flight".to_string())), text().prop_map(Some)];
    (serial(), text(), status, action, device_id(), in_flight, 0u64..1000).prop_map(
        |(serial, upn, status, action, device_id, error_code, line)| {
            Record::Activation(Activation {
                line,
                upn,
                serial,
                status,
                action,
                attempts: 1,
                device_id,
                step: Some(59887341),
                assigned_to: None,
                http_status: None,
                error_code,
                error_message: None,
                time: "2026-12-07T05:10:32Z".into(),
            })
        },
    )
}

fn import() -> impl Strategy<Value = Record> {
    let status = prop_oneof![Just(ImportStatus::Created), Just(ImportStatus::Exists), Just(ImportStatus::Failed)];
    (serial(), text(), status, device_id(), any::<bool>(), 0u64..1000).prop_map(
        |(serial, upn, status, device_id, assigned, line)| {
            Record::Import(ImportRecord {
                line,
                upn,
                serial,
                status,
                device_id,
                assigned,
                http_status: None,
                error_code: None,
                error_message: None,
                time: "2026-12-07T05:10:35Z".into(),
            })
        },
    )
}

fn change() -> impl Strategy<Value = Record> {
    let op =
        prop_oneof![Just(ChangeOperation::Deactivate), Just(ChangeOperation::Unassign), Just(ChangeOperation::Remove)];
    let status = prop_oneof![Just(ChangeStatus::Done), Just(ChangeStatus::NotAttempted), Just(ChangeStatus::Refused)];
    (op, status, serial(), device_id(), proptest::option::of(1u64..40), proptest::option::of(text())).prop_map(
        |(operation, status, serial, device_id, line, reason)| {
            Record::Change(ChangeRecord {
                operation,
                status,
                serial,
                upn: None,
                device_id,
                line,
                reason,
                http_status: None,
                error_code: None,
                error_message: None,
                time: "2026-12-07T05:10:35Z".into(),
            })
        },
    )
}

fn records() -> impl Strategy<Value = Vec<Record>> {
    proptest::collection::vec(prop_oneof![activation(), import(), change()], 0..24)
}

/// A journal written by the tool itself, as bytes.
fn written(records: &[Record]) -> Vec<u8> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("run.jsonl");
    let mut j = Journal::open(&path, &header()).unwrap();
    for r in records {
        j.append(r).unwrap();
    }
    drop(j);
    std::fs::read(&path).unwrap()
}

/// One edit of a journal's bytes: a cut (a kill mid-write), a byte changed, a line doubled or
/// dropped, a stray byte (a UTF-8 lead byte, a quote, a brace, a line end).
#[derive(Debug, Clone)]
enum Edit {
    Cut(prop::sample::Index),
    Set(prop::sample::Index, u8),
    Insert(prop::sample::Index, u8),
    DoubleLine(prop::sample::Index),
    DropLine(prop::sample::Index),
}

fn edit() -> impl Strategy<Value = Edit> {
    let byte = prop_oneof![Just(0xC3u8), Just(b'"'), Just(b'{'), Just(b'}'), Just(b'\n'), Just(b'\\'), any::<u8>()];
    prop_oneof![
        any::<prop::sample::Index>().prop_map(Edit::Cut),
        (any::<prop::sample::Index>(), byte.clone()).prop_map(|(i, b)| Edit::Set(i, b)),
        (any::<prop::sample::Index>(), byte).prop_map(|(i, b)| Edit::Insert(i, b)),
        any::<prop::sample::Index>().prop_map(Edit::DoubleLine),
        any::<prop::sample::Index>().prop_map(Edit::DropLine),
    ]
}

fn apply(bytes: &mut Vec<u8>, edit: &Edit) {
    if bytes.is_empty() {
        return;
    }
    let mut lines: Vec<Vec<u8>> = bytes.split_inclusive(|b| *b == b'\n').map(<[u8]>::to_vec).collect();
    match edit {
        Edit::Cut(i) => bytes.truncate(i.index(bytes.len())),
        Edit::Set(i, b) => {
            let at = i.index(bytes.len());
            bytes[at] = *b;
        }
        Edit::Insert(i, b) => bytes.insert(i.index(bytes.len() + 1), *b),
        Edit::DoubleLine(i) => {
            let at = i.index(lines.len());
            lines.insert(at, lines[at].clone());
            *bytes = lines.concat();
        }
        Edit::DropLine(i) => {
            lines.remove(i.index(lines.len()));
            *bytes = lines.concat();
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, failure_persistence: None, ..ProptestConfig::default() })]

    /// Any bytes: no panic; a refusal is the one fixed sentence (nothing of the file quoted);
    /// every line is a header, a record or a torn line; every reader agrees.
    #[test]
    fn any_bytes_are_read_or_refused_cleanly(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
        lifecycle::fuzzing::read_journal(&bytes);
    }

    /// A journal the tool wrote, then torn, cut, doubled or hand-edited: the same rules hold,
    /// whichever reader (`activate`/`import`/lifecycle `--resume`, `undo`) reads it.
    #[test]
    fn a_mangled_journal_is_read_or_refused_cleanly(records in records(), edits in proptest::collection::vec(edit(), 1..5)) {
        let mut bytes = written(&records);
        for e in &edits {
            apply(&mut bytes, e);
        }
        lifecycle::fuzzing::read_journal(&bytes);
    }

    /// What the tool writes, it reads back: the header and every record, in order, on lines
    /// 2, 3, …, whatever the fields hold (quotes, controls, bidi characters).
    #[test]
    fn a_well_formed_journal_round_trips(records in records()) {
        let bytes = written(&records);
        let contents = journal::parse(&bytes[..], std::path::Path::new("run.jsonl")).unwrap();
        let h = contents.header.unwrap();
        prop_assert_eq!((h.origin.as_deref(), h.simulated, h.tenant.as_deref()),
            (Some("https://graph.microsoft.com:443"), Some(false), Some("tid-proptest")));
        prop_assert!(contents.torn.is_empty());
        let lines: Vec<u64> = contents.records.iter().map(|(n, _)| *n).collect();
        prop_assert_eq!(lines, (2..2 + records.len() as u64).collect::<Vec<_>>());
        let back: Vec<Record> = contents.records.into_iter().map(|(_, r)| r).collect();
        prop_assert_eq!(back, records);
    }

    /// `undo` may write for a step only when the journal line it reverts names the device
    /// itself: a line without one (no run writes such a line for a change) yields no write,
    /// even when another line of the same serial names a device.
    #[test]
    fn a_line_without_a_device_id_never_yields_an_undo_write(records in records()) {
        let numbered: Vec<(u64, Record)> = records.into_iter().enumerate().map(|(i, r)| (i as u64 + 2, r)).collect();
        for e in undo::effects(&numbered) {
            for (_, line) in e.steps() {
                let (_, record) = numbered.iter().find(|(n, _)| *n == line).unwrap();
                let id = match record {
                    Record::Activation(a) => a.device_id.clone(),
                    Record::Import(i) => i.device_id.clone(),
                    // Undo reverts lifecycle changes too (an unassign, a deactivate).
                    Record::Change(c) => c.device_id.clone(),
                    _ => None,
                };
                let named = id.is_some_and(|id| !id.trim().is_empty());
                prop_assert!(named || !e.identified(line), "line {} of {:?}", line, e);
            }
        }
    }
}

/// A token as Entra issues them (a JWT's alphabet).
fn token() -> impl Strategy<Value = String> {
    "eyJ[A-Za-z0-9_-]{8,40}\\.[A-Za-z0-9_-]{8,40}\\.[A-Za-z0-9_-]{4,40}"
}

/// What a paste carries around a token: whitespace, no-break and zero-width spaces, a BOM.
fn invisible() -> impl Strategy<Value = String> {
    proptest::string::string_regex("[ \t\r\n\u{a0}\u{200b}\u{200c}\u{2060}\u{feff}]{0,3}").unwrap()
}

fn prefix() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(String::new()),
        Just("Bearer ".to_string()),
        Just("bearer\u{a0}".to_string()),
        Just("BEARER\u{200b}".to_string()),
        Just("Authorization: Bearer ".to_string()),
        Just("authorization:\u{a0}Bearer\u{a0}".to_string()),
        Just("Authorization:".to_string()),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, failure_persistence: None, ..ProptestConfig::default() })]

    /// Any text: no panic; the token registered whole and in its visible runs before
    /// parsing; an accepted token is visible ASCII; a refusal is a fixed sentence.
    #[test]
    fn any_text_is_parsed_or_refused_without_echo(raw in any::<String>()) {
        auth::fuzzing::parse_credential(raw.as_bytes());
    }

    /// A token pasted with any prefix and any invisible characters around it comes out as it
    /// was issued, from a paste, a token file or ./AuthKey.txt alike.
    #[test]
    fn a_pasted_token_comes_out_whole(t in token(), p in prefix(), a in invisible(), b in invisible(), c in invisible()) {
        let raw = format!("{a}{p}{b}{t}{c}");
        auth::fuzzing::parse_credential(raw.as_bytes());
        prop_assert_eq!(auth::strip_paste(&raw), t.as_str());
        prop_assert!(auth::check_token(&t, &TokenSource::Stdin).is_ok());
    }

    /// An invisible or non-ASCII character inside the token is refused, naming its code
    /// point and position: no piece of the token is in the message.
    #[test]
    fn a_character_inside_the_token_is_refused_without_quoting_it(
        t in token(),
        at in any::<prop::sample::Index>(),
        odd in prop::sample::select(vec!['\u{a0}', '\u{200b}', '\u{feff}', 'é', '\u{202e}', ' ', '\u{2060}']),
        p in prefix(),
    ) {
        let mut chars: Vec<char> = t.chars().collect();
        chars.insert(1 + at.index(chars.len() - 1), odd);
        let bad: String = chars.into_iter().collect();
        let raw = format!("{p}{bad}\n");
        auth::fuzzing::parse_credential(raw.as_bytes());
        let e = auth::check_token(auth::strip_paste(&raw), &TokenSource::Stdin).unwrap_err().to_string();
        for piece in bad.split(|c: char| !c.is_ascii_graphic()).filter(|p| p.len() >= 4) {
            prop_assert!(!e.contains(piece), "{} quotes {}", e, piece);
        }
    }
}
