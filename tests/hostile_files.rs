//! Hostile vendor files, generated here, through the real binary: no seed in any output,
//! no silent success, no terminal escape reaching the screen (docs/security.md).

use std::process::{Command, Stdio};

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
    records: Vec<serde_json::Value>,
}

mod common;

fn seed(i: usize) -> String {
    common::seed_for(i)
}

fn rows(n: usize) -> Vec<String> {
    (0..n).map(|i| format!("user{i}@contoso.com,SN{i:05},{},30,Acme,T1", seed(i))).collect()
}

const HEADER: &str = "upn,serial number,secret key,time interval,manufacturer,model";

fn oathbulk(args: &[&str], csv: &[u8]) -> Run {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tokens.csv");
    std::fs::write(&path, csv).unwrap();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_oathbulk"));
    cmd.arg(args[0]).arg(&path).args(&args[1..]).stdin(Stdio::null());
    let out = cmd.output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let records = stdout.lines().filter_map(|l| serde_json::from_str(l).ok()).collect();
    let run = Run {
        code: out.status.code().unwrap_or(-1),
        stdout,
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        records,
    };
    assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
    run
}

fn assert_no_seed(run: &Run, n: usize) {
    for i in 0..n {
        let s = seed(i);
        assert!(
            !run.stdout.contains(&s) && !run.stderr.contains(&s),
            "seed {i} printed:\n{}\n{}",
            run.stdout,
            run.stderr
        );
    }
}

fn of_type<'a>(run: &'a Run, t: &str) -> Vec<&'a serde_json::Value> {
    run.records.iter().filter(|r| r["type"] == t).collect()
}

#[test]
fn a_malformed_row_prints_no_seed_and_the_others_go_on() {
    let mut lines = rows(40);
    lines[2] = lines[2].replacen("SN", "\"SN", 1); // a stray quote on line 4
    lines[5] = lines[5].replacen(",30,", ",", 1); // one column short on line 7
    lines[8] = lines[8].replacen("user8@contoso.com,SN00008,", "user8@contoso.com,", 1); // the seed in `serial`
    let text = format!("{HEADER}\n{}\n", lines.join("\n"));
    let run = oathbulk(&["check"], text.as_bytes());
    assert_no_seed(&run, 40);
    let errors: Vec<(u64, String)> = of_type(&run, "row_error")
        .iter()
        .map(|e| (e["line"].as_u64().unwrap(), e["code"].as_str().unwrap().to_string()))
        .collect();
    assert_eq!(errors, vec![(4, "unclosed_quote".into()), (7, "ragged_row".into()), (10, "ragged_row".into())]);
    for e in of_type(&run, "row_error") {
        assert!(e.get("upn").is_none() && e.get("serial").is_none(), "no cell of a misaligned row: {e}");
    }
    let run = oathbulk(&["list"], text.as_bytes());
    assert_eq!(of_type(&run, "token").len(), 37, "every other row is read");
}

#[test]
fn a_file_without_its_header_prints_no_seed() {
    let text = format!("{}\n", rows(3).join("\n"));
    for command in ["check", "list", "otp"] {
        let run = oathbulk(&[command], text.as_bytes());
        assert_eq!(run.code, 2, "{}", run.stderr);
        assert_no_seed(&run, 3);
        assert!(!run.stderr.contains("user0@contoso.com"), "no data line echoed: {}", run.stderr);
        assert!(run.stderr.contains("header"), "{}", run.stderr);
    }
}

#[test]
fn a_secret_column_under_an_unknown_name_is_refused_and_can_be_mapped() {
    for name in ["TOTP Seed", "OTP Secret", "Secret Key (Base32)"] {
        let text = format!(
            "upn,serial number,{name}\n{}\n",
            (0..3).map(|i| format!("u{i}@contoso.com,SN{i},{}", seed(i))).collect::<Vec<_>>().join("\n")
        );
        let run = oathbulk(&["list"], text.as_bytes());
        assert_eq!(run.code, 2, "{}", run.stdout);
        assert_no_seed(&run, 3);
        assert!(run.stderr.contains(&format!("--secret-column '{name}'")), "{}", run.stderr);
        let run = oathbulk(&["list", "--secret-column", name], text.as_bytes());
        assert_eq!(run.code, 0, "{}", run.stderr);
        assert_no_seed(&run, 3);
        let tokens = of_type(&run, "token");
        assert_eq!(tokens.len(), 3);
        assert_eq!(tokens[0]["secret_bits"], 160);
    }
}

#[test]
fn terminal_escapes_in_cells_are_shown_escaped() {
    let text = format!("{HEADER}\nalice@contoso.com,SN\u{1b}[2J1,{},30,Acme\u{9b}31m,T\u{7}1\n", seed(0));
    let run = oathbulk(&["list", "--format", "table"], text.as_bytes());
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(!run.stdout.contains('\u{1b}') && !run.stdout.contains('\u{9b}') && !run.stdout.contains('\u{7}'));
    assert!(run.stdout.contains("SN\\x1b[2J1") && run.stdout.contains("Acme\\x9b31m"), "{}", run.stdout);
    let run = oathbulk(&["list"], text.as_bytes());
    assert!(!run.stdout.contains('\u{9b}') && run.stdout.contains("\\u009b"), "JSON escapes C1: {}", run.stdout);
    assert_eq!(of_type(&run, "token")[0]["manufacturer"], "Acme\u{9b}31m", "the value itself is intact");
    // A row error quoting a cell (an aligned row, not the secret column) escapes it too.
    let bad = format!("{HEADER}\nalice@contoso.com,SN1,{},4\u{1b}5,Acme,T1\n", seed(0));
    let run = oathbulk(&["check", "--format", "table"], bad.as_bytes());
    assert!(!run.stdout.contains('\u{1b}') && run.stdout.contains("\\x1b"), "{}", run.stdout);
}

#[test]
fn cr_only_line_ends_are_read_as_line_ends() {
    let text = format!("{HEADER}\r{}\r", rows(5).join("\r"));
    let run = oathbulk(&["list"], text.as_bytes());
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(of_type(&run, "token").len(), 5);
    // Bytes after the header that hold no row: not a silent success.
    let run = oathbulk(&["list"], format!("{HEADER}\n,,,,,\n").as_bytes());
    assert_ne!(run.code, 0);
    assert_eq!(of_type(&run, "row_error")[0]["code"], "no_rows");
}

#[test]
fn an_early_nul_byte_is_not_called_utf16() {
    let run = oathbulk(&["list"], format!("{HEADER}\n\0{}\n", rows(1)[0]).as_bytes());
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("NUL") && !run.stderr.contains("UTF-16"), "{}", run.stderr);
}

#[test]
fn sort_keys_have_a_memory_bound() {
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("key.rhai");
    std::fs::write(&script, "fn key(row) { let k = row.upn; k.pad(65000, 'x'); k }").unwrap();
    let text = format!("{HEADER}\n{}\n", rows(3_000).join("\n"));
    let run = oathbulk(&["list", "--script", script.to_str().unwrap()], text.as_bytes());
    assert_eq!(run.code, 1, "{}", run.stderr);
    let errors = of_type(&run, "row_error");
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0]["code"], "script_limit");
    assert!(of_type(&run, "token").is_empty(), "no half-sorted output");
}
