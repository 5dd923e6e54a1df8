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

#[test]
fn pending_then_slow_down_then_success() {
    let t = Tenant::new(
        Api::Graph,
        &csv(6, |_| "available"),
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
    let t = Tenant::new(Api::Graph, &csv(2, |_| "available"), SimConfig::default());
    let run = device_code_run(&t, "activate", &[t.csv.to_str().unwrap(), "--progress", "json", "--dry-run"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let lines: Vec<Value> = run.stderr.lines().map(|l| serde_json::from_str(l).expect("JSON on stderr")).collect();
    assert!(lines.iter().any(|l| l["phase"] == "sign_in" && l["message"].as_str().is_some_and(|m| !m.is_empty())));
}

#[test]
fn declined_and_expired_codes_stop_with_exit_3() {
    for (step, word) in [("authorization_declined", "declined"), ("expired_token", "expired")] {
        let t = Tenant::new(
            Api::Graph,
            &csv(3, |_| "available"),
            SimConfig { device_code_flow: flow(&["authorization_pending", step]), ..Default::default() },
        );
        let run = device_code_run(&t, "activate", &[t.csv.to_str().unwrap(), "--progress", "none"]);
        assert_eq!(run.code, 3, "{step}: {}", run.stderr);
        assert!(run.stderr.contains(word), "{step}: {}", run.stderr);
        assert_eq!(run.summary()["fatal"]["code"], "auth_rejected");
        assert_eq!(t.state().counters.writes, 0);
    }
}

#[test]
fn a_token_expiring_mid_run_is_renewed_without_losing_a_row() {
    let t = Tenant::new(
        Api::Graph,
        &csv(40, |_| "available"),
        SimConfig { issued_token_lifetime_secs: 12, latency_ms: 5, ..Default::default() },
    );
    // 40 writes at 3/s ≈ 13 s: past the token's renewal point (80% of 12 s).
    let run = device_code_run(&t, "activate", &[t.csv.to_str().unwrap(), "--progress", "none", "--max-rate", "3"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let state = t.state();
    assert!(state.counters.tokens_issued >= 2, "renewed: {:?}", state.counters);
    assert_eq!(state.counters.unauthorized, 0, "renewed before it expired, not after a 401");
    assert!(state.devices.iter().all(|d| d.status == "activated" && d.activations == 1));
    assert_eq!(run.activations().len(), 40);
}

#[test]
fn doctor_names_a_missing_scope_from_the_sign_in_and_a_disabled_policy() {
    let t = Tenant::new(
        Api::Graph,
        &csv(3, |_| "available"),
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
