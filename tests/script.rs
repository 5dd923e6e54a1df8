//! End to end: the real binary with `--where`, `--order-by` and `--script`.

use assert_cmd::Command;
use serde_json::Value;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

const SECRET_A: &str = "GEZDGNBVGY3TQOJQ"; // "1234567890"
const SECRET_B: &str = "MFRGGZDFMZTWQ2LK"; // "abcdefghij"

/// Lines 2..=6. `Cost Center` is an extra column; S9 appears twice (a tie).
const CSV: &str = "\
upn,serial number,secret key,time interval,manufacturer,model,Cost Center
alice@contoso.com,S10,GEZDGNBVGY3TQOJQ,30,Acme,X1,100
bob@fabrikam.com,S9,MFRGGZDFMZTWQ2LK,30,Acme,X1,200
carol@contoso.local,S100,GEZDGNBVGY3TQOJQ,60,Acme,X2,100
dave@contoso.com,S9,GEZDGNBVGY3TQOJQ,30,Acme,X1,300
erin@Contoso.Local,S2,GEZDGNBVGY3TQOJQ,30,Acme,X2,100
";

struct Run {
    code: i32,
    records: Vec<Value>,
    stdout: String,
    stderr: String,
}

impl Run {
    fn of_type(&self, kind: &str) -> Vec<&Value> {
        self.records.iter().filter(|r| r["type"] == kind).collect()
    }
    fn tokens(&self, field: &str) -> Vec<String> {
        self.of_type("token").iter().map(|r| r[field].as_str().unwrap().to_string()).collect()
    }
    fn errors(&self) -> Vec<(u64, String, String)> {
        self.of_type("row_error")
            .iter()
            .map(|r| {
                (r["line"].as_u64().unwrap(), r["code"].as_str().unwrap().into(), r["message"].as_str().unwrap().into())
            })
            .collect()
    }
    fn summary(&self) -> &Value {
        let last = self.records.last().expect("a summary record");
        assert_eq!(last["type"], "summary", "{}", self.stdout);
        last
    }
}

fn csv_file(text: &str) -> tempfile::NamedTempFile {
    let mut f = tempfile::Builder::new().suffix(".csv").tempfile().unwrap();
    f.write_all(text.as_bytes()).unwrap();
    f
}

fn script_file(text: &str) -> tempfile::NamedTempFile {
    let mut f = tempfile::Builder::new().suffix(".rhai").tempfile().unwrap();
    f.write_all(text.as_bytes()).unwrap();
    f
}

fn example(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts").join(name)
}

/// Run `oathbulk <args>`; every stdout line must be a JSON record.
fn run(args: &[&str]) -> Run {
    let out = Command::cargo_bin("oathbulk").unwrap().args(args).timeout(Duration::from_secs(60)).output().unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();
    let stderr = String::from_utf8(out.stderr).unwrap();
    let records = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("stdout line is not JSON ({e}): {l}")))
        .collect();
    Run { code: out.status.code().expect("exited"), records, stdout, stderr }
}

fn list(csv: &Path, extra: &[&str]) -> Run {
    let mut args = vec!["list", csv.to_str().unwrap()];
    args.extend_from_slice(extra);
    run(&args)
}

#[test]
fn where_keeps_matching_rows_only() {
    let csv = csv_file(CSV);
    let r = list(csv.path(), &["--where", r#"row.upn.ends_with("@contoso.com")"#]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.tokens("upn"), ["alice@contoso.com", "dave@contoso.com"]);
    assert_eq!(r.summary()["rows"], 2);
}

#[test]
fn where_also_filters_otp() {
    let csv = csv_file(CSV);
    let r = run(&["otp", csv.path().to_str().unwrap(), "--at", "59", "--where", "row.time_interval == 60"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let otps = r.of_type("otp");
    assert_eq!(otps.len(), 1);
    assert_eq!(otps[0]["serial"], "S100");
}

#[test]
fn where_must_be_boolean() {
    let csv = csv_file(CSV);
    let r = list(csv.path(), &["--where", "row.serial"]);
    assert_eq!(r.code, 1);
    assert!(r.tokens("upn").is_empty());
    let errors = r.errors();
    assert_eq!(errors.len(), 5);
    assert_eq!((errors[0].0, errors[0].1.as_str()), (2, "script_error"));
    assert!(errors[0].2.contains("true or false") && errors[0].2.contains("\"S10\""), "{}", errors[0].2);
}

#[test]
fn order_by_number_string_and_stable_ties() {
    let csv = csv_file(CSV);
    // Numeric key: 2 < 9 < 9 < 10 < 100, and the two S9 rows keep file order (bob, dave).
    let r = list(csv.path(), &["--order-by", "row.serial.sub_string(1).parse_int()"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.tokens("serial"), ["S2", "S9", "S9", "S10", "S100"]);
    assert_eq!(r.tokens("upn")[1..3], ["bob@fabrikam.com", "dave@contoso.com"]);
    // String key: byte order.
    let r = list(csv.path(), &["--order-by", "row.serial"]);
    assert_eq!(r.tokens("serial"), ["S10", "S100", "S2", "S9", "S9"]);
    // Ties keep file order: X1 rows (lines 2, 3, 5) then X2 rows (4, 6).
    let r = list(csv.path(), &["--order-by", "row.model"]);
    let lines: Vec<u64> = r.of_type("token").iter().map(|t| t["line"].as_u64().unwrap()).collect();
    assert_eq!(lines, [2, 3, 5, 4, 6]);
    // Descending with a negated number (`=`: clap takes a leading '-' for a flag), with --where.
    let r =
        list(csv.path(), &["--where", r#"row.model == "X1""#, r#"--order-by=-row.extra["Cost Center"].parse_int()"#]);
    assert_eq!(r.tokens("upn"), ["dave@contoso.com", "bob@fabrikam.com", "alice@contoso.com"]);
}

#[test]
fn extra_columns_are_under_row_extra() {
    let csv = csv_file(CSV);
    let r = list(csv.path(), &["--where", r#"row.extra["Cost Center"] == "200""#]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.tokens("upn"), ["bob@fabrikam.com"]);
}

#[test]
fn secret_is_hidden_without_reveal_secrets() {
    let csv = csv_file(CSV);
    let expr = format!(r#"row.secret == "{SECRET_B}""#);
    let r = list(csv.path(), &["--where", &expr]);
    assert_eq!(r.code, 1);
    assert!(r.tokens("upn").is_empty());
    let errors = r.errors();
    assert_eq!(errors.len(), 5);
    assert!(errors.iter().all(|e| e.1 == "script_error" && e.2.contains("--reveal-secrets")), "{errors:?}");
    assert!(!r.stdout.contains(SECRET_A) && !r.stdout.contains(SECRET_B), "{}", r.stdout);
    // secret_bits is visible either way.
    let r = list(csv.path(), &["--where", "row.secret_bits == 80"]);
    assert_eq!(r.tokens("upn").len(), 5);
}

#[test]
fn secret_is_visible_with_reveal_secrets() {
    let csv = csv_file(CSV);
    let expr = format!(r#"row.secret == "{SECRET_B}""#);
    let r = list(csv.path(), &["--reveal-secrets", "--where", &expr]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.tokens("upn"), ["bob@fabrikam.com"]);
}

#[test]
fn map_fixes_the_upn_domain_and_is_validated() {
    let csv = csv_file(CSV);
    let script = script_file(
        "fn map(row) {\n  if row.serial == \"S2\" { row.upn = \"erin\"; }\n  row.upn.replace(\"@contoso.local\", \"@contoso.com\");\n  row\n}\n",
    );
    let r = list(csv.path(), &["--script", script.path().to_str().unwrap()]);
    assert_eq!(r.code, 1);
    assert_eq!(r.tokens("upn"), ["alice@contoso.com", "bob@fabrikam.com", "carol@contoso.com", "dave@contoso.com"]);
    // The map broke line 6's UPN: a row error, not a bad record.
    let errors = r.errors();
    assert_eq!(errors.len(), 1);
    assert_eq!((errors[0].0, errors[0].1.as_str()), (6, "invalid_upn"));
}

#[test]
fn infinite_loop_is_a_row_limit_and_other_rows_go_on() {
    let csv = csv_file(CSV);
    let script = script_file("fn filter(row) {\n  if row.upn.starts_with(\"bob\") {\n    loop { }\n  }\n  true\n}\n");
    let started = std::time::Instant::now();
    let r = list(csv.path(), &["--script", script.path().to_str().unwrap()]);
    assert!(started.elapsed() < Duration::from_secs(20), "the loop must end on its budget");
    assert_eq!(r.code, 1);
    let errors = r.errors();
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!((errors[0].0, errors[0].1.as_str()), (3, "script_limit"));
    assert!(errors[0].2.contains("Too many operations"), "{}", errors[0].2);
    assert_eq!(r.tokens("serial"), ["S10", "S100", "S9", "S2"]);
    assert_eq!(r.summary()["counts"]["script_limit"], 1);
}

#[test]
fn huge_string_is_a_row_limit() {
    let csv = csv_file(CSV);
    let script = script_file("fn map(row) {\n  let s = row.serial;\n  loop { s += s; }\n}\n");
    let r = list(csv.path(), &["--script", script.path().to_str().unwrap()]);
    assert_eq!(r.code, 1);
    let errors = r.errors();
    assert_eq!(errors.len(), 5);
    assert!(errors.iter().all(|e| e.1 == "script_limit" && e.2.contains("too large")), "{errors:?}");
}

#[test]
fn print_and_debug_go_to_stderr_not_stdout() {
    let csv = csv_file(CSV);
    let script = script_file("fn filter(row) {\n  print(\"seen \" + row.serial);\n  debug(row.line);\n  true\n}\n");
    let r = list(csv.path(), &["--script", script.path().to_str().unwrap()]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stderr.contains("script: line 2: seen S10\n"), "{}", r.stderr);
    assert!(r.stderr.contains("script: line 6: seen S2\n"), "{}", r.stderr);
    assert!(r.stderr.contains("script: line 3: debug at 3:3: 3\n"), "{}", r.stderr);
    assert!(!r.stdout.contains("seen"), "{}", r.stdout);
    assert_eq!(r.tokens("upn").len(), 5); // and every stdout line parsed as JSON
}

#[test]
fn compile_errors_exit_2_with_line_and_column() {
    let csv = csv_file(CSV);
    let r = list(csv.path(), &["--where", "row.upn == (1 +"]);
    assert_eq!(r.code, 2);
    assert!(r.records.is_empty(), "nothing on stdout: {}", r.stdout);
    assert!(r.stderr.contains("--where:1:"), "{}", r.stderr);

    let r = list(csv.path(), &["--order-by", "rwo.serial"]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("--order-by:1:1: Undefined variable: rwo"), "{}", r.stderr);

    let script = script_file("fn filter(row) {\n  row.upn ==\n}\n");
    let path = script.path().to_str().unwrap();
    let r = list(csv.path(), &["--script", path]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains(&format!("{path}:3:1: ")), "{}", r.stderr);

    let r = list(csv.path(), &["--where", r#"eval("true")"#]);
    assert_eq!(r.code, 2, "eval is disabled: {}", r.stderr);

    let r = list(csv.path(), &["--script", "/nonexistent/x.rhai"]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("cannot read script file /nonexistent/x.rhai"), "{}", r.stderr);
}

#[test]
fn runtime_error_names_script_position_and_csv_line() {
    let csv = csv_file(CSV);
    let script =
        script_file("fn filter(row) {\n  if row.line == 4 {\n    return row.serial.nosuch();\n  }\n  true\n}\n");
    let path = script.path().to_str().unwrap();
    let r = list(csv.path(), &["--script", path]);
    assert_eq!(r.code, 1);
    let errors = r.errors();
    assert_eq!(errors.len(), 1);
    assert_eq!((errors[0].0, errors[0].1.as_str()), (4, "script_error"));
    assert_eq!(errors[0].2, format!("{path}:3:23: Function not found: nosuch (string) (in fn filter)"));
    let record = r.of_type("row_error")[0];
    assert_eq!(record["upn"], "carol@contoso.local");
    assert_eq!(record["serial"], "S100");
    assert_eq!(r.tokens("serial").len(), 4);
}

#[test]
fn example_filter_domain() {
    let csv = csv_file(CSV);
    let r = list(csv.path(), &["--script", example("filter-domain.rhai").to_str().unwrap()]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.tokens("upn"), ["alice@contoso.com", "dave@contoso.com"]);
}

#[test]
fn example_order_by_serial() {
    let csv = csv_file(
        "upn,serial number\n\
         a@contoso.com,AB100\n\
         b@contoso.com,AB9\n\
         c@contoso.com,0042\n\
         d@contoso.com,AB10-2\n\
         e@contoso.com,AB10-10\n\
         f@contoso.com,AA900\n\
         g@contoso.com,AB009\n",
    );
    let r = list(csv.path(), &["--script", example("order-by-serial.rhai").to_str().unwrap()]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    // Numbers as numbers; AB009 ties with AB9 and keeps its later file position.
    assert_eq!(r.tokens("serial"), ["0042", "AA900", "AB9", "AB009", "AB10-2", "AB10-10", "AB100"]);
}

#[test]
fn example_fix_upn_suffix() {
    let csv = csv_file(CSV);
    let r = list(csv.path(), &["--script", example("fix-upn-suffix.rhai").to_str().unwrap()]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(
        r.tokens("upn"),
        ["alice@contoso.com", "bob@fabrikam.com", "carol@contoso.com", "dave@contoso.com", "erin@contoso.com"]
    );
    // Combined with --where, which sees the fixed rows.
    let r = list(
        csv.path(),
        &["--script", example("fix-upn-suffix.rhai").to_str().unwrap(), "--where", r#"row.model == "X2""#],
    );
    assert_eq!(r.tokens("upn"), ["carol@contoso.com", "erin@contoso.com"]);
}

#[test]
fn examples_document_a_runnable_command_line() {
    for name in ["filter-domain.rhai", "order-by-serial.rhai", "fix-upn-suffix.rhai", "users-by-serial.rhai"] {
        let text = std::fs::read_to_string(example(name)).unwrap();
        let line = format!("--script scripts/{name}");
        assert!(text.lines().take(12).any(|l| l.starts_with("//   oathbulk ") && l.contains(&line)), "{name}");
    }
    let readme = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/README.md")).unwrap();
    for needle in ["fn filter(row)", "fn key(row)", "fn map(row)", "row.extra", "script_limit", "--reveal-secrets"] {
        assert!(readme.contains(needle), "scripts/README.md should mention {needle}");
    }
}
