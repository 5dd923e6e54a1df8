//! The test command's last line is true (`.ci/test`, README's "Run the tests"): it counts the
//! tests that passed, failed and were skipped, in the `N passed, N failed, N skipped` shape CI
//! tools read, after a line that says what was skipped and why — and a failure still ends it
//! non-zero.
//!
//! `.ci/test` runs here in a copy of the repository's `.ci/` and Pester suites, with stand-ins
//! for `cargo`, `pwsh` and `actionlint` on PATH that print what the real tools print.

#![cfg(unix)]

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

const NEXTEST: &str = "    Starting 380 tests across 30 binaries (1 test skipped)
        PASS [   0.010s] oathbulk human::tests::elapsed_reads_at_every_scale
------------
     Summary [  45.123s] 380 tests run: 379 passed, 1 failed, 1 skipped
        FAIL [   0.020s] oathbulk some::test
";

const NEXTEST_PASS: &str = "     Summary [  45.123s] 380 tests run: 380 passed, 1 skipped\n";

fn script(dir: &Path, name: &str, body: &str) {
    let path = dir.join(name);
    std::fs::write(&path, format!("#!/usr/bin/env bash\n{body}")).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

struct Repo {
    _dir: tempfile::TempDir,
    root: PathBuf,
    bin: PathBuf,
    pester_its: usize,
}

/// A repository with `.ci/` and `powershell/tests/` of this one, and stand-in tools.
/// `cargo nextest run` prints `$FAKE_NEXTEST` and exits `$FAKE_NEXTEST_STATUS`; `pwsh` says it is
/// `$FAKE_PWSH_VERSION` and its Pester run writes `$FAKE_PESTER` (passed failed skipped) and
/// exits `$FAKE_PESTER_STATUS`.
fn repo(with_pwsh: bool) -> Repo {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("clone");
    let here = Path::new(env!("CARGO_MANIFEST_DIR"));
    std::fs::create_dir_all(root.join(".ci")).unwrap();
    std::fs::create_dir_all(root.join("powershell/tests")).unwrap();
    for f in ["test", "counts.sh"] {
        std::fs::copy(here.join(".ci").join(f), root.join(".ci").join(f)).unwrap();
    }
    let mut pester_its = 0;
    for entry in std::fs::read_dir(here.join("powershell/tests")).unwrap() {
        let path = entry.unwrap().path();
        if path.to_str().unwrap().ends_with(".Tests.ps1") {
            let text = std::fs::read_to_string(&path).unwrap();
            pester_its += text.lines().filter(|l| l.trim_start().starts_with("It ")).count();
            std::fs::copy(&path, root.join("powershell/tests").join(path.file_name().unwrap())).unwrap();
        }
    }
    let bin = dir.path().join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    script(
        &bin,
        "cargo",
        r#"case "$1 $2" in
  "nextest --version") echo "cargo-nextest 0.9.0" ;;
  "nextest run") printf '%s' "$FAKE_NEXTEST"; exit "${FAKE_NEXTEST_STATUS:-0}" ;;
  *) exit 0 ;;
esac
"#,
    );
    script(&bin, "actionlint", "exit 0\n");
    // Only these tools on PATH: a pwsh installed on this machine must not be found.
    for tool in ["bash", "env", "dirname", "grep", "tail", "tee", "mktemp", "rm", "cat"] {
        let real = ["/usr/bin", "/bin", "/usr/local/bin"]
            .iter()
            .map(|d| Path::new(d).join(tool))
            .find(|p| p.exists())
            .unwrap_or_else(|| panic!("{tool} is installed"));
        std::os::unix::fs::symlink(real, bin.join(tool)).unwrap();
    }
    if with_pwsh {
        script(
            &bin,
            "pwsh",
            r#"case "$*" in
  *PSVersionTable*) echo "$FAKE_PWSH_VERSION" ;;
  *Invoke-Pester*) echo "$FAKE_PESTER" >"$PESTER_COUNTS"; exit "${FAKE_PESTER_STATUS:-0}" ;;
esac
"#,
        );
    }
    Repo { _dir: dir, root, bin, pester_its }
}

/// `bash .ci/test` in `repo`; its exit code and its last two stdout lines.
fn run(repo: &Repo, env: &[(&str, &str)]) -> (i32, String, String) {
    let mut cmd = Command::new(repo.bin.join("bash"));
    cmd.arg(repo.root.join(".ci/test")).env_clear().env("PATH", &repo.bin).env("HOME", repo.root.parent().unwrap());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = stdout.lines().collect();
    assert!(lines.len() >= 2, "{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    let (why, counts) = (lines[lines.len() - 2].to_string(), lines[lines.len() - 1].to_string());
    assert!(stdout.ends_with(&format!("{counts}\n")), "nothing after the counts: {stdout:?}");
    (out.status.code().unwrap_or(-1), why, counts)
}

#[test]
fn without_pwsh_the_last_line_counts_the_pester_tests_as_skipped_and_says_why() {
    let r = repo(false);
    assert!(r.pester_its > 50, "the Pester suites were copied: {}", r.pester_its);
    let (code, why, counts) = run(&r, &[("FAKE_NEXTEST", NEXTEST_PASS)]);
    assert_eq!(code, 0);
    assert_eq!(counts, format!("380 passed, 0 failed, {} skipped", 1 + r.pester_its));
    assert!(why.starts_with("skipped: 1 Rust test(s) (#[ignore]"), "{why}");
    assert!(why.contains(&format!("; {} Pester tests: pwsh 7.4+ not found", r.pester_its)), "{why}");
}

#[test]
fn under_ci_a_missing_pwsh_fails_and_still_counts() {
    let r = repo(false);
    let (code, why, counts) = run(&r, &[("FAKE_NEXTEST", NEXTEST_PASS), ("CI", "true")]);
    assert_eq!(code, 1);
    assert_eq!(counts, format!("380 passed, 1 failed, {} skipped", 1 + r.pester_its));
    assert!(why.contains("pwsh 7.4+ not found"), "{why}");
}

#[test]
fn a_failing_rust_test_ends_the_command_non_zero_with_its_count() {
    let r = repo(true);
    let (code, why, counts) =
        run(&r, &[("FAKE_NEXTEST", NEXTEST), ("FAKE_NEXTEST_STATUS", "100"), ("FAKE_PWSH_VERSION", "7.6.0")]);
    assert_eq!(code, 1);
    assert_eq!(counts, format!("379 passed, 1 failed, {} skipped", 1 + r.pester_its));
    assert!(why.contains("Pester tests (not run: the Rust tests failed)"), "{why}");
}

#[test]
fn a_test_run_that_fails_without_a_failing_test_is_not_counted_a_pass() {
    // A test target that does not build: no summary, a non-zero exit.
    let r = repo(true);
    let (code, _, counts) = run(&r, &[("FAKE_NEXTEST", "error: could not compile\n"), ("FAKE_NEXTEST_STATUS", "101")]);
    assert_eq!(code, 1);
    assert!(counts.starts_with("0 passed, 1 failed, "), "{counts}");
}

#[test]
fn pester_results_are_added_to_the_counts() {
    let r = repo(true);
    let env = [("FAKE_NEXTEST", NEXTEST_PASS), ("FAKE_PWSH_VERSION", "7.6.0"), ("FAKE_PESTER", "170 0 5")];
    let (code, why, counts) = run(&r, &env);
    assert_eq!(code, 0);
    assert_eq!(counts, "550 passed, 0 failed, 6 skipped");
    assert!(why.contains("; 5 Pester test(s) (-Skip"), "{why}");
    // A Pester failure: counted, and the command fails.
    let env = [
        ("FAKE_NEXTEST", NEXTEST_PASS),
        ("FAKE_PWSH_VERSION", "7.6.0"),
        ("FAKE_PESTER", "168 2 5"),
        ("FAKE_PESTER_STATUS", "1"),
    ];
    let (code, _, counts) = run(&r, &env);
    assert_eq!(code, 1);
    assert_eq!(counts, "548 passed, 2 failed, 6 skipped");
}

#[test]
fn an_old_pwsh_is_a_skip_that_names_its_version() {
    let r = repo(true);
    let (code, why, counts) = run(&r, &[("FAKE_NEXTEST", NEXTEST_PASS), ("FAKE_PWSH_VERSION", "7.2.19")]);
    assert_eq!(code, 0);
    assert_eq!(counts, format!("380 passed, 0 failed, {} skipped", 1 + r.pester_its));
    assert!(why.contains("pwsh 7.4+ not found") && why.contains("is 7.2.19"), "{why}");
}
