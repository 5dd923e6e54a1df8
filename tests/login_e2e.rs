//! Lasting sign-in against the simulator's identity endpoints: `login` once and later
//! commands need no prompt; a revoked refresh token falls back to one prompt (and the new
//! sign-in is kept); `logout` forgets it. The credential store is the test-only plaintext
//! file (`OATHBULK_TEST_ONLY_PLAINTEXT_STORE`): keyring's mock store cannot span processes.
//! Plus `completions` and `manpages`, generated from the same command tree.

mod common;

use common::{csv, Api, Run, Tenant};
use oathbulk::simulate::SimConfig;
use std::path::Path;
use std::process::{Command, Stdio};

const STORE_ENV: &str = "OATHBULK_TEST_ONLY_PLAINTEXT_STORE";

/// `oathbulk ARGS` in the tenant's folder, with the test store and no other credential.
fn oathbulk(t: &Tenant, args: &[&str]) -> Run {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_oathbulk"));
    cmd.current_dir(t.dir.path())
        .env(STORE_ENV, store_path(t))
        .env_remove("OATHBULK_TOKEN")
        .env_remove("OATHBULK_CLIENT_SECRET")
        .args(args)
        .stdin(Stdio::null());
    let run = Run::from(cmd.output().unwrap());
    t.assert_secret_free(&run);
    // The kept refresh tokens never reach the output either.
    for secret in kept_secrets(t) {
        assert!(!run.stdout.contains(&secret) && !run.stderr.contains(&secret), "a kept secret was printed");
    }
    run
}

fn store_path(t: &Tenant) -> std::path::PathBuf {
    t.path("test-store.json")
}

fn store(t: &Tenant) -> serde_json::Map<String, serde_json::Value> {
    match std::fs::read_to_string(store_path(t)) {
        Ok(text) => serde_json::from_str(&text).unwrap(),
        Err(_) => Default::default(),
    }
}

fn kept_secrets(t: &Tenant) -> Vec<String> {
    store(t)
        .values()
        .filter_map(|v| serde_json::from_str::<serde_json::Value>(v.as_str()?).ok())
        .filter_map(|e| e["secret"].as_str().map(str::to_string))
        .filter(|s| !s.is_empty()) // a certificate's entry keeps no secret
        .collect()
}

fn login(t: &Tenant) -> Run {
    let authority = t.sim().authority_url();
    oathbulk(t, &["login", "--tenant", "contoso.example", "--authority-url", &authority, "--progress", "none"])
}

fn device_code_prompts(t: &Tenant) -> u64 {
    t.state().counters.requests_by_route.get("login.devicecode").copied().unwrap_or(0)
}

fn tenant() -> Tenant {
    Tenant::new(Api::Graph, &csv(6, |_| "available"), SimConfig { device_code_interval_secs: 1, ..Default::default() })
}

/// Three different commands, none naming a credential.
fn three_commands(t: &Tenant) -> Vec<Run> {
    let graph = t.sim().graph_url();
    let csv = t.csv.to_str().unwrap().to_string();
    vec![
        oathbulk(t, &["tenant", "--graph-url", &graph, "--progress", "none"]),
        oathbulk(t, &["users", &csv, "--graph-url", &graph, "--progress", "none"]),
        oathbulk(t, &["activate", &csv, "--graph-url", &graph, "--progress", "none", "--max-rate", "100"]),
    ]
}

#[test]
fn login_once_then_three_commands_with_exactly_one_prompt() {
    let t = tenant();
    let run = login(&t);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stderr.contains("To sign in"), "login prompts: {}", run.stderr);
    assert_eq!(device_code_prompts(&t), 1);
    assert!(store(&t).contains_key("last-login"), "{:?}", store(&t).keys());

    for run in three_commands(&t) {
        assert_eq!(run.code, 0, "{}", run.stderr);
        assert!(!run.stderr.contains("To sign in"), "no second prompt: {}", run.stderr);
    }
    assert_eq!(device_code_prompts(&t), 1, "exactly one device-code prompt in four runs");
    let state = t.state();
    assert!(state.devices.iter().all(|d| d.status == "activated"), "the third command did its work");
    assert!(state.counters.unauthorized == 0);
}

#[test]
fn doctor_names_the_kept_sign_in_and_how_long_it_lasts() {
    let t = tenant();
    assert_eq!(login(&t).code, 0);
    let graph = t.sim().graph_url();
    let run = oathbulk(&t, &["doctor", "--graph-url", &graph, "--progress", "none"]);
    let check = run.records.iter().find(|r| r["check"] == "credential_source").expect("a credential_source check");
    let message = check["message"].as_str().unwrap();
    assert!(message.contains("oathbulk login"), "{message}");
    assert!(message.contains("90 days"), "{message}");
}

#[test]
fn a_revoked_refresh_token_falls_back_to_one_prompt_and_the_new_sign_in_is_kept() {
    let t = tenant();
    assert_eq!(login(&t).code, 0);
    let before = kept_secrets(&t);
    t.sim().revoke_refresh_tokens();

    let graph = t.sim().graph_url();
    let run = oathbulk(&t, &["tenant", "--graph-url", &graph, "--progress", "none"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stderr.contains("no longer works"), "{}", run.stderr);
    assert!(run.stderr.contains("To sign in"), "a new prompt: {}", run.stderr);
    assert_eq!(device_code_prompts(&t), 2);
    assert_ne!(kept_secrets(&t), before, "the new refresh token replaced the revoked one");

    let run = oathbulk(&t, &["tenant", "--graph-url", &graph, "--progress", "none"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(device_code_prompts(&t), 2, "silent again after the new sign-in");
}

#[test]
fn device_code_flag_uses_the_kept_sign_in_too() {
    let t = tenant();
    assert_eq!(login(&t).code, 0);
    let (graph, authority) = (t.sim().graph_url(), t.sim().authority_url());
    let args = [
        "tenant",
        "--graph-url",
        &graph,
        "--device-code",
        "--tenant",
        "contoso.example",
        "--authority-url",
        &authority,
    ];
    let run = oathbulk(&t, &args);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(device_code_prompts(&t), 1);
}

#[test]
fn logout_removes_the_entry_and_later_commands_need_credentials_again() {
    let t = tenant();
    assert_eq!(login(&t).code, 0);
    let run = oathbulk(&t, &["logout", "--progress", "none"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(store(&t).is_empty(), "nothing left: {:?}", store(&t).keys());

    let graph = t.sim().graph_url();
    let run = oathbulk(&t, &["tenant", "--graph-url", &graph, "--progress", "none"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("no credentials"), "{}", run.stderr);
    assert_eq!(device_code_prompts(&t), 1, "no prompt without a kept sign-in");

    let run = oathbulk(&t, &["logout", "--progress", "none"]);
    assert_eq!(run.code, 0);
    assert!(run.stderr.contains("no kept sign-in"), "{}", run.stderr);
}

#[test]
fn app_only_login_keeps_the_secret_and_later_commands_use_it() {
    let t = tenant();
    let authority = t.sim().authority_url();
    let secret_file = t.path("secret.txt");
    std::fs::write(&secret_file, "app-secret-5531").unwrap();
    let run = oathbulk(
        &t,
        &[
            "login",
            "--tenant",
            "contoso.example",
            "--client-id",
            "test-app",
            "--client-secret-file",
            secret_file.to_str().unwrap(),
            "--authority-url",
            &authority,
            "--progress",
            "none",
        ],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(!run.stderr.contains("To sign in"));
    std::fs::remove_file(&secret_file).unwrap();
    let graph = t.sim().graph_url();
    let run = oathbulk(&t, &["tenant", "--graph-url", &graph, "--progress", "none"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(device_code_prompts(&t), 0);
    assert!(!run.stderr.contains("app-secret-5531"));
}

#[test]
fn certificate_login_keeps_the_path_and_thumbprint_only_and_a_replaced_certificate_is_refused() {
    use common::certs::TestCert;
    let dir = tempfile::tempdir().unwrap();
    let cert = TestCert::new(dir.path(), "app", false);
    let t = Tenant::new(
        Api::Graph,
        &csv(3, |_| "available"),
        SimConfig { client_id: Some("cert-app".into()), client_certificates: cert.registered(), ..Default::default() },
    );
    let (authority, graph) = (t.sim().authority_url(), t.sim().graph_url());
    let pem = t.path("app.pem");
    std::fs::copy(&cert.pem, &pem).unwrap();
    let login_args = [
        "login",
        "--tenant",
        "contoso.example",
        "--client-id",
        "cert-app",
        "--certificate",
        "app.pem",
        "--authority-url",
    ];
    let run = oathbulk(&t, &[&login_args[..], &[authority.as_str(), "--progress", "none"]].concat());
    assert_eq!(run.code, 0, "{}", run.stderr);
    let thumbprint: String = cert.sha1.iter().map(|b| format!("{b:02X}")).collect();
    assert!(run.stderr.contains(&thumbprint), "login names the certificate: {}", run.stderr);
    let kept = std::fs::read_to_string(store_path(&t)).unwrap();
    assert!(kept.contains(&thumbprint) && kept.contains("app.pem"), "{kept}");
    assert!(!kept.contains("PRIVATE"), "no key in the store");
    cert.assert_key_absent(&kept, "the credential store");

    // Later commands name no credential: the kept certificate signs them in.
    let run = oathbulk(&t, &["tenant", "--graph-url", &graph, "--progress", "none"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(t.state().counters.client_assertions_accepted, 2);
    let run = oathbulk(&t, &["doctor", "--graph-url", &graph, "--progress", "none"]);
    let source = run.records.iter().find(|r| r["check"] == "credential_source").expect("a credential_source check");
    assert!(source["message"].as_str().unwrap().contains("certificate"), "{source}");
    cert.assert_key_absent(&run.stdout, "stdout");
    cert.assert_key_absent(&run.stderr, "stderr");

    // The file now holds another certificate (renewed, say): refused until `login` again.
    let renewed = TestCert::new(t.dir.path(), "renewed", false);
    std::fs::copy(&renewed.pem, &pem).unwrap();
    let run = oathbulk(&t, &["tenant", "--graph-url", &graph, "--progress", "none"]);
    assert_eq!(run.code, 3, "{}", run.stderr);
    assert!(run.stderr.contains("oathbulk login --certificate"), "{}", run.stderr);
    renewed.assert_key_absent(&run.stderr, "stderr");

    let run = oathbulk(&t, &["logout", "--progress", "none"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(store(&t).is_empty(), "nothing left: {:?}", store(&t).keys());
}

#[test]
fn completions_for_every_shell_name_the_subcommands() {
    for (shell, marker) in [
        ("bash", "complete -F"),
        ("zsh", "#compdef oathbulk"),
        ("fish", "complete -c oathbulk"),
        ("powershell", "Register-ArgumentCompleter"),
        ("elvish", "edit:completion"),
    ] {
        let out = Command::new(env!("CARGO_BIN_EXE_oathbulk")).args(["completions", shell]).output().unwrap();
        assert!(out.status.success(), "{shell}");
        let text = String::from_utf8(out.stdout).unwrap();
        assert!(text.contains(marker), "{shell}: no {marker}");
        for sub in ["activate", "login", "logout"] {
            assert!(text.contains(sub), "{shell}: no {sub}");
        }
    }
}

#[test]
fn manpages_cover_every_subcommand() {
    let dir = tempfile::tempdir().unwrap();
    let out =
        Command::new(env!("CARGO_BIN_EXE_oathbulk")).args(["manpages", "--dir"]).arg(dir.path()).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    for page in ["oathbulk.1", "oathbulk-activate.1", "oathbulk-login.1", "oathbulk-completions.1"] {
        let text = std::fs::read_to_string(dir.path().join(page)).unwrap_or_else(|_| panic!("{page} missing"));
        assert!(text.contains(".TH"), "{page} is a man page");
    }
    assert!(!Path::new(&dir.path().join("oathbulk-manpages.1")).exists(), "hidden command, no page");
}

// ── no credential store: a session's sealed file ────────────────────────────────────────

/// `oathbulk ARGS` on a machine with no credential store (the D-Bus session bus named is not
/// there, as on a headless Linux box), its cache folder in the tenant's folder, and the
/// session key `key` in the environment when given.
#[cfg(target_os = "linux")]
fn headless(t: &Tenant, key: Option<&str>, args: &[&str]) -> Run {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_oathbulk"));
    cmd.current_dir(t.dir.path())
        .env_remove(STORE_ENV)
        .env_remove("OATHBULK_TOKEN")
        .env_remove("OATHBULK_CLIENT_SECRET")
        .env_remove(oathbulk::auth::session::SESSION_KEY_ENV)
        .env("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent/bus")
        .env("XDG_CACHE_HOME", t.path("cache"))
        .args(args)
        .stdin(Stdio::null());
    if let Some(key) = key {
        cmd.env(oathbulk::auth::session::SESSION_KEY_ENV, key);
    }
    let run = Run::from(cmd.output().unwrap());
    t.assert_secret_free(&run);
    run
}

/// The store entry the session file seals, opened as a later run would (with its key).
#[cfg(target_os = "linux")]
fn sealed_entry(t: &Tenant, key: &str) -> Option<String> {
    use secrecy::ExposeSecret;
    let session = oathbulk::auth::session::Session::new(key, &t.path("cache")).unwrap();
    session.load().unwrap().map(|(_, entry)| entry.expose_secret().to_string())
}

#[cfg(target_os = "linux")]
#[test]
fn without_a_credential_store_a_session_key_keeps_one_renewable_sign_in() {
    use base64::Engine as _;
    let t = tenant();
    let key = base64::engine::general_purpose::STANDARD.encode(rand::random::<[u8; 32]>());
    let other = base64::engine::general_purpose::STANDARD.encode(rand::random::<[u8; 32]>());
    let authority = t.sim().authority_url();
    let graph = t.sim().graph_url();
    let login_args = ["login", "--tenant", "contoso.example", "--authority-url", &authority, "--progress", "none"];
    let tenant_args = ["tenant", "--graph-url", &graph, "--progress", "none", "--format", "json"];

    let run = headless(&t, Some(&key), &login_args);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stderr.contains("To sign in") && run.stderr.contains("sealed file"), "{}", run.stderr);
    assert_eq!(device_code_prompts(&t), 1);
    let first = sealed_entry(&t, &key).expect("login sealed the sign-in");
    let refresh =
        |entry: &str| serde_json::from_str::<serde_json::Value>(entry).unwrap()["secret"].as_str().unwrap().to_string();
    assert!(refresh(&first).starts_with("sim-refresh-"), "the entry holds the refresh token");

    // A second command renews it without a device code, and keeps the rotated refresh token.
    let run = headless(&t, Some(&key), &tenant_args);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(!run.stderr.contains("To sign in"), "{}", run.stderr);
    assert_eq!(run.records.iter().filter(|r| r["type"] == "tenant_token").count(), 6, "{}", run.stdout);
    assert_eq!(device_code_prompts(&t), 1, "one device code for both commands");
    let second = sealed_entry(&t, &key).unwrap();
    assert_ne!(refresh(&first), refresh(&second), "the rotated refresh token is the one kept");

    // Nothing holds a refresh token in the clear: not the file, not any output (no access
    // token either: the simulator's are JWTs, `eyJ…`).
    let files: Vec<_> =
        std::fs::read_dir(t.path("cache/oathbulk/sessions")).unwrap().map(|e| e.unwrap().path()).collect();
    assert_eq!(files.len(), 1, "{files:?}");
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(std::fs::metadata(&files[0]).unwrap().permissions().mode() & 0o777, 0o600);
    }
    let sealed = String::from_utf8_lossy(&std::fs::read(&files[0]).unwrap()).to_string();
    for secret in [refresh(&first), refresh(&second), "sim-refresh-".into(), "eyJ".into()] {
        assert!(!sealed.contains(&secret), "{secret} in the session file");
        assert!(!run.stdout.contains(&secret) && !run.stderr.contains(&secret), "{secret} printed");
    }

    // Without the key, or with another session's, the file is of no use: no sign-in, no prompt.
    for key in [None, Some(other.as_str())] {
        let run = headless(&t, key, &tenant_args);
        assert_ne!(run.code, 0, "{}", run.stderr);
        assert_eq!(device_code_prompts(&t), 1);
    }

    // logout (Disconnect-OathBulk) removes the file; the key then signs in no one.
    let run = headless(&t, Some(&key), &["logout", "--progress", "none"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(std::fs::read_dir(t.path("cache/oathbulk/sessions")).unwrap().next().is_none());
    assert_ne!(headless(&t, Some(&key), &tenant_args).code, 0);
}

/// Without a credential store and without a session key, `login` says so before it signs in:
/// no device code is asked for a sign-in nothing could keep.
#[cfg(target_os = "linux")]
#[test]
fn without_a_store_or_a_session_key_login_refuses_before_any_device_code() {
    let t = tenant();
    let authority = t.sim().authority_url();
    let run = headless(
        &t,
        None,
        &["login", "--tenant", "contoso.example", "--authority-url", &authority, "--progress", "none"],
    );
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains("no credential store is available") && run.stderr.contains("OATHBULK_SESSION_KEY"),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains("To sign in"), "{}", run.stderr);
    assert_eq!(device_code_prompts(&t), 0);
}
