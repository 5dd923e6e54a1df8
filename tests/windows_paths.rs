//! The paths that differ on Windows (issue 33), each tested where it runs: the journal held
//! by one run and read beside it, key and token files judged by their ACL rather than a unix
//! mode, and Windows Credential Manager. A test that can run anywhere does; one that means
//! something only on Windows is ignored elsewhere with that reason, so nextest counts it as
//! skipped, never as passed. The PowerShell paths (the `.exe` under `bin/win-x64`, stopping
//! a child `oathbulk.exe`, CRLF files, UTF-8 pipes) are Pester tests in
//! powershell/tests/Windows.Tests.ps1.

use oathbulk::journal::{self, Journal};
use oathbulk::record::{JournalHeader, Record, Warning};

fn header() -> JournalHeader {
    JournalHeader::new("activate", "graph", Some("contoso".into())).at("http://127.0.0.1:1", false)
}

/// While a run holds its journal, that run can still read it (`--resume` reads what it
/// resumes through a second handle; on Windows a byte-range lock would refuse that handle,
/// which is why the journal is held by its share mode there), and nobody else can hold it:
/// not a second run, not `undo`.
#[test]
fn a_held_journal_is_readable_beside_its_run_and_refused_to_another_holder() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("run.jsonl");
    let mut run = Journal::open(&path, &header()).unwrap();
    run.append(&Record::Warning(Warning { code: "x".into(), message: "m".into() })).unwrap();

    let read = journal::read(&path).expect("the run's own --resume read, through a second handle");
    assert_eq!(read.header.as_ref().map(|h| h.run_id.as_str()), Some(header_of(&path).as_str()));
    assert_eq!(read.records.len(), 1, "the warning appended before the read");
    journal::check_resumable(&path, &read.header.clone().unwrap()).expect("a header read beside the run");

    let second = Journal::open_locked(&path).err().expect("a second run is refused");
    assert!(second.to_string().contains("in use by another oathbulk run"), "{second:#}");
    let undo = journal::lock_existing(&path).expect_err("undo is refused while the run holds it");
    assert!(undo.to_string().contains("in use by another oathbulk run"), "{undo:#}");

    // Once the run is over, undo holds it, and a run that starts then is refused in turn.
    drop(run);
    let held = journal::lock_existing(&path).expect("the run is over");
    assert!(journal::read(&path).is_ok(), "undo reads the journal it holds");
    assert!(Journal::open_locked(&path).is_err(), "no run appends while undo holds it");
    drop(held);
    Journal::open_locked(&path).expect("free again");
}

fn header_of(path: &std::path::Path) -> String {
    let first = std::fs::read_to_string(path).unwrap().lines().next().unwrap().to_string();
    serde_json::from_str::<serde_json::Value>(&first).unwrap()["run_id"].as_str().unwrap().to_string()
}

/// Windows has no modes: a key file and a token file are private by their ACL (a file in the
/// user's profile is), and neither is refused or warned about for a mode. Unix refuses a
/// key others can read (src/auth/certificate.rs's tests) and warns about a token file
/// (tests/credentials_e2e.rs).
#[test]
#[cfg_attr(not(windows), ignore = "Windows only: there the file's ACL decides; unix modes are tested elsewhere")]
fn key_and_token_files_are_judged_by_their_acl_not_a_mode() {
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("app.pem");
    // A key that does not parse: the refusal must be about the key, never about permissions.
    std::fs::write(&key, "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n-----END PRIVATE KEY-----\n")
        .unwrap();
    let e = format!("{:#}", oathbulk::auth::certificate::Certificate::load(&key).err().unwrap());
    assert!(e.contains("not a usable RSA key"), "{e}");
    assert!(!e.contains("chmod") && !e.contains("permissions"), "{e}");

    let token = dir.path().join("AuthKey.txt");
    std::fs::write(&token, "Authorization: Bearer abcdefghijkl\r\n").unwrap();
    let mut warnings = Vec::new();
    let read = oathbulk::auth::read_token_file(&token, &mut |w| warnings.push(w)).unwrap();
    assert_eq!(read, "abcdefghijkl", "the CRLF a Windows editor saves and the pasted header are dropped");
    assert!(warnings.is_empty(), "{warnings:?}");
}

/// The sign-in `oathbulk login` keeps, in Windows Credential Manager itself: a value longer
/// than one credential holds (2560 bytes) is kept in parts and read back whole, and logout
/// leaves nothing. A previous last-login pointer on the machine is put back.
#[test]
#[cfg_attr(
    not(windows),
    ignore = "Windows only: Credential Manager (macOS Keychain and Secret Service need an unlocked user session that CI lacks; the store's logic is tested with keyring's mock)"
)]
fn windows_credential_manager_keeps_a_long_sign_in_in_parts_and_forgets_it() {
    use oathbulk::auth::store::{Key, Kind, Saved, Store};
    use secrecy::{ExposeSecret, SecretString};
    let store = Store::open(&oathbulk::diag::Diag::new(oathbulk::diag::ProgressMode::None));
    assert_eq!(store.describe(), "the system credential store", "unset ${}", oathbulk::auth::store::TEST_STORE_ENV);
    let previous = store.last_login().unwrap().and_then(|k| Some((store.load(&k).ok()??, k)));

    let key = Key::new("https://login.example", &format!("t-{}.example", uuid::Uuid::new_v4()), "app");
    let long: String = (0..6000).map(|i| if i % 5 == 0 { 'é' } else { 'x' }).collect();
    let saved = |secret: &str| Saved {
        kind: Kind::RefreshToken,
        secret: SecretString::from(secret.to_string()),
        scope: "https://graph.microsoft.com/.default offline_access".into(),
        saved_at: 1_700_000_000,
        certificate: None,
    };
    store.save(&key, &saved(&long)).unwrap();
    let back = store.load(&key).unwrap().expect("kept");
    assert_eq!(back.secret.expose_secret(), long, "read back whole, UTF-8 intact");
    assert_eq!(back.kind, Kind::RefreshToken);
    assert_eq!(store.last_login().unwrap().as_ref(), Some(&key));
    assert!(store.delete(&key).unwrap());
    assert!(store.load(&key).unwrap().is_none(), "logout leaves nothing");
    assert!(!store.delete(&key).unwrap(), "nothing left to forget");

    if let Some((saved, k)) = previous {
        store.save(&k, &saved).unwrap();
    }
}

/// tests/ci_test_command.rs builds on unix only (`.ci/test` is a bash script, run there with
/// stand-in tools that unix modes make executable); named here so Windows counts the skip.
#[cfg(not(unix))]
#[test]
#[ignore = "unix only: tests/ci_test_command.rs runs .ci/test (bash) with stand-in tools made executable by their mode"]
fn ci_test_command_is_unix_only() {}
