//! The exit codes and stop reasons are one list (`oathbulk::stop`). The JSON-lines spec and the
//! README document it; this test fails when any of the three disagree.

use oathbulk::stop::{ExitCode, StopReason};
use std::collections::BTreeMap;
use std::path::Path;

fn read(rel: &str) -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(rel)).unwrap()
}

/// The rows of the first markdown table after `heading` (cells trimmed), header excluded.
fn table_after(doc: &str, heading: &str) -> Vec<Vec<String>> {
    let start = doc.find(heading).unwrap_or_else(|| panic!("heading {heading:?} not found"));
    doc[start..]
        .lines()
        .skip_while(|l| !l.starts_with('|'))
        .take_while(|l| l.starts_with('|'))
        .skip(2)
        .map(|l| l.trim_matches('|').split(" | ").map(|c| c.trim().trim_matches('`').to_string()).collect())
        .collect()
}

fn documented_exit_codes(doc: &str, heading: &str) -> Vec<i32> {
    table_after(doc, heading).iter().map(|row| row[0].parse().expect("an exit code")).collect()
}

#[test]
fn the_spec_lists_exactly_the_exit_codes_of_the_code() {
    let code: Vec<i32> = ExitCode::ALL.iter().map(|c| c.code()).collect();
    assert_eq!(documented_exit_codes(&read("docs/json-lines.md"), "## Exit codes"), code);
}

#[test]
fn the_readme_lists_exactly_the_exit_codes_of_the_code() {
    let code: Vec<i32> = ExitCode::ALL.iter().map(|c| c.code()).collect();
    assert_eq!(documented_exit_codes(&read("README.md"), "| exit code | meaning |"), code);
}

#[test]
fn the_spec_lists_exactly_the_stop_reasons_with_their_exit_codes() {
    let documented: BTreeMap<String, i32> = table_after(&read("docs/json-lines.md"), "### Stop reasons")
        .into_iter()
        .map(|row| (row[0].clone(), row[1].parse().expect("an exit code")))
        .collect();
    let code: BTreeMap<String, i32> =
        StopReason::ALL.iter().map(|r| (r.as_str().to_string(), r.exit_code().code())).collect();
    assert_eq!(documented, code);
}

#[test]
fn the_readme_names_every_stop_reason_and_no_other() {
    let readme = read("README.md");
    let line = readme.lines().skip_while(|l| !l.contains("summary.fatal.code")).take(2).collect::<String>();
    let named: Vec<&str> = line.split('`').skip(1).step_by(2).filter(|w| !w.contains('.')).collect();
    let code: Vec<&str> = StopReason::ALL.iter().map(|r| r.as_str()).collect();
    assert_eq!(named, code, "README's sentence on summary.fatal.code");
}

#[test]
fn the_spec_no_longer_promises_codes_that_are_never_produced() {
    let spec = read("docs/json-lines.md");
    for gone in ["\"forbidden\"", "\"input\""] {
        assert!(!spec.contains(gone), "docs/json-lines.md still names {gone}");
    }
}
