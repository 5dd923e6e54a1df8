//! The foundation commands (`list`, `otp`, `check`) end to end: the real binary on real files.
//! CSV dialects, row errors, `check` findings, secrets never leaking, time options, output
//! formats, exit codes and broken pipes.

use assert_cmd::Command;
use oathbulk::otp::{code_at, HashFunction};
use serde_json::Value;
use std::io::Write;
use std::path::Path;

/// A 160-bit seed that appears nowhere else: leaks are easy to spot.
const SEED: &[u8] = b"oathbulk-test-secret";
/// RFC 6238's SHA-1 seed (for codes known from the RFC).
const RFC_SEED: &[u8] = b"12345678901234567890";
const AT: u64 = 1_700_000_000;

fn b32(bytes: &[u8]) -> String {
    data_encoding::BASE32_NOPAD.encode(bytes)
}

fn code(secret: &[u8], hash: HashFunction, period: u32, at: u64) -> String {
    code_at(secret, hash, period, at).code
}

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

impl Run {
    fn records(&self) -> Vec<Value> {
        self.stdout.lines().map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}"))).collect()
    }
    fn of_type(&self, t: &str) -> Vec<Value> {
        self.records().into_iter().filter(|r| r["type"] == t).collect()
    }
    fn summary(&self) -> Value {
        let recs = self.records();
        let last = recs.last().expect("at least a summary").clone();
        assert_eq!(last["type"], "summary", "summary must be last: {}", self.stdout);
        assert_eq!(recs.iter().filter(|r| r["type"] == "summary").count(), 1);
        last
    }
}

fn run_with(args: &[&str], stdin: Option<Vec<u8>>) -> Run {
    let mut cmd = Command::cargo_bin("oathbulk").unwrap();
    cmd.args(args);
    cmd.env_remove("CI");
    if let Some(input) = stdin {
        cmd.write_stdin(input);
    }
    let out = cmd.output().unwrap();
    Run {
        code: out.status.code().expect("exited, not killed by a signal"),
        stdout: String::from_utf8(out.stdout).unwrap(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn run(args: &[&str]) -> Run {
    run_with(args, None)
}

fn csv_file(dir: &Path, name: &str, content: impl AsRef<[u8]>) -> String {
    let path = dir.join(name);
    std::fs::write(&path, content).unwrap();
    path.to_str().unwrap().to_string()
}

/// A folder holding `t.csv`: `template` with every `{s}` replaced by SEED in Base32.
fn seeded_csv(template: &str) -> (tempfile::TempDir, String) {
    let d = tmp();
    let f = csv_file(d.path(), "t.csv", template.replace("{s}", &b32(SEED)));
    (d, f)
}

/// A folder holding `t.csv`: a row for each `upn,serial` of `rows`, every one with the same seed.
fn rows_csv(rows: &[&str]) -> (tempfile::TempDir, String) {
    let text: String = rows.iter().map(|r| format!("{r},GEZDGNBVGY3TQOJQ\n")).collect();
    let d = tmp();
    let f = csv_file(d.path(), "t.csv", format!("upn,serial number,secret key\n{text}"));
    (d, f)
}

fn tmp() -> tempfile::TempDir {
    tempfile::tempdir().unwrap()
}

// ───────────────────────────── dialects ─────────────────────────────

#[test]
fn microsoft_header() {
    let (_d, f) = seeded_csv(
        "upn,serial number,secret key,time interval,manufacturer,model\n\
         alice@contoso.com,SN1,{s},30,Contoso,OTP-C200\n\
         bob@contoso.com,SN2,{s},60,Contoso,OTP-C200\n",
    );
    let r = run(&["list", &f]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let t = r.of_type("token");
    assert_eq!(t.len(), 2);
    assert_eq!(t[0]["line"], 2);
    assert_eq!(t[0]["upn"], "alice@contoso.com");
    assert_eq!(t[0]["serial"], "SN1");
    assert_eq!(t[0]["manufacturer"], "Contoso");
    assert_eq!(t[0]["model"], "OTP-C200");
    assert_eq!(t[0]["time_interval"], 30);
    assert_eq!(t[0]["hash"], "sha1");
    assert_eq!(t[0]["secret_bits"], 160);
    assert!(t[0].get("secret").is_none());
    assert!(t[0].get("extra").is_none());
    assert_eq!(t[1]["line"], 3);
    assert_eq!(t[1]["time_interval"], 60);
    let s = r.summary();
    assert_eq!((s["command"].as_str(), s["rows"].as_u64(), s["ok"].as_u64()), (Some("list"), Some(2), Some(2)));
    assert_eq!(s["errors"], 0);
    assert_eq!(s["exit_code"], 0);
}

#[test]
fn title_case_header() {
    let (_d, f) = seeded_csv(
        "UPN,Serial Number,Secret Key,Time Interval,Manufacturer,Model\nalice@contoso.com,SN1,{s},60,Contoso,M\n",
    );
    let r = run(&["otp", &f, "--at", &AT.to_string()]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let o = r.of_type("otp");
    assert_eq!(o[0]["serial"], "SN1");
    assert_eq!(o[0]["time_interval"], 60);
    assert_eq!(o[0]["code"], code(SEED, HashFunction::Sha1, 60, AT));
}

#[test]
fn graph_names_header_with_hash_function() {
    let (_d, f) = seeded_csv(
        "upn,serialNumber,secretKey,timeIntervalInSeconds,hashFunction,manufacturer,model,displayName\n\
         alice@contoso.com,SN1,{s},30,hmacsha256,Contoso,M,Alice's token\n\
         bob@contoso.com,SN2,{s},60,hmacsha1,Contoso,M,\n",
    );
    let r = run(&["list", &f]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let t = r.of_type("token");
    assert_eq!(t[0]["hash"], "sha256");
    assert_eq!(t[0]["display_name"], "Alice's token");
    assert_eq!(t[1]["hash"], "sha1");
    assert_eq!(t[1]["time_interval"], 60);
    assert!(t[1].get("display_name").is_none(), "empty display name is omitted");
    let r = run(&["otp", &f, "--at", &AT.to_string()]);
    let o = r.of_type("otp");
    assert_eq!(o[0]["code"], code(SEED, HashFunction::Sha256, 30, AT));
    assert_eq!(o[1]["code"], code(SEED, HashFunction::Sha1, 60, AT));
}

#[test]
fn timeinterval_without_space_and_enabled_extra_column() {
    let (_d, f) = seeded_csv(
        "upn,serial number,secret key,timeinterval,manufacturer,model,Enabled\n\
         alice@contoso.com,SN1,{s},60,Contoso,M,TRUE\n",
    );
    let r = run(&["list", &f]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let t = &r.of_type("token")[0];
    assert_eq!(t["time_interval"], 60);
    assert_eq!(t["extra"], serde_json::json!({"Enabled": "TRUE"}));
}

#[test]
fn all_fields_quoted() {
    let (_d, f) = seeded_csv(
        "\"upn\",\"serial number\",\"secret key\",\"time interval\",\"manufacturer\",\"model\"\n\
         \"alice@contoso.com\",\"SN1\",\"{s}\",\"30\",\"Contoso, Inc.\",\"OTP \"\"C200\"\"\"\n",
    );
    let r = run(&["list", &f]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let t = &r.of_type("token")[0];
    assert_eq!(t["serial"], "SN1");
    assert_eq!(t["time_interval"], 30);
    assert_eq!(t["manufacturer"], "Contoso, Inc.");
    assert_eq!(t["model"], "OTP \"C200\"");
}

#[test]
fn utf8_bom_and_crlf_keep_line_numbers_right() {
    let d = tmp();
    let s = b32(SEED);
    // Line 1 header (with BOM), 2 good, 3 bad interval, 4–5 one record whose quoted display
    // name spans two lines, 6 empty line (skipped), 7 bad upn, 8 good.
    let text = format!(
        "\u{feff}\"UPN\",\"Serial Number\",\"Secret Key\",\"Time Interval\",\"Manufacturer\",\"Model\",\"Display Name\",\"Enabled\"\r\n\
         \"a@contoso.com\",\"S2\",\"{s}\",\"30\",\"C\",\"M\",\"\",\"true\"\r\n\
         \"b@contoso.com\",\"S3\",\"{s}\",\"45\",\"C\",\"M\",\"\",\"true\"\r\n\
         \"c@contoso.com\",\"S4\",\"{s}\",\"60\",\"C\",\"M\",\"two\r\nlines\",\"false\"\r\n\
         \r\n\
         \"nobody\",\"S7\",\"{s}\",\"30\",\"C\",\"M\",\"\",\"true\"\r\n\
         \"e@contoso.com\",\"S8\",\"{s}\",\"30\",\"C\",\"M\",\"\",\"true\"\r\n"
    );
    let f = csv_file(d.path(), "t.csv", text);
    let r = run(&["list", &f]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let recs = r.records();
    let lines: Vec<(String, u64)> = recs
        .iter()
        .filter(|r| r["type"] != "summary")
        .map(|r| (r["type"].as_str().unwrap().to_string(), r["line"].as_u64().unwrap()))
        .collect();
    assert_eq!(
        lines,
        vec![
            ("token".into(), 2),
            ("row_error".into(), 3),
            ("token".into(), 4),
            ("row_error".into(), 7),
            ("token".into(), 8)
        ]
    );
    let t = r.of_type("token");
    assert_eq!(t[0]["upn"], "a@contoso.com", "the BOM is not part of the first header");
    assert_eq!(t[0]["extra"]["Enabled"], "true", "no stray \\r in the last cell");
    assert_eq!(t[1]["extra"]["Enabled"], "false");
    assert_eq!(t[2]["extra"]["Enabled"], "true");
    assert_eq!(t[1]["display_name"], "two\r\nlines");
}

#[test]
fn stdin_via_dash() {
    let input = format!("upn,serial number,secret key\nalice@contoso.com,SN1,{}\n", b32(RFC_SEED));
    let r = run_with(&["otp", "-", "--at", "59"], Some(input.into_bytes()));
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.of_type("otp")[0]["code"], "287082");
    let r = run_with(&["list", "-"], Some(b"upn,serial\nalice@contoso.com,SN1\n".to_vec()));
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.of_type("token")[0]["serial"], "SN1");
}

#[test]
fn utf16_is_a_clear_input_error() {
    let d = tmp();
    let text = "upn,serial number,secret key\r\nalice@contoso.com,SN1,GEZDGNBVGY3TQOJQ\r\n";
    let mut le = vec![0xFF, 0xFE];
    let mut be = vec![0xFE, 0xFF];
    let mut bare = vec![];
    for u in text.encode_utf16() {
        le.extend_from_slice(&u.to_le_bytes());
        be.extend_from_slice(&u.to_be_bytes());
        bare.extend_from_slice(&u.to_le_bytes());
    }
    for (name, bytes) in [("le.csv", le), ("be.csv", be), ("bare.csv", bare)] {
        let f = csv_file(d.path(), name, bytes);
        for cmd in ["list", "otp", "check"] {
            let r = run(&[cmd, &f]);
            assert_eq!(r.code, 2, "{cmd} {name}: {}", r.stderr);
            assert!(r.stderr.contains("UTF-16"), "{cmd} {name}: {}", r.stderr);
            assert!(r.stdout.is_empty(), "{cmd} {name}: {}", r.stdout);
            assert!(!r.stderr.contains("panicked"));
        }
    }
}

#[test]
fn base32_spellings_all_decode_to_the_same_seed() {
    let d = tmp();
    let canonical = b32(SEED);
    let grouped = canonical.as_bytes().chunks(4).map(|c| std::str::from_utf8(c).unwrap()).collect::<Vec<_>>();
    let spellings = [
        canonical.clone(),
        canonical.to_lowercase(),
        grouped.join(" "),
        grouped.join("-"),
        format!("  {}  ", grouped.join(" ").to_lowercase()),
        data_encoding::BASE32.encode(b"oathbulk-test-secre"), // 19 bytes → padded form ends in '='
    ];
    let mut text = String::from("upn,serial number,secret key\n");
    for (i, s) in spellings.iter().enumerate() {
        text.push_str(&format!("u{i}@contoso.com,SN{i},\"{s}\"\n"));
    }
    let f = csv_file(d.path(), "t.csv", text);
    let r = run(&["otp", &f, "--at", &AT.to_string()]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let o = r.of_type("otp");
    let want = code(SEED, HashFunction::Sha1, 30, AT);
    for rec in &o[..5] {
        assert_eq!(rec["code"], want, "{rec}");
    }
    assert_eq!(o[5]["code"], code(b"oathbulk-test-secre", HashFunction::Sha1, 30, AT));
    assert!(data_encoding::BASE32.encode(b"oathbulk-test-secre").ends_with('='));
}

#[test]
fn hex_secrets_only_when_declared() {
    let d = tmp();
    let hex = data_encoding::HEXLOWER.encode(RFC_SEED);
    assert_eq!(hex.len(), 40);
    let hexf = csv_file(
        d.path(),
        "hex.csv",
        format!("upn,serial number,secret key\na@contoso.com,S1,{hex}\nb@contoso.com,S2,{}\n", hex.to_uppercase()),
    );
    let b32f =
        csv_file(d.path(), "b32.csv", format!("upn,serial number,secret key\na@contoso.com,S1,{}\n", b32(RFC_SEED)));
    for at in ["59", "1111111109", "1700000000"] {
        let h = run(&["otp", &hexf, "--secret-format", "hex", "--at", at]);
        let b = run(&["otp", &b32f, "--at", at]);
        assert_eq!(h.code, 0, "{}", h.stderr);
        assert_eq!(h.of_type("otp")[0]["code"], b.of_type("otp")[0]["code"], "at {at}");
        assert_eq!(h.of_type("otp")[1]["code"], b.of_type("otp")[0]["code"], "upper-case hex, at {at}");
    }
    assert_eq!(run(&["otp", &hexf, "--secret-format", "hex", "--at", "59"]).of_type("otp")[0]["code"], "287082");
    // Read as Base32 (the default), this hex has digits outside the alphabet: a row error with a hint.
    let r = run(&["otp", &hexf, "--at", "59"]);
    assert_eq!(r.code, 1);
    let e = r.of_type("row_error");
    assert_eq!(e.len(), 2);
    assert_eq!(e[0]["code"], "invalid_secret");
    assert!(e[0]["message"].as_str().unwrap().contains("--secret-format hex"), "{}", e[0]);
    // `list` with hex shows 160 bits.
    let r = run(&["list", &hexf, "--secret-format", "hex"]);
    assert_eq!(r.of_type("token")[0]["secret_bits"], 160);
}

#[test]
fn hash_column_spellings_and_default() {
    let (_d, f) = seeded_csv(
        "upn,serial number,secret key,hash\n\
         a@contoso.com,S1,{s},sha1\n\
         b@contoso.com,S2,{s},hmacsha1\n\
         c@contoso.com,S3,{s},sha256\n\
         d@contoso.com,S4,{s},hmacsha256\n\
         e@contoso.com,S5,{s},HMACSHA256\n\
         f@contoso.com,S6,{s},\n\
         g@contoso.com,S7,{s},md5\n",
    );
    let sha1 = code(SEED, HashFunction::Sha1, 30, AT);
    let sha256 = code(SEED, HashFunction::Sha256, 30, AT);
    assert_ne!(sha1, sha256);
    let r = run(&["otp", &f, "--at", &AT.to_string()]);
    assert_eq!(r.code, 1);
    let o = r.of_type("otp");
    let got: Vec<(&str, &str)> = o.iter().map(|r| (r["hash"].as_str().unwrap(), r["code"].as_str().unwrap())).collect();
    assert_eq!(
        got,
        vec![
            ("sha1", sha1.as_str()),
            ("sha1", &sha1),
            ("sha256", &sha256),
            ("sha256", &sha256),
            ("sha256", &sha256),
            ("sha1", &sha1) // empty cell: the default
        ]
    );
    let e = r.of_type("row_error");
    assert_eq!(e.len(), 1);
    assert_eq!(
        (&e[0]["line"], &e[0]["code"], &e[0]["field"]),
        (&Value::from(8), &Value::from("invalid_hash"), &Value::from("hash"))
    );
    // --hash sets the default for empty cells only.
    let r = run(&["otp", &f, "--at", &AT.to_string(), "--hash", "sha256"]);
    let o = r.of_type("otp");
    assert_eq!(o[5]["hash"], "sha256");
    assert_eq!(o[5]["code"], sha256);
    assert_eq!(o[0]["hash"], "sha1");
}

// ───────────────────────────── row errors ─────────────────────────────

#[test]
fn each_row_error_kind_with_line_field_and_code() {
    let (_d, f) = seeded_csv(
        "upn,serial number,secret key,time interval,hash\n\
         ok1@contoso.com,S2,{s},30,sha1\n\
         ms@contoso.com,,{s},30,sha1\n\
         is@contoso.com,S4,NOT*BASE32!,30,sha1\n\
         iv@contoso.com,S5,{s},45,sha1\n\
         uh@contoso.com,S6,{s},30,md5\n\
         rg@contoso.com,S7,{s}\n\
         not-an-address,S8,{s},30,sha1\n\
         ok2@contoso.com,S9,{s},60,sha256\n",
    );
    for cmd in ["list", "otp", "check"] {
        let r = run(&[cmd, &f, "--at", "1700000000"]
            .iter()
            .take(if cmd == "otp" { 4 } else { 2 })
            .copied()
            .collect::<Vec<_>>());
        assert_eq!(r.code, 1, "{cmd}: {}", r.stderr);
        let errs: Vec<(u64, String, Option<String>)> = r
            .of_type("row_error")
            .iter()
            .map(|e| {
                (e["line"].as_u64().unwrap(), e["code"].as_str().unwrap().into(), e["field"].as_str().map(Into::into))
            })
            .collect();
        let f = |s: &str| Some(s.to_string());
        assert_eq!(
            errs,
            vec![
                (3, "missing_serial".into(), f("serial")),
                (4, "invalid_secret".into(), f("secret")),
                (5, "invalid_time_interval".into(), f("time_interval")),
                (6, "invalid_hash".into(), f("hash")),
                (7, "ragged_row".into(), None),
                (8, "invalid_upn".into(), f("upn")),
            ],
            "{cmd}"
        );
        for e in r.of_type("row_error") {
            assert!(!e["message"].as_str().unwrap().is_empty());
        }
        // Errors name the row they belong to when they can.
        let iv = &r.of_type("row_error")[2];
        assert_eq!((iv["upn"].as_str(), iv["serial"].as_str()), (Some("iv@contoso.com"), Some("S5")));
        let s = r.summary();
        assert_eq!(s["command"], cmd);
        assert_eq!(s["rows"], 8, "{cmd}");
        assert_eq!(s["errors"], 6, "{cmd}");
        assert_eq!(s["ok"], 2, "{cmd}");
        assert_eq!(s["exit_code"], 1);
        for code in
            ["missing_serial", "invalid_secret", "invalid_time_interval", "invalid_hash", "ragged_row", "invalid_upn"]
        {
            assert_eq!(s["counts"][code], 1, "{cmd} {code}: {s}");
        }
        if cmd != "check" {
            let kind = if cmd == "list" { "token" } else { "otp" };
            let good: Vec<u64> = r.of_type(kind).iter().map(|t| t["line"].as_u64().unwrap()).collect();
            assert_eq!(good, vec![2, 9], "{cmd}: the other rows are still produced");
        }
    }
}

#[test]
fn missing_upn_is_a_row_error() {
    let d = tmp();
    let f = csv_file(d.path(), "t.csv", format!("upn,serial number,secret key\n,S1,{}\n", b32(SEED)));
    let r = run(&["list", &f]);
    assert_eq!(r.code, 1);
    let e = &r.of_type("row_error")[0];
    assert_eq!(
        (&e["code"], &e["field"], &e["line"]),
        (&Value::from("missing_upn"), &Value::from("upn"), &Value::from(2))
    );
}

#[test]
fn usage_and_input_errors_exit_2() {
    let d = tmp();
    let good =
        csv_file(d.path(), "good.csv", format!("upn,serial number,secret key\na@contoso.com,S1,{}\n", b32(SEED)));
    let nosecret = csv_file(d.path(), "nosecret.csv", "upn,serial number\na@contoso.com,S1\n");
    let noupn = csv_file(d.path(), "noupn.csv", "user principal,serial number\na@contoso.com,S1\n");
    let empty = csv_file(d.path(), "empty.csv", "");
    let missing = d.path().join("does-not-exist.csv");
    let missing = missing.to_str().unwrap();
    let cases: Vec<Vec<&str>> = vec![
        vec![],
        vec!["frobnicate"],
        vec!["list"],
        vec!["list", &good, "--no-such-flag"],
        vec!["otp", &good, "--at", "yesterday"],
        vec!["otp", &good, "--secret-format", "base64"],
        vec!["list", missing],
        vec!["otp", &nosecret, "--at", "0"],
        vec!["list", &noupn],
        vec!["list", &empty],
    ];
    for args in cases {
        let r = run(&args);
        assert_eq!(r.code, 2, "{args:?}: {}", r.stderr);
        assert!(!r.stderr.trim().is_empty(), "{args:?}: says why");
        assert!(!r.stderr.contains("panicked"), "{args:?}: {}", r.stderr);
        assert!(r.stdout.is_empty(), "{args:?}: nothing on stdout: {}", r.stdout);
    }
    // `list` does not need the secret column.
    assert_eq!(run(&["list", &nosecret]).code, 0);
}

// ───────────────────────────── check ─────────────────────────────

#[test]
fn check_finds_duplicates_users_over_five_and_weak_seeds() {
    let d = tmp();
    let strong = b32(SEED);
    let weak = b32(b"1234567890"); // 80 bits
    let mut text = String::from("upn,serial number,secret key,time interval\n");
    // Lines 2–7: six tokens for one user, spelled in mixed case.
    for (i, upn) in [
        "Carol@contoso.com",
        "carol@contoso.com",
        "CAROL@CONTOSO.COM",
        "carol@Contoso.com",
        "carol@contoso.com",
        "cArol@contoso.com",
    ]
    .iter()
    .enumerate()
    {
        text.push_str(&format!("{upn},C{i},{strong},30\n"));
    }
    text.push_str(&format!("dave@contoso.com,DUP,{strong},30\n")); // 8
    text.push_str(&format!("erin@contoso.com,OK1,{weak},30\n")); // 9: weak
    text.push_str(&format!("frank@contoso.com,DUP,{strong},60\n")); // 10
    text.push_str(&format!("grace@contoso.com,OK2,{strong},30\n")); // 11
    text.push_str(&format!("heidi@contoso.com,DUP,{strong},30\n")); // 12
    let f = csv_file(d.path(), "t.csv", text);
    let r = run(&["check", &f]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let findings = r.of_type("finding");
    let dup: Vec<&Value> = findings.iter().filter(|f| f["code"] == "duplicate_serial").collect();
    assert_eq!(dup.len(), 1, "{findings:?}");
    assert_eq!(dup[0]["lines"], serde_json::json!([8, 10, 12]));
    assert_eq!(dup[0]["serial"], "DUP");
    assert_eq!(dup[0]["severity"], "error");
    let many: Vec<&Value> = findings.iter().filter(|f| f["code"] == "too_many_tokens").collect();
    assert_eq!(many.len(), 1, "{findings:?}");
    assert_eq!(many[0]["lines"], serde_json::json!([2, 3, 4, 5, 6, 7]));
    assert_eq!(many[0]["severity"], "error");
    assert_eq!(many[0]["upn"].as_str().unwrap().to_lowercase(), "carol@contoso.com");
    let weak_f: Vec<&Value> = findings.iter().filter(|f| f["code"] == "weak_secret").collect();
    assert_eq!(weak_f.len(), 1);
    assert_eq!(weak_f[0]["severity"], "warn");
    assert_eq!(weak_f[0]["lines"], serde_json::json!([9]));
    assert_eq!(weak_f[0]["serial"], "OK1");
    let s = r.summary();
    assert_eq!(s["rows"], 11);
    assert_eq!(s["errors"], 9, "6 for carol + 3 duplicates; the weak seed is only a warning: {s}");
    assert_eq!(s["ok"], 2);
    assert_eq!(s["counts"]["duplicate_serial"], 1);
    assert_eq!(s["counts"]["too_many_tokens"], 1);
    assert_eq!(s["counts"]["weak_secret"], 1);
    assert_eq!(s["exit_code"], 1);
}

#[test]
fn check_with_only_weak_seeds_and_five_tokens_passes() {
    let d = tmp();
    let weak = b32(b"1234567890");
    let mut text = String::from("upn,serial number,secret key,manufacturer,model\n");
    for i in 0..5 {
        text.push_str(&format!("carol@contoso.com,C{i},{weak},Acme,C200\n"));
    }
    let f = csv_file(d.path(), "t.csv", text);
    let r = run(&["check", &f]);
    assert_eq!(r.code, 0, "{}", r.stdout);
    assert_eq!(r.of_type("finding").len(), 5);
    assert!(r.of_type("finding").iter().all(|f| f["code"] == "weak_secret" && f["severity"] == "warn"));
    let s = r.summary();
    assert_eq!((s["ok"].as_u64(), s["errors"].as_u64(), s["exit_code"].as_i64()), (Some(5), Some(0), Some(0)));
}

#[test]
fn check_clean_file_exits_0() {
    let d = tmp();
    // (A file without manufacturer and model gets a warning: `import` needs both.)
    let text = format!("upn,serial number,secret key,manufacturer,model\na@contoso.com,S1,{},Acme,C200\n", b32(SEED));
    let f = csv_file(d.path(), "t.csv", text);
    let r = run(&["check", &f]);
    assert_eq!(r.code, 0);
    assert_eq!(r.records().len(), 1, "only the summary: {}", r.stdout);
}

// ───────────────────────────── secrets ─────────────────────────────

#[test]
fn secrets_never_appear_without_reveal_secrets() {
    let d = tmp();
    let canonical = b32(SEED);
    let raw = canonical
        .as_bytes()
        .chunks(4)
        .map(|c| std::str::from_utf8(c).unwrap().to_lowercase())
        .collect::<Vec<_>>()
        .join(" ");
    let other = b32(b"another-secret-seed!");
    let invalid = format!("{}1", b32(b"secret-that-is-bad!!")); // '1' is not Base32
    let hex = data_encoding::HEXLOWER.encode(SEED);
    let text = format!(
        "upn,serial number,secret key,time interval,hash\n\
         a@contoso.com,S1,{raw},30,sha1\n\
         b@contoso.com,S2,{other},30,sha1\n\
         c@contoso.com,S3,{invalid},30,sha1\n\
         d@contoso.com,S4,{other},45,sha1\n\
         e@contoso.com,S5,{other},30,md5\n\
         f@contoso.com,S6,{other}\n\
         g@contoso.com,S2,{other},30,sha1\n\
         ,S8,{other},30,sha1\n"
    );
    let f = csv_file(d.path(), "t.csv", text);
    let hexf = csv_file(
        d.path(),
        "hex.csv",
        format!("upn,serial number,secret key\na@contoso.com,S1,{hex}\nb@contoso.com,S2,{hex}zz\n"),
    );
    let forbidden = [
        canonical.clone(),
        canonical.to_lowercase(),
        raw.clone(),
        other.clone(),
        invalid.clone(),
        invalid[..16].to_string(),
        hex.clone(),
        hex.to_uppercase(),
        canonical[..16].to_string(),
    ];
    let mut runs = 0;
    for (file, extra) in [(&f, vec![]), (&hexf, vec!["--secret-format", "hex"])] {
        for cmd in ["list", "otp", "check"] {
            for format in ["json", "table"] {
                let mut args = vec![cmd, file.as_str(), "--format", format];
                args.extend(&extra);
                if cmd == "otp" {
                    args.extend(["--at", "1700000000"]);
                }
                let r = run(&args);
                assert!(r.code == 0 || r.code == 1, "{args:?}: {}", r.stderr);
                for s in &forbidden {
                    assert!(!r.stdout.contains(s.as_str()), "{args:?} stdout leaks a secret: {}", r.stdout);
                    assert!(!r.stderr.contains(s.as_str()), "{args:?} stderr leaks a secret: {}", r.stderr);
                }
                runs += 1;
            }
        }
    }
    assert_eq!(runs, 12);
    // A header-level failure (missing column) names headers, never cells.
    let nohdr = csv_file(d.path(), "nohdr.csv", format!("upn,serial number\na@contoso.com,{canonical}\n"));
    let r = run(&["otp", &nohdr, "--at", "0"]);
    assert_eq!(r.code, 2);
    assert!(!r.stderr.contains(&canonical), "{}", r.stderr);
}

#[test]
fn reveal_secrets_puts_the_canonical_secret_in_records() {
    let d = tmp();
    let canonical = b32(SEED);
    let raw = canonical.to_lowercase();
    let f = csv_file(d.path(), "t.csv", format!("upn,serial number,secret key\na@contoso.com,S1,{raw}\n"));
    let r = run(&["list", &f, "--reveal-secrets"]);
    assert_eq!(r.of_type("token")[0]["secret"], canonical);
    let r = run(&["otp", &f, "--reveal-secrets", "--at", "1700000000"]);
    assert_eq!(r.of_type("otp")[0]["secret"], canonical);
    let hex = data_encoding::HEXLOWER.encode(SEED);
    let hexf = csv_file(d.path(), "hex.csv", format!("upn,serial number,secret key\na@contoso.com,S1,{hex}\n"));
    let r = run(&["otp", &hexf, "--secret-format", "hex", "--reveal-secrets", "--at", "0"]);
    assert_eq!(r.of_type("otp")[0]["secret"], canonical, "revealed as Base32, the form Entra takes");
}

// ───────────────────────────── time and format ─────────────────────────────

#[test]
fn at_accepts_rfc3339_and_unix_seconds() {
    let d = tmp();
    let f = csv_file(d.path(), "t.csv", format!("upn,serial number,secret key\na@contoso.com,S1,{}\n", b32(RFC_SEED)));
    for at in ["1234567890", "2009-02-13T23:31:30Z", "2009-02-14T00:31:30+01:00", "2009-02-13T23:31:30.000Z"] {
        let r = run(&["otp", &f, "--at", at]);
        assert_eq!(r.code, 0, "{at}: {}", r.stderr);
        let o = &r.of_type("otp")[0];
        assert_eq!(o["at"], 1_234_567_890, "{at}");
        assert_eq!(o["code"], "005924", "{at}: leading zeros kept");
        assert_eq!(o["step"], 1_234_567_890 / 30);
        assert_eq!(o["valid_for"], 30, "1234567890 is a step boundary");
    }
}

#[test]
fn clock_offset_shifts_the_step() {
    let d = tmp();
    let f = csv_file(d.path(), "t.csv", format!("upn,serial number,secret key\na@contoso.com,S1,{}\n", b32(SEED)));
    let r = run(&["otp", &f, "--at", "1700000010", "--clock-offset", "-90"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let o = &r.of_type("otp")[0];
    assert_eq!(o["at"], 1_699_999_920);
    assert_eq!(o["step"], 1_699_999_920 / 30);
    assert_eq!(o["step"], 1_700_000_010 / 30 - 3);
    assert_eq!(o["code"], code(SEED, HashFunction::Sha1, 30, 1_699_999_920));
    assert_ne!(o["code"], code(SEED, HashFunction::Sha1, 30, 1_700_000_010));
    // Without --at: the system clock plus the offset.
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
    let r = run(&["otp", &f, "--clock-offset", "-90"]);
    let at = r.of_type("otp")[0]["at"].as_u64().unwrap();
    assert!(at + 90 >= now && at + 90 <= now + 5, "at {at}, now {now}");
    let r = run(&["otp", &f, "--clock-offset=+3600"]);
    let at = r.of_type("otp")[0]["at"].as_u64().unwrap();
    assert!(at >= now + 3600 && at <= now + 3605, "at {at}, now {now}");
}

#[test]
fn format_table_renders_for_people() {
    let d = tmp();
    let f = csv_file(
        d.path(),
        "t.csv",
        format!("upn,serial number,secret key\nalice@contoso.com,SN1,{}\nbob@contoso.com,SN2,NOT*B32\n", b32(RFC_SEED)),
    );
    let r = run(&["otp", &f, "--at", "59", "--format", "table"]);
    assert_eq!(r.code, 1);
    assert!(serde_json::from_str::<Value>(r.stdout.lines().next().unwrap()).is_err(), "not JSON");
    for needle in ["code", "alice@contoso.com", "SN1", "287082", "1s", "invalid_secret", "otp: 2 rows, 1 ok, 1 errors"]
    {
        assert!(r.stdout.contains(needle), "missing {needle:?} in:\n{}", r.stdout);
    }
    let r = run(&["list", &f, "--format", "table"]);
    for needle in ["serial", "SN1", "sha1", "list: 2 rows, 1 ok, 1 errors"] {
        assert!(r.stdout.contains(needle), "missing {needle:?} in:\n{}", r.stdout);
    }
    let r = run(&["check", &f, "--format", "table"]);
    assert!(r.stdout.contains("check: 2 rows"), "{}", r.stdout);
}

#[test]
#[cfg_attr(
    windows,
    ignore = "closes the pipe with a POSIX shell's `| head -1` (bash -c); Windows has no such shell on every PATH"
)]
fn broken_pipe_ends_quietly() {
    let d = tmp();
    let s = b32(SEED);
    let mut text = String::with_capacity(3_000_000);
    text.push_str("upn,serial number,secret key,time interval\n");
    for i in 0..40_000 {
        text.push_str(&format!("user{i}@contoso.com,SN{i},{s},30\n"));
    }
    let f = csv_file(d.path(), "big.csv", text);
    let bin = assert_cmd::cargo::cargo_bin("oathbulk");
    for cmd in ["otp", "list", "check"] {
        let script = format!(
            "\"$0\" {cmd} \"$1\" {} 2>\"$2\" | head -1 >/dev/null; echo \"${{PIPESTATUS[0]}}\"",
            if cmd == "otp" { "--at 1700000000" } else { "" }
        );
        let err = d.path().join("stderr.txt");
        let out =
            std::process::Command::new("bash").arg("-c").arg(&script).arg(&bin).arg(&f).arg(&err).output().unwrap();
        let status = String::from_utf8(out.stdout).unwrap();
        let stderr = std::fs::read_to_string(&err).unwrap();
        assert!(!stderr.contains("panicked"), "{cmd}: {stderr}");
        assert!(stderr.trim().is_empty(), "{cmd}: quiet on a broken pipe, got: {stderr}");
        assert_eq!(status.trim(), "0", "{cmd}: exit status");
    }
}

#[test]
fn otp_output_is_flushed_and_complete_for_many_rows() {
    // Ordering and completeness over several internal batches.
    let d = tmp();
    let s = b32(SEED);
    let mut text = String::from("upn,serial number,secret key,time interval\n");
    let n = 10_007;
    for i in 0..n {
        if i % 1000 == 999 {
            text.push_str(&format!("user{i}@contoso.com,,{s},30\n"));
        } else {
            text.push_str(&format!("user{i}@contoso.com,SN{i},{s},{}\n", if i % 2 == 0 { 30 } else { 60 }));
        }
    }
    let f = csv_file(d.path(), "big.csv", text);
    let r = run(&["otp", &f, "--at", "1700000000"]);
    assert_eq!(r.code, 1);
    let recs = r.records();
    assert_eq!(recs.len(), n + 1);
    for (i, rec) in recs[..n].iter().enumerate() {
        assert_eq!(rec["line"], (i + 2) as u64, "file order kept");
        if i % 1000 == 999 {
            assert_eq!(rec["type"], "row_error");
        } else {
            assert_eq!(rec["serial"], format!("SN{i}"));
            let period = if i % 2 == 0 { 30 } else { 60 };
            assert_eq!(rec["code"], code(SEED, HashFunction::Sha1, period, 1_700_000_000));
        }
    }
    let s = r.summary();
    assert_eq!((s["rows"].as_u64(), s["errors"].as_u64()), (Some(n as u64), Some(10)));
    let _ = std::io::stdout().flush();
}

#[test]
fn lines_file_keeps_only_the_listed_lines() {
    let (d, csv) = rows_csv(&["a@contoso.com,S2", "b@contoso.com,S3", "bad,S4", "d@contoso.com,S5"]);
    let lines = csv_file(d.path(), "lines.txt", "5\n\n3\n");
    let r = run(&["list", &csv, "--lines", &lines]);
    let serials: Vec<Value> = r.of_type("token").iter().map(|t| t["serial"].clone()).collect();
    assert_eq!(serials, ["S3", "S5"]);
    assert!(!r.stdout.contains("row_error"), "line 4's error is not selected");

    csv_file(d.path(), "lines.txt", "3\nthree\n");
    let r = run(&["list", &csv, "--lines", &lines]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("'three' is not a line number"), "{}", r.stderr);
}

#[test]
fn summary_counts_rows_a_filter_left_out() {
    let (_d, csv) = rows_csv(&["a@contoso.com,S2", "b@fabrikam.com,S3", "c@fabrikam.com,S4"]);
    for cmd in ["list", "otp", "check", "users"] {
        let summary = run(&[cmd, &csv, "--where", r#"row.upn.ends_with("@contoso.com")"#]).summary();
        assert_eq!(summary["filtered"], 2, "{cmd}: {summary}");
    }
    let summary = run(&["list", &csv]).summary();
    assert!(summary.get("filtered").is_none(), "omitted when nothing was left out");
}
