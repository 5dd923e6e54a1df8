//! Where credentials and codes may come from (issue 27): `./AuthKey.txt` only when it is the
//! user's own, the plaintext test store never in a release binary, a typed code on standard
//! input (or a prompt) instead of argv.

mod common;

use common::{csv, offset_into_step, tenant_code, Api, Run, Tenant};
use oathbulk::simulate::SimConfig;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

const STORE_ENV: &str = "OATHBULK_TEST_ONLY_PLAINTEXT_STORE";

/// `BIN sub ARGS` in the tenant's folder with no credential from the environment, `stdin`
/// written to its standard input.
fn run_bin(bin: &Path, t: &Tenant, args: &[&str], envs: &[(&str, &Path)], stdin: &str) -> Run {
    let mut cmd = Command::new(bin);
    cmd.current_dir(t.dir.path())
        .env_remove("OATHBULK_TOKEN")
        .env_remove("OATHBULK_CLIENT_SECRET")
        .env_remove(STORE_ENV)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in envs {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().unwrap();
    // A process that exits before reading its stdin closes the pipe: not a failure here.
    let _ = child.stdin.take().unwrap().write_all(stdin.as_bytes());
    let run = Run::from(child.wait_with_output().unwrap());
    t.assert_secret_free(&run);
    run
}

fn debug_bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_oathbulk"))
}

fn tenant_args(t: &Tenant) -> Vec<String> {
    vec!["tenant".into(), "--graph-url".into(), t.sim().graph_url(), "--progress".into(), "none".into()]
}

fn refs(v: &[String]) -> Vec<&str> {
    v.iter().map(String::as_str).collect()
}

#[cfg(unix)]
fn chmod(path: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

/// `./AuthKey.txt` is used without being named: only when it belongs to the user running
/// oathbulk and no one else may write it. A planted one (another owner, or group/world
/// writable) is refused with a clear error, nothing sent, and its token never printed.
#[cfg(unix)]
#[test]
fn authkey_txt_is_used_only_when_it_is_the_users_own() {
    let t = Tenant::new(Api::Graph, &csv(3, |_| "assigned"), SimConfig::default());
    let authkey = t.path("AuthKey.txt");
    std::fs::write(&authkey, format!("Bearer {}\n", t.token)).unwrap();
    chmod(&authkey, 0o600);
    let args = tenant_args(&t);
    let ok = run_bin(&debug_bin(), &t, &refs(&args), &[], "");
    assert_eq!(ok.code, 0, "the user's own AuthKey.txt is used: {}", ok.stderr);

    for mode in [0o620, 0o602] {
        chmod(&authkey, mode);
        let requests = t.state().counters.requests;
        let r = run_bin(&debug_bin(), &t, &refs(&args), &[], "");
        assert_eq!(r.code, 2, "{}", r.stderr);
        assert!(r.stderr.contains("may be written by other users") && r.stderr.contains("chmod 600"), "{}", r.stderr);
        assert_eq!(t.state().counters.requests, requests, "nothing sent");
    }
    chmod(&authkey, 0o600);

    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        eprintln!("not root: the other-owner case needs chown (CI runs it as root)");
        return;
    }
    let nobody = 65534;
    std::os::unix::fs::chown(&authkey, Some(nobody), Some(nobody)).unwrap();
    let requests = t.state().counters.requests;
    let r = run_bin(&debug_bin(), &t, &refs(&args), &[], "");
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("belongs to another user (uid 65534"), "{}", r.stderr);
    assert!(r.stderr.contains("--token-file"), "the error says what to do: {}", r.stderr);
    assert_eq!(t.state().counters.requests, requests, "nothing sent");
    // Named explicitly, the same file is the user's choice.
    let named = [&refs(&args)[..], &["--token-file", "AuthKey.txt"]].concat();
    assert_eq!(run_bin(&debug_bin(), &t, &named, &[], "").code, 0);
}

/// The release binary (what users run) never honours the plaintext test store: a sign-in
/// kept there by a debug build (the test suites' binary) signs the debug build in and not the
/// release one. CI builds the release binary first (`.ci/run`); elsewhere the check needs
/// `cargo build --release` and is skipped without it.
#[test]
fn the_release_binary_ignores_the_plaintext_test_store() {
    let release = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/release/oathbulk");
    let t = Tenant::new(Api::Graph, &csv(3, |_| "assigned"), SimConfig::default());
    let store = t.path("test-store.json");
    std::fs::write(t.path("secret.txt"), "app-secret-2718").unwrap();
    let authority = t.sim().authority_url();
    let kept_for = ["--authority-url", &authority, "--tenant", "contoso.example", "--client-id", "test-app"];
    let login = [&["login", "--progress", "none", "--client-secret-file", "secret.txt"][..], &kept_for].concat();
    let r = run_bin(&debug_bin(), &t, &login, &[(STORE_ENV, &store)], "");
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(std::fs::read_to_string(&store).unwrap().contains("app-secret-2718"), "the debug build kept it there");
    let args = tenant_args(&t);
    // The control: the debug build signs in with what it kept.
    let r = run_bin(&debug_bin(), &t, &refs(&args), &[(STORE_ENV, &store)], "");
    assert_eq!(r.code, 0, "{}", r.stderr);

    if !release.exists() {
        assert!(std::env::var_os("CI").is_none(), "CI builds {} first (.ci/run)", release.display());
        eprintln!("skipped: no {} (cargo build --release)", release.display());
        return;
    }
    let before = std::fs::read(&store).unwrap();
    let tokens_issued = t.state().counters.requests;
    let r = run_bin(&release, &t, &refs(&args), &[(STORE_ENV, &store)], "");
    assert_ne!(r.code, 0, "the release binary signed in from the plaintext store: {}", r.stdout);
    assert!(r.stderr.contains(&format!("${STORE_ENV} is set and ignored")), "{}", r.stderr);
    assert!(!r.stderr.contains("app-secret-2718"));
    assert_eq!(std::fs::read(&store).unwrap(), before, "the store file is left alone");
    assert_eq!(t.state().counters.requests, tokens_issued, "no Graph request without a credential");
}

fn activate_args(t: &Tenant, extra: &[&str]) -> Vec<String> {
    let mut v: Vec<String> = ["activate", "--progress", "none"].map(String::from).to_vec();
    v.extend(t.backend_args());
    v.extend(extra.iter().map(|s| s.to_string()));
    v
}

/// `--code-stdin` reads the typed code from standard input, so it is never in argv (visible
/// to every user while it is valid); a line that is not six digits is a usage error that does
/// not repeat it, and stdin has one reader (not with `--token-stdin` nor a CSV `-`).
#[test]
fn a_typed_code_is_read_from_stdin_never_needed_in_argv() {
    // The tenant 2 s into its step: the typed code holds for the run.
    let offset = offset_into_step(2);
    let t =
        Tenant::new(Api::Graph, &csv(3, |_| "assigned"), SimConfig { clock_offset_secs: offset, ..Default::default() });
    let token = t.path("token.txt");
    std::fs::write(&token, &t.token).unwrap();
    #[cfg(unix)]
    chmod(&token, 0o600);
    let base = ["--serial", "SN00002", "--code-stdin", "--token-file", "token.txt"];

    let not_a_code = "eyJnot-a-code-4471\n";
    let r = run_bin(&debug_bin(), &t, &refs(&activate_args(&t, &base)), &[], not_a_code);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("--code-stdin: a verification code is exactly six digits"), "{}", r.stderr);
    assert!(!r.stderr.contains("not-a-code-4471") && !r.stdout.contains("not-a-code-4471"));

    for (extra, why) in [
        (&["--code", "123456"][..], "cannot be used with"),
        (&["--token-stdin"][..], "cannot be used with"),
        (&["-"][..], "reads standard input"),
    ] {
        let args = activate_args(&t, &[&base[..], extra].concat());
        let r = run_bin(&debug_bin(), &t, &refs(&args), &[], "123456\n");
        assert_eq!(r.code, 2, "{extra:?}: {}", r.stderr);
        assert!(r.stderr.contains(why), "{extra:?}: {}", r.stderr);
    }
    assert_eq!(t.state().device("SN00002").unwrap().activations, 0, "nothing activated yet");

    let code = tenant_code(2, offset);
    let r = run_bin(&debug_bin(), &t, &refs(&activate_args(&t, &base)), &[], &format!(" {code}\r\n"));
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.activations()["SN00002"]["status"], "activated");
    assert_eq!(t.state().device("SN00002").unwrap().status, "activated");
}

/// On a terminal, `--code-stdin` prompts for the code (on stderr) and reads the typed line.
#[cfg(unix)]
#[test]
fn a_typed_code_is_prompted_for_on_a_terminal() {
    let offset = offset_into_step(2);
    let t =
        Tenant::new(Api::Graph, &csv(3, |_| "assigned"), SimConfig { clock_offset_secs: offset, ..Default::default() });
    std::fs::write(t.path("token.txt"), &t.token).unwrap();
    chmod(&t.path("token.txt"), 0o600);
    let args = activate_args(&t, &["--serial", "SN00001", "--code-stdin", "--token-file", "token.txt"]);
    let mut line = String::new();
    for a in std::iter::once(env!("CARGO_BIN_EXE_oathbulk")).chain(refs(&args)) {
        line.push_str(&format!("'{}' ", a.replace('\'', r"'\''")));
    }
    let code = tenant_code(1, offset);
    let mut child = Command::new("script")
        .args(["-qec", &line, "/dev/null"])
        .current_dir(t.dir.path())
        .env_remove("OATHBULK_TOKEN")
        .env("TERM", "dumb")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("util-linux `script` runs (apt-get install bsdutils): the terminal tests need a pseudo-terminal");
    child.stdin.take().unwrap().write_all(format!("{code}\n").as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    let screen = String::from_utf8_lossy(&out.stdout);
    assert!(screen.contains("Type the six digits the token shows now"), "{screen}");
    assert_eq!(t.state().device("SN00001").unwrap().status, "activated", "{screen}");
    assert!(!screen.contains(&t.token));
}
