//! Device-code sign-in against the simulator's identity endpoints: pending → slow_down →
//! success, a declined or expired code, renewal mid-run; and `doctor` on what the sign-in
//! gives (a missing scope) and on a disabled policy.

mod common;

use common::{csv, Api, Run, Tenant};
use oathbulk::simulate::SimConfig;
use serde_json::Value;

fn flow(steps: &[&str]) -> Vec<String> {
    steps.iter().map(|s| s.to_string()).collect()
}

/// `activate` (or another command) signing in with a device code, no token anywhere else.
fn device_code_run(t: &Tenant, command: &str, extra: &[&str]) -> Run {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_oathbulk"));
    cmd.current_dir(t.dir.path())
        .env_remove("OATHBULK_TOKEN")
        .arg(command)
        .args(extra)
        .args(["--device-code", "--tenant", "contoso.example", "--authority-url", &t.sim().authority_url()])
        .args(t.backend_args())
        .stdin(std::process::Stdio::null());
    let run = Run::from(cmd.output().unwrap());
    t.assert_secret_free(&run);
    run
}

/// A Graph tenant of `n` available tokens, each its CSV user's to activate.
fn available_tokens(n: usize, config: SimConfig) -> Tenant {
    Tenant::new(Api::Graph, &csv(n, |_| "available"), config)
}

#[test]
fn pending_then_slow_down_then_success() {
    let t = available_tokens(
        6,
        SimConfig {
            device_code_flow: flow(&["authorization_pending", "slow_down", "success"]),
            device_code_interval_secs: 1,
            ..Default::default()
        },
    );
    let run = device_code_run(&t, "activate", &[t.csv.to_str().unwrap(), "--progress", "none", "--max-rate", "100"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stderr.contains("To sign in") || run.stderr.contains("enter the code"), "{}", run.stderr);
    let state = t.state();
    assert_eq!(state.counters.device_code_polls, 3);
    assert_eq!(state.counters.device_code_polls_too_fast, 0, "slow_down adds 5 s to the interval");
    assert!(state.devices.iter().all(|d| d.status == "activated" && d.activations == 1));
}

#[test]
fn sign_in_message_is_a_progress_record_in_json_mode() {
    let t = available_tokens(2, SimConfig::default());
    let run = device_code_run(&t, "activate", &[t.csv.to_str().unwrap(), "--progress", "json", "--dry-run"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let lines: Vec<Value> = run.stderr.lines().map(|l| serde_json::from_str(l).expect("JSON on stderr")).collect();
    assert!(lines.iter().any(|l| l["phase"] == "sign_in" && l["message"].as_str().is_some_and(|m| !m.is_empty())));
}

#[test]
fn a_declined_code_stops_with_exit_3() {
    code_refused_after_pending("authorization_declined", "declined");
}

#[test]
fn an_expired_code_stops_with_exit_3() {
    code_refused_after_pending("expired_token", "expired");
}

/// The sign-in is pending, then refused with `step`: exit 3, the run says `word`, no write.
fn code_refused_after_pending(step: &str, word: &str) {
    let config = SimConfig { device_code_flow: flow(&["authorization_pending", step]), ..Default::default() };
    let t = available_tokens(3, config);
    let run = device_code_run(&t, "activate", &[t.csv.to_str().unwrap(), "--progress", "none"]);
    assert_eq!(run.code, 3, "{step}: {}", run.stderr);
    assert!(run.stderr.contains(word), "{step}: {}", run.stderr);
    assert_eq!(run.summary()["fatal"]["code"], "auth_rejected");
    assert_eq!(t.state().counters.writes, 0);
}

#[test]
fn a_token_expiring_mid_run_is_renewed_without_losing_a_row() {
    let t = available_tokens(12, SimConfig { issued_token_lifetime_secs: 12, latency_ms: 5, ..Default::default() });
    // Tokens of 12 s renew 10 s early (at 80% of their life, at least 10 s early), every 2 s:
    // 12 writes at 3/s ≈ 4 s cross that point, as the certificate sign-in test does.
    let run = device_code_run(&t, "activate", &[t.csv.to_str().unwrap(), "--progress", "none", "--max-rate", "3"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let state = t.state();
    assert!(state.counters.tokens_issued >= 2, "renewed: {:?}", state.counters);
    assert_eq!(state.counters.unauthorized, 0, "renewed before it expired, not after a 401");
    assert!(state.devices.iter().all(|d| d.status == "activated" && d.activations == 1));
    assert_eq!(run.activations().len(), 12);
}

#[test]
fn doctor_names_a_missing_scope_from_the_sign_in_and_a_disabled_policy() {
    let t = available_tokens(
        3,
        SimConfig {
            issued_scopes: Some("Policy.ReadWrite.AuthenticationMethod".into()),
            policy_state: "disabled".into(),
            ..Default::default()
        },
    );
    let run = device_code_run(&t, "doctor", &[t.csv.to_str().unwrap(), "--progress", "none"]);
    assert_eq!(run.code, 1, "{}", run.stdout);
    let checks: std::collections::HashMap<String, Value> = run
        .records
        .iter()
        .filter(|r| r["type"] == "check")
        .map(|r| (r["check"].as_str().unwrap().to_string(), r.clone()))
        .collect();
    assert_eq!(checks["permissions"]["status"], "fail");
    assert!(checks["permissions"]["message"].as_str().unwrap().contains("UserAuthenticationMethod.ReadWrite.All"));
    assert_eq!(checks["policy_enabled"]["status"], "fail");
    assert!(checks["policy_enabled"]["message"].as_str().unwrap().contains("disabled"));
    assert_eq!(checks["token_expiry"]["status"], "pass");
    assert_eq!(checks["token_audience"]["status"], "pass");
    assert_eq!(t.state().counters.writes, 0, "doctor only reads");
}

// ── certificate credentials ───────────────────────────────────────────────────────────────
// App-only sign-in with a certificate (client assertions), against a simulated app
// registration holding the public certificate only. The certificates come from the openssl
// command line, and openssl also signs and verifies assertions: a third implementation the
// client and the simulator must both agree with.

use common::certs::{b64url, decode_jwt, TestCert};

const CERT_APP: &str = "0a1b2c3d-cert-app";
/// Base64url of `{"alg":"PS256",` and `{"alg":"RS256",`: the head of any assertion.
const ASSERTION_HEADS: [&str; 2] = ["eyJhbGciOiJQUzI1NiIs", "eyJhbGciOiJSUzI1NiIs"];

/// A tenant whose app `CERT_APP` is registered with `cert` (certificate only: no secret).
fn cert_tenant(rows: usize, cert: &TestCert, config: SimConfig) -> Tenant {
    available_tokens(
        rows,
        SimConfig { client_id: Some(CERT_APP.into()), client_certificates: cert.registered(), ..config },
    )
}

/// `oathbulk SUB EXTRA… --tenant … --client-id CERT_APP --authority-url …`, with `stdin`
/// written to its standard input; no other credential anywhere.
fn app_run(t: &Tenant, sub: &str, extra: &[&str], stdin: Option<&str>) -> Run {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_oathbulk"));
    cmd.current_dir(t.dir.path())
        .env_remove("OATHBULK_TOKEN")
        .env_remove("OATHBULK_CLIENT_SECRET")
        .env("OATHBULK_TEST_ONLY_PLAINTEXT_STORE", t.path("store.json"))
        .arg(sub)
        .args(extra)
        .args(["--tenant", "contoso.example", "--client-id", CERT_APP, "--authority-url", &t.sim().authority_url()])
        .args(["--progress", "none"])
        .args(t.backend_args())
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    {
        use std::io::Write;
        let mut input = child.stdin.take().unwrap();
        if let Some(text) = stdin {
            // A usage error may end the child before it reads its input (stdin used twice):
            // the pipe is then closed, and what it printed says why.
            match writeln!(input, "{text}") {
                Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {}
                written => written.unwrap(),
            }
        }
    }
    let run = Run::from(child.wait_with_output().unwrap());
    t.assert_secret_free(&run);
    for text in [&run.stdout, &run.stderr] {
        for head in ASSERTION_HEADS {
            assert!(!text.contains(head), "an assertion was printed: {text}");
        }
        if let Some(a) = stdin {
            assert!(!text.contains(a), "the assertion given on stdin was printed");
        }
    }
    run
}

fn now_claims(t: &Tenant, offset: i64) -> Value {
    let now = common::now() + offset;
    serde_json::json!({
        "aud": format!("{}/contoso.example/oauth2/v2.0/token", t.sim().authority_url()),
        "iss": CERT_APP,
        "sub": CERT_APP,
        "jti": uuid::Uuid::new_v4().to_string(),
        "nbf": now,
        "iat": now,
        "exp": now + 300,
    })
}

#[test]
fn certificate_sign_in_runs_tenant_and_activate_and_renews_with_fresh_assertions() {
    let dir = tempfile::tempdir().unwrap();
    let cert = TestCert::new(dir.path(), "app", false);
    // Tokens of 12 s renew every 2 s (at 80% of their life, at least 10 s early).
    let t = cert_tenant(12, &cert, SimConfig { issued_token_lifetime_secs: 12, ..Default::default() });
    let pem = cert.pem.to_str().unwrap();

    let run = app_run(&t, "tenant", &["--certificate", pem], None);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.records.iter().filter(|r| r["type"] == "tenant_token").count(), 12);
    cert.assert_key_absent(&run.stdout, "stdout");
    cert.assert_key_absent(&run.stderr, "stderr");

    let csv_path = t.csv.to_str().unwrap().to_string();
    let args = ["--certificate", pem, "--max-rate", "3", "--journal", "run.jsonl", "--error-log", "errors.log"];
    let run = app_run(&t, "activate", &[&[csv_path.as_str()], &args[..]].concat(), None);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let state = t.state();
    assert!(state.devices.iter().all(|d| d.status == "activated" && d.activations == 1));
    let c = &state.counters;
    assert!(c.client_assertions_accepted >= 3, "renewed with new assertions: {c:?}");
    assert_eq!(c.client_assertion_jti_reused, 0, "every token request signs a new assertion");
    assert_eq!((c.client_assertions_refused, c.unauthorized), (0, 0), "{c:?}");
    for file in ["run.jsonl", "errors.log"] {
        let text = std::fs::read_to_string(t.path(file)).unwrap_or_default();
        cert.assert_key_absent(&text, file);
        assert!(!ASSERTION_HEADS.iter().any(|h| text.contains(h)), "an assertion in {file}");
    }

    // A PKCS#1 key (`BEGIN RSA PRIVATE KEY`) works the same.
    let pkcs1 = TestCert::new(dir.path(), "app-pkcs1", true);
    let t = cert_tenant(2, &pkcs1, SimConfig::default());
    let run = app_run(&t, "tenant", &["--certificate", pkcs1.pem.to_str().unwrap()], None);
    assert_eq!(run.code, 0, "{}", run.stderr);
}

#[test]
fn a_wrong_certificate_an_expired_assertion_and_a_wrong_audience_are_refused_with_exit_3() {
    let dir = tempfile::tempdir().unwrap();
    let cert = TestCert::new(dir.path(), "app", false);
    let other = TestCert::new(dir.path(), "other", false);
    let t = cert_tenant(3, &cert, SimConfig::default());

    let refused = |run: &Run, aadsts: &str| {
        assert_eq!(run.code, 3, "{aadsts}: {}", run.stderr);
        assert_eq!(run.summary()["fatal"]["code"], "auth_rejected");
        assert!(run.stderr.contains(aadsts) && run.stderr.contains("invalid_client"), "{aadsts}: {}", run.stderr);
    };
    // A certificate the app is not registered with.
    let run = app_run(&t, "tenant", &["--certificate", other.pem.to_str().unwrap()], None);
    refused(&run, "AADSTS700027");
    other.assert_key_absent(&run.stderr, "stderr");

    let stdin_run = |assertion: &str| app_run(&t, "tenant", &["--client-assertion-stdin"], Some(assertion));
    // Assertions signed by openssl, fed on stdin: the simulator takes a third party's RS256
    // and PS256 assertions…
    for alg in ["RS256", "PS256"] {
        let run = stdin_run(&cert.openssl_assertion(&cert.header(alg), &now_claims(&t, 0), dir.path()));
        assert_eq!(run.code, 0, "{alg}: {}", run.stderr);
    }
    // …and refuses them expired, for another audience, from another issuer, or tampered with.
    let mut expired = now_claims(&t, -1200);
    expired["exp"] = serde_json::json!(common::now() - 900);
    refused(&stdin_run(&cert.openssl_assertion(&cert.header("RS256"), &expired, dir.path())), "AADSTS700024");
    let mut elsewhere = now_claims(&t, 0);
    elsewhere["aud"] = serde_json::json!("https://login.microsoftonline.com/contoso.example/oauth2/v2.0/token");
    refused(&stdin_run(&cert.openssl_assertion(&cert.header("RS256"), &elsewhere, dir.path())), "AADSTS700023");
    let mut stranger = now_claims(&t, 0);
    stranger["iss"] = serde_json::json!("another-app");
    refused(&stdin_run(&cert.openssl_assertion(&cert.header("RS256"), &stranger, dir.path())), "AADSTS700021");
    let good = cert.openssl_assertion(&cert.header("PS256"), &now_claims(&t, 0), dir.path());
    let (head, sig) = good.rsplit_once('.').unwrap();
    let mut bytes = common::certs::b64url_decode(sig);
    bytes[10] ^= 1;
    refused(&stdin_run(&format!("{head}.{}", b64url(&bytes))), "AADSTS700027");
    // The other key, claiming this certificate's thumbprint: the signature gives it away.
    refused(
        &stdin_run(&other.openssl_assertion(&cert.header("RS256"), &now_claims(&t, 0), dir.path())),
        "AADSTS700027",
    );

    let c = t.state().counters;
    assert_eq!((c.client_assertions_accepted, c.client_assertions_refused, c.writes), (2, 6, 0), "{c:?}");
}

#[test]
fn a_key_others_can_read_a_file_without_a_key_and_stdin_used_twice_are_usage_errors() {
    let dir = tempfile::tempdir().unwrap();
    let cert = TestCert::new(dir.path(), "app", false);
    let t = cert_tenant(2, &cert, SimConfig::default());
    // A mode others can read: unix only (Windows goes by the ACL: tests/windows_paths.rs).
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&cert.pem, std::fs::Permissions::from_mode(0o644)).unwrap();
        let run = app_run(&t, "tenant", &["--certificate", cert.pem.to_str().unwrap()], None);
        assert_eq!(run.code, 2, "{}", run.stderr);
        assert!(run.stderr.contains("chmod 600"), "{}", run.stderr);
    }

    let run = app_run(&t, "tenant", &["--certificate", cert.crt.to_str().unwrap()], None);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("no private key"), "{}", run.stderr);

    let run = app_run(&t, "activate", &["-", "--client-assertion-stdin"], Some("a.b.c"));
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("standard input"), "{}", run.stderr);
    assert_eq!(t.state().counters.requests, 0, "nothing was sent");
}

#[test]
fn the_client_assertion_is_as_microsoft_documents_it_checked_with_openssl() {
    let dir = tempfile::tempdir().unwrap();
    let cert = TestCert::new(dir.path(), "app", false);
    let client = oathbulk::auth::certificate::Certificate::load(&cert.pem).unwrap();
    let url = "https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/token";
    let now = common::now();
    let a = secrecy::ExposeSecret::expose_secret(&client.assertion(url, CERT_APP, now).unwrap()).to_string();
    let b = secrecy::ExposeSecret::expose_secret(&client.assertion(url, CERT_APP, now).unwrap()).to_string();
    assert!(cert.openssl_verifies(&a, dir.path()), "openssl verifies the PS256 signature with the certificate");
    let (header, claims) = decode_jwt(&a);
    assert_eq!(header["alg"], "PS256");
    assert_eq!(header["typ"], "JWT");
    assert_eq!(header["x5t"], b64url(&cert.sha1), "x5t: base64url SHA-1 of the DER, as openssl computes it");
    assert_eq!(header["x5t#S256"], b64url(&cert.sha256));
    assert_eq!(claims["aud"], url);
    assert_eq!((&claims["iss"], &claims["sub"]), (&Value::from(CERT_APP), &Value::from(CERT_APP)));
    assert_eq!((&claims["nbf"], &claims["iat"]), (&Value::from(now), &Value::from(now)));
    assert_eq!(claims["exp"], now + 600, "ten minutes at most");
    assert_ne!(decode_jwt(&b).1["jti"], claims["jti"], "a new jti each time");
    let thumbprint: String = cert.sha1.iter().map(|b| format!("{b:02X}")).collect();
    assert_eq!(client.thumbprint(), thumbprint);
}
