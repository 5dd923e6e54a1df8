//! Output that fits where it lands: the README's main command in a terminal shows a table and
//! ends with one line for a person; into a pipe or a file it is the JSON lines of
//! `--format json`, byte for byte, with no line for a person on a stderr no person reads.
//!
//! The terminal is a pseudo-terminal from util-linux `script` (`script -qec CMD /dev/null`):
//! stdout and stderr of CMD are both the terminal, as for a person at a shell.

mod common;

use common::{csv, Api, Tenant};
use oathbulk::simulate::SimConfig;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

const BIN: &str = env!("CARGO_BIN_EXE_oathbulk");

/// A `#[test]` that needs a pseudo-terminal: util-linux `script -qec` (ignored elsewhere).
macro_rules! terminal_test {
    (fn $name:ident() $body:block) => {
        #[test]
        #[cfg_attr(
            not(target_os = "linux"),
            ignore = "needs util-linux `script -qec` for a pseudo-terminal (BSD script on macOS takes other flags; Windows has none)"
        )]
        fn $name() $body
    };
}

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn quote(word: &str) -> String {
    format!("'{}'", word.replace('\'', r"'\''"))
}

/// `oathbulk ARGS` (and a shell `tail` of redirections) run under a pseudo-terminal, in the
/// repository; what the terminal showed, and the exit code.
fn in_terminal(args: &[&str], redirect: &str) -> (String, i32) {
    let mut line = quote(BIN);
    for a in args {
        line.push(' ');
        line.push_str(&quote(a));
    }
    line.push_str(redirect);
    let out = Command::new("script")
        .args(["-qec", &line, "/dev/null"])
        .current_dir(repo())
        .env("TERM", "xterm-256color")
        .env_remove("NO_COLOR")
        .stdin(Stdio::null())
        .output()
        .expect("util-linux `script` runs (apt-get install bsdutils): the terminal tests need a pseudo-terminal");
    (String::from_utf8_lossy(&out.stdout).into_owned(), out.status.code().unwrap_or(-1))
}

/// What a person sees, line by line: escape sequences dropped, and of a line redrawn in place
/// (`\r`, the progress bar) only its last drawing.
fn screen(raw: &str) -> Vec<String> {
    let mut text = String::with_capacity(raw.len());
    let mut chars = raw.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            // CSI: ESC [ params final-byte (0x40–0x7E); other escapes: ESC and one byte.
            if chars.peek() == Some(&'[') {
                chars.next();
                for c in chars.by_ref() {
                    if ('\u{40}'..='\u{7e}').contains(&c) {
                        break;
                    }
                }
            } else {
                chars.next();
            }
        } else {
            text.push(c);
        }
    }
    text.split('\n')
        .map(|l| l.trim_end_matches('\r').rsplit('\r').next().unwrap_or_default().trim_end().to_string())
        .filter(|l| !l.is_empty())
        .collect()
}

fn readme_command() -> Vec<&'static str> {
    vec!["activate", "examples/tokens.csv", "--simulate"]
}

fn piped(args: &[&str]) -> Output {
    Command::new(BIN).args(args).current_dir(repo()).stdin(Stdio::null()).output().unwrap()
}

fn json_lines(stdout: &[u8]) -> Vec<Value> {
    let text = std::str::from_utf8(stdout).expect("UTF-8");
    assert!(text.ends_with('\n'), "every line ends: {text:?}");
    text.lines().map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not a JSON line ({e}): {l:?}"))).collect()
}

terminal_test! {
    fn the_readme_command_in_a_terminal_shows_a_table_and_ends_with_the_closing_line() {
        let (raw, code) = in_terminal(&readme_command(), "");
        assert_eq!(code, 0, "{raw}");
        let lines = screen(&raw);
        assert!(!raw.contains("{\"type\""), "a table, not JSON lines, on a terminal:\n{raw}");
        let header = lines.iter().position(|l| l.contains("upn") && l.contains("serial") && l.contains("status"));
        let header = header.unwrap_or_else(|| panic!("a table header:\n{}", lines.join("\n")));
        let rows = lines[header..].iter().filter(|l| l.contains("activated") && l.contains("@contoso.com")).count();
        assert_eq!(rows, 20, "a row per token:\n{}", lines.join("\n"));
        let last = lines.last().unwrap();
        assert!(
            last.starts_with("activate: 20 rows, 20 ok, 0 errors [activated=20], ") && last.ends_with("(exit 0)"),
            "the last line says how the run went:\n{}",
            lines.join("\n")
        );
        assert!(last.contains(" requests, 0 throttled waits in "), "requests and waits: {last}");
        assert_eq!(lines.iter().filter(|l| l.starts_with("activate: ")).count(), 1, "once, not under the table too");
    }
}

#[test]
fn piped_the_readme_command_prints_json_lines_and_no_line_for_a_person() {
    let auto = piped(&readme_command());
    assert_eq!(auto.status.code(), Some(0), "{}", String::from_utf8_lossy(&auto.stderr));
    let mut json = readme_command();
    json.extend(["--format", "json"]);
    let forced = piped(&json);
    let (auto_records, forced_records) = (json_lines(&auto.stdout), json_lines(&forced.stdout));
    // Two runs differ in times and device ids, and parallel rows settle in any order; the
    // records are the same.
    let shapes = |records: &[Value]| {
        let mut shapes: Vec<String> = records
            .iter()
            .map(|r| format!("{}|{:>3}|{}|{}|{}", r["type"], r["line"], r["serial"], r["status"], r["upn"]))
            .collect();
        shapes.sort();
        shapes
    };
    assert_eq!(shapes(&auto_records), shapes(&forced_records));
    assert_eq!(auto_records.iter().filter(|r| r["status"] == "activated").count(), 20);
    assert_eq!(auto_records.last().unwrap()["type"], "summary");
    let stderr = String::from_utf8_lossy(&auto.stderr);
    assert!(!stderr.contains("activate: 20 rows"), "no closing line on a stderr no person reads: {stderr}");
}

#[test]
fn piped_stdout_is_byte_for_byte_what_format_json_prints() {
    // `otp --at` is deterministic but for the summary's elapsed_ms.
    let args = ["otp", "examples/tokens.csv", "--at", "2026-01-01T09:00:00Z"];
    let auto = piped(&args);
    let forced = piped(&[&args[..], &["--format", "json"]].concat());
    assert_eq!(auto.status.code(), Some(0));
    let without_elapsed = |out: &Output| -> String {
        let text = String::from_utf8(out.stdout.clone()).unwrap();
        let start = text.find("\"elapsed_ms\":").expect("the summary's elapsed_ms");
        let end = start + text[start..].find(',').unwrap();
        format!("{}{}", &text[..start], &text[end..])
    };
    assert_eq!(without_elapsed(&auto), without_elapsed(&forced));
    let records = json_lines(&auto.stdout);
    assert_eq!(records.len(), 21, "20 codes and the summary");
    assert!(records[..20].iter().all(|r| r["type"] == "otp"));
}

terminal_test! {
    fn stdout_into_a_file_is_json_and_the_terminal_still_gets_the_closing_line() {
        let dir = tempfile::tempdir().unwrap();
        let file: PathBuf = dir.path().join("out.jsonl");
        let (raw, code) = in_terminal(&readme_command(), &format!(" > {}", quote(file.to_str().unwrap())));
        assert_eq!(code, 0, "{raw}");
        let records = json_lines(&std::fs::read(&file).unwrap());
        assert_eq!(records.iter().filter(|r| r["type"] == "activation").count(), 20);
        let lines = screen(&raw);
        let last = lines.last().unwrap_or_else(|| panic!("the terminal shows something: {raw:?}"));
        assert!(last.starts_with("activate: 20 rows, 20 ok, 0 errors"), "{}", lines.join("\n"));
        assert!(!raw.contains("{\"type\""), "the records went to the file: {raw}");
    }
}

terminal_test! {
    fn forced_json_in_a_terminal_still_ends_with_the_closing_line() {
        let mut args = readme_command();
        args.extend(["--format", "json"]);
        let (raw, code) = in_terminal(&args, "");
        assert_eq!(code, 0, "{raw}");
        let lines = screen(&raw);
        // The bar and the records share the terminal: a record may follow a drawing of the bar.
        assert_eq!(lines.iter().filter(|l| l.contains("{\"type\":\"activation\"")).count(), 20, "{raw}");
        assert!(lines.last().unwrap().starts_with("activate: 20 rows, 20 ok, 0 errors"), "{}", lines.join("\n"));
    }
}

terminal_test! {
    fn progress_json_keeps_every_line_a_record_even_in_a_terminal() {
        let mut args = readme_command();
        args.extend(["--format", "json", "--progress", "json"]);
        let (raw, code) = in_terminal(&args, "");
        assert_eq!(code, 0, "{raw}");
        for line in screen(&raw) {
            assert!(serde_json::from_str::<Value>(&line).is_ok(), "a record, not text for a person: {line:?}");
        }
    }
}

/// A command built for a simulated tenant (tests/common), run under a pseudo-terminal of
/// 200 columns: its environment goes to `script`, which hands it on.
fn tenant_in_terminal(cmd: &Command) -> (String, i32) {
    let mut line = String::from("stty cols 200 rows 50 2>/dev/null; exec ");
    line.push_str(&quote(cmd.get_program().to_str().unwrap()));
    for a in cmd.get_args() {
        line.push(' ');
        line.push_str(&quote(a.to_str().unwrap()));
    }
    let mut script = Command::new("script");
    script.args(["-qec", &line, "/dev/null"]).env("TERM", "xterm-256color").stdin(Stdio::null());
    if let Some(dir) = cmd.get_current_dir() {
        script.current_dir(dir);
    }
    for (k, v) in cmd.get_envs() {
        match v {
            Some(v) => script.env(k, v),
            None => script.env_remove(k),
        };
    }
    let out = script.output().expect("util-linux `script` runs");
    (String::from_utf8_lossy(&out.stdout).into_owned(), out.status.code().unwrap_or(-1))
}

terminal_test! {
    fn failed_rows_in_a_terminal_end_with_the_next_step() {
        let t = Tenant::new(Api::Graph, &csv(12, |i| if i == 3 { "conflict" } else { "available" }), SimConfig::default());
        let (journal, log) = (t.path("run.jsonl"), t.path("errors.log"));
        let cmd = t.command(&["--journal", journal.to_str().unwrap(), "--error-log", log.to_str().unwrap()]);
        let (raw, code) = tenant_in_terminal(&cmd);
        assert_eq!(code, 1, "{raw}");
        let lines = screen(&raw);
        let last = lines.last().unwrap();
        assert!(last.starts_with("activate: 12 rows, 11 ok, 1 errors [activated=11, conflict=1]"), "{}", lines.join("\n"));
        let next = format!(
            "(exit 1). 1 row failed: see {}; re-run with --journal {} --resume to retry them",
            log.display(),
            journal.display()
        );
        assert!(last.ends_with(&next), "the next step:\n{last}\nwanted the end: {next}");
    }
}

terminal_test! {
    fn the_bar_shows_a_rounded_rate_and_says_when_the_tenant_asked_to_wait() {
        // Two writes a second, a burst of one: a run at up to 500/s meets 429s with Retry-After.
        let config = SimConfig { rate_limit: Some(2.0), rate_burst: Some(1.0), ..SimConfig::default() };
        let t = Tenant::new(Api::Graph, &csv(8, |_| "available"), config);
        let cmd = t.command(&["--progress", "auto", "--max-rate", "50", "--fixed-rate"]);
        let (raw, code) = tenant_in_terminal(&cmd);
        assert_eq!(code, 0, "{raw}");
        let plain: String = screen(&raw.replace('\r', "\n")).join("\n");
        assert!(
            plain.contains("— the tenant asked (Retry-After)") && plain.contains("waiting "),
            "the bar says why it stands still:\n{plain}"
        );
        // Every rate the bar showed has one decimal (`2.0/s`, never `1.9873/s`).
        let rates: Vec<&str> =
            plain.split_whitespace().filter(|w| w.ends_with("/s") && w.len() > 2 && w != &"-/s").collect();
        assert!(!rates.is_empty(), "the bar shows a rate:\n{plain}");
        for r in rates {
            let number = r.trim_end_matches("/s");
            let (_, decimals) = number.split_once('.').unwrap_or_else(|| panic!("{r}: one decimal"));
            assert_eq!(decimals.len(), 1, "{r}: one decimal");
        }
        let last = plain.lines().last().unwrap();
        assert!(last.starts_with("activate: 8 rows, 8 ok, 0 errors") && !last.contains(" 0 throttled waits"), "{last}");
    }
}

#[test]
fn the_powershell_module_asks_for_json_of_every_command_that_has_a_format() {
    let table = std::fs::read_to_string(repo().join("powershell/OathBulk/Private/CommandTable.psd1")).unwrap();
    let mut checked = 0;
    let mut subcommand = None;
    for line in table.lines().map(str::trim) {
        if let Some(rest) = line.strip_prefix("Subcommand") {
            subcommand = Some(rest.trim_start_matches([' ', '=']).trim_matches('\'').to_string());
        } else if let Some(rest) = line.strip_prefix("Fixed") {
            let sub = subcommand.take().expect("a Subcommand before each Fixed");
            let help = piped(&[&sub, "--help"]);
            let has_format = String::from_utf8_lossy(&help.stdout).contains("--format <FORMAT>");
            if has_format {
                assert!(rest.contains("'--format', 'json'"), "the module runs `{sub}` without --format json: {line}");
                checked += 1;
            }
        }
    }
    // list, otp, check, activate, tenant, users, doctor, import, deactivate, unassign, remove, undo,
    // status, report
    assert_eq!(checked, 14, "every cmdlet of a command with --format was seen");
}

terminal_test! {
    fn a_run_stopped_by_the_tenant_ends_with_the_closing_line_not_the_bar() {
        let config = SimConfig { forbidden: true, ..SimConfig::default() };
        let t = Tenant::new(Api::Graph, &csv(6, |_| "available"), config);
        let (raw, code) = tenant_in_terminal(&t.command(&["--progress", "auto"]));
        assert_eq!(code, 3, "{raw}");
        let lines = screen(&raw);
        let last = lines.last().unwrap();
        assert!(last.starts_with("activate: 6 rows, 0 ok, 6 errors [not_attempted=6]"), "{raw:?}");
        assert!(
            last.ends_with("(exit 3, stopped: auth_rejected). 6 rows not done: fix what stopped the run, then re-run the same command to finish"),
            "{raw:?}"
        );
        assert!(!raw.contains("resolve [") || raw.rfind("resolve [") < raw.rfind("activate: 6 rows"), "no bar after it");
    }
}
