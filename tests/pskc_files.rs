//! PSKC (RFC 6030) files: the RFC's own examples decode to the secret the RFC states; 1,000
//! files written by python-pskc (an independent implementation; random seeds, plain, under a
//! pre-shared key and under a password) decode to their seeds (compared by SHA-256, so no seed
//! is printed) and, through the binary, give the codes Python computes; a wrong key, a wrong
//! password or an altered MAC is refused before any secret is used.
//!
//! python-pskc lives in target/venv-pskc (`bash .ci/test` makes it from
//! tests/pskc/requirements.txt). Without it the python-pskc tests are skipped with a
//! message, except under CI, where that is a failure.

use oathbulk::vendor::pskc::{decode, Key, Opener};
use secrecy::SecretString;
use std::cell::Cell;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

const RFC_SECRET: &[u8] = b"12345678901234567890";
const RFC_KEY: &str = "12345678901234567890123456789012";

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/pskc").join(name)).unwrap()
}

fn hex(text: &str) -> Vec<u8> {
    data_encoding::HEXLOWER_PERMISSIVE.decode(text.as_bytes()).unwrap()
}

/// Decode with an optional key and password, counting the times the password was asked.
fn open(xml: &[u8], key: Option<&[u8]>, password: Option<&str>, asked: &Cell<u32>) -> anyhow::Result<Vec<Key>> {
    let ask = || {
        asked.set(asked.get() + 1);
        password.map(|p| SecretString::from(p.to_string())).ok_or_else(|| anyhow::anyhow!("no password"))
    };
    decode(xml, &Opener { key, password: &ask })
}

fn secret(key: &Key) -> &[u8] {
    key.secret.as_ref().expect("a secret")
}

#[test]
fn rfc6030_figure2_plain_value() {
    let asked = Cell::new(0);
    let keys = open(&fixture("rfc6030-figure2-plain.pskcxml"), None, None, &asked).unwrap();
    assert_eq!(keys.len(), 1);
    assert_eq!(secret(&keys[0]), RFC_SECRET);
    assert_eq!((keys[0].serial.as_str(), keys[0].manufacturer.as_str()), ("987654321", "Manufacturer"));
    assert_eq!(keys[0].digits, Some(8));
    assert!(keys[0].algorithm.ends_with(":hotp") && keys[0].has_counter);
    assert_eq!(asked.get(), 0, "a plain file asks no password");
}

#[test]
fn rfc6030_figure6_pre_shared_key() {
    let asked = Cell::new(0);
    let xml = fixture("rfc6030-figure6-preshared.pskcxml");
    let keys = open(&xml, Some(&hex(RFC_KEY)), None, &asked).unwrap();
    assert_eq!(secret(&keys[0]), RFC_SECRET);
    assert_eq!(asked.get(), 0);
    // No key: said, naming the flag and the file's key name.
    let err = open(&xml, None, None, &asked).err().unwrap().to_string();
    assert!(err.contains("--pskc-key-file") && err.contains("Pre-shared-key"), "{err}");
}

#[test]
fn rfc6030_figure7_pbkdf2_password() {
    let asked = Cell::new(0);
    let xml = fixture("rfc6030-figure7-pbkdf2.pskcxml");
    let keys = open(&xml, None, Some("qwerty"), &asked).unwrap();
    assert_eq!(secret(&keys[0]), RFC_SECRET);
    assert_eq!(keys[0].manufacturer, "TokenVendorAcme");
    assert_eq!(asked.get(), 1, "the password is asked once");
}

#[test]
fn a_wrong_key_or_password_is_refused_before_any_secret() {
    let asked = Cell::new(0);
    let mut wrong = hex(RFC_KEY);
    wrong[0] ^= 1;
    for (xml, key, password) in [
        (fixture("rfc6030-figure6-preshared.pskcxml"), Some(wrong.as_slice()), None),
        (fixture("rfc6030-figure7-pbkdf2.pskcxml"), None, Some("qwertz")),
    ] {
        let err = open(&xml, key, password, &asked).err().expect("refused").to_string();
        assert!(err.contains("does not open") || err.contains("MAC"), "{err}");
        assert!(!err.contains("1234567890"), "{err}");
    }
}

/// A file whose ValueMAC (or ciphertext) was altered is refused whole: no key comes back,
/// not even the packages whose MAC holds.
#[test]
fn an_altered_mac_or_ciphertext_refuses_the_whole_file() {
    let asked = Cell::new(0);
    let xml = String::from_utf8(fixture("rfc6030-figure6-preshared.pskcxml")).unwrap();
    // A second, intact package before the one altered.
    let start = xml.find("<KeyPackage>").unwrap();
    let end = xml.find("</KeyPackage>").unwrap() + "</KeyPackage>".len();
    let package = &xml[start..end];
    let two = format!("{}{package}\n{}", &xml[..start], &xml[start..]);
    assert_eq!(open(two.as_bytes(), Some(&hex(RFC_KEY)), None, &asked).unwrap().len(), 2);
    for (from, to) in [("Su+NvtQfmvfJzF6bmQiJqoLRExc=", "Tu+NvtQfmvfJzF6bmQiJqoLRExc="), ("UqGv", "UqGw")] {
        let at = two.rfind(from).unwrap();
        let altered = format!("{}{to}{}", &two[..at], &two[at + from.len()..]);
        let err = open(altered.as_bytes(), Some(&hex(RFC_KEY)), None, &asked).err().expect("refused").to_string();
        assert!(err.contains("MAC") && err.contains("no secret was used"), "{err}");
        // The line named is the altered package's (the second one).
        let line = altered[..altered.rfind("<KeyPackage>").unwrap()].lines().count() + 1;
        assert!(err.contains(&format!("line {line}")), "{err}");
    }
    // A value with its MAC removed is refused too: nothing authenticates it.
    let at = two.rfind("<ValueMAC>").unwrap();
    let end = two.rfind("</ValueMAC>").unwrap() + "</ValueMAC>".len();
    let bare = format!("{}{}", &two[..at], &two[end..]);
    let err = open(bare.as_bytes(), Some(&hex(RFC_KEY)), None, &asked).err().unwrap().to_string();
    assert!(err.contains("no ValueMAC"), "{err}");
}

/// A file with a DTD (entity expansion) is refused by the XML reader, not expanded.
#[test]
fn a_dtd_is_refused() {
    let asked = Cell::new(0);
    let xml = "<?xml version=\"1.0\"?><!DOCTYPE x [<!ENTITY a \"aaaa\">]><KeyContainer>&a;</KeyContainer>";
    assert!(open(xml.as_bytes(), None, None, &asked).is_err());
}

// ── python-pskc ──────────────────────────────────────────────────────────────────────────

fn venv_python() -> Option<PathBuf> {
    let python = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/venv-pskc/bin/python");
    let ok = Command::new(&python)
        .args(["-c", "import pskc"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if ok {
        return Some(python);
    }
    let why = "python-pskc not found in target/venv-pskc (bash .ci/test makes it from tests/pskc/requirements.txt)";
    assert!(std::env::var_os("CI").is_none_or(|v| v == "false" || v == "0"), "{why}");
    eprintln!("SKIPPED: {why}");
    None
}

/// (file, protection, opener, serial, sha256 of the seed, interval, hash, code at AT)
struct Written {
    file: String,
    protection: String,
    opener: String,
    serial: String,
    seed_sha256: String,
    interval: u32,
    hash: String,
    code: String,
}

const AT: &str = "1700000000";

fn write_files(python: &Path, dir: &Path, count: usize) -> Vec<Written> {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/pskc/write_files.py");
    let out = Command::new(python).arg(script).arg(dir).arg(count.to_string()).arg(AT).output().unwrap();
    assert!(out.status.success(), "python-pskc: {}", String::from_utf8_lossy(&out.stderr));
    std::fs::read_to_string(dir.join("manifest.tsv"))
        .unwrap()
        .lines()
        .map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            Written {
                file: f[0].into(),
                protection: f[1].into(),
                opener: f[2].into(),
                serial: f[3].into(),
                seed_sha256: f[4].into(),
                interval: f[5].parse().unwrap(),
                hash: f[6].into(),
                code: f[7].into(),
            }
        })
        .collect()
}

fn sha256_hex(bytes: &[u8]) -> String {
    data_encoding::HEXLOWER.encode(ring::digest::digest(&ring::digest::SHA256, bytes).as_ref())
}

#[test]
fn a_thousand_python_pskc_files_decode_to_their_seeds() {
    let Some(python) = venv_python() else { return };
    let dir = tempfile::tempdir().unwrap();
    let written = write_files(&python, dir.path(), 1000);
    let mut by_file: std::collections::BTreeMap<&str, Vec<&Written>> = Default::default();
    for w in &written {
        by_file.entry(&w.file).or_default().push(w);
    }
    assert_eq!(by_file.len(), 1000);
    let mut protections = std::collections::BTreeMap::<&str, usize>::new();
    for (file, expected) in by_file {
        let xml = std::fs::read(dir.path().join(file)).unwrap();
        let first = expected[0];
        let asked = Cell::new(0);
        let key = (first.protection == "preshared").then(|| hex(&first.opener));
        let password = (first.protection == "password").then_some(first.opener.as_str());
        let keys = open(&xml, key.as_deref(), password, &asked).unwrap_or_else(|e| panic!("{file}: {e}"));
        assert_eq!(keys.len(), expected.len(), "{file}");
        for (got, want) in keys.iter().zip(&expected) {
            assert_eq!(got.serial, want.serial, "{file}");
            assert!(sha256_hex(secret(got)) == want.seed_sha256, "{file} {}: another seed", want.serial);
            assert_eq!(got.time_interval, want.interval.to_string(), "{file}");
            assert_eq!(got.digits, Some(6));
            assert!(got.algorithm.ends_with(":totp"));
            let sha256 = got.suite.to_ascii_lowercase().contains("sha256");
            assert_eq!(sha256, want.hash == "sha256", "{file}");
        }
        assert_eq!(asked.get(), u32::from(first.protection == "password"), "{file}");
        *protections.entry(first.protection.as_str()).or_default() += 1;
    }
    assert!(protections.values().all(|n| *n >= 333), "{protections:?}");
}

/// Through the binary: `otp --at` on python-pskc files of each protection gives the codes
/// Python computed (no seed printed), the key from --pskc-key-file, the password from stdin.
#[test]
fn the_binary_reads_each_protection_and_gives_pythons_codes() {
    let Some(python) = venv_python() else { return };
    let dir = tempfile::tempdir().unwrap();
    let written = write_files(&python, dir.path(), 6);
    for w in &written {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_oathbulk"));
        cmd.args(["otp", "--at", AT, "--format", "json"]).arg(dir.path().join(&w.file));
        let mut stdin = String::new();
        match w.protection.as_str() {
            "preshared" => {
                let key = dir.path().join(format!("{}.key", w.file));
                std::fs::write(&key, &w.opener).unwrap();
                cmd.arg("--pskc-key-file").arg(key);
            }
            "password" => {
                cmd.arg("--pskc-password-stdin");
                stdin = format!("{}\n", w.opener);
            }
            _ => {}
        }
        let out = run_with_stdin(cmd, &stdin);
        assert!(out.contains(&format!("\"serial\":\"{}\"", w.serial)), "{out}");
        let line = out.lines().find(|l| l.contains(&format!("\"serial\":\"{}\"", w.serial))).unwrap();
        assert!(line.contains(&format!("\"code\":\"{}\"", w.code)), "{} {}: {line}", w.file, w.serial);
        assert!(!out.contains(&w.seed_sha256));
    }
}

fn run_with_stdin(mut cmd: Command, stdin: &str) -> String {
    use std::io::Write;
    let mut child = cmd.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    child.stdin.take().unwrap().write_all(stdin.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(out.status.success(), "{text}{}", String::from_utf8_lossy(&out.stderr));
    text
}
