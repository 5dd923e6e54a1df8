//! `users` (per-user view of the CSV, optionally with the tenant) and `doctor` (preflight),
//! against the simulated tenant.

mod common;

use common::{csv, jwt, now, run_with_token, Api, Run, Tenant};
use oathbulk::simulate::SimConfig;
use serde_json::Value;
use std::process::Command;

const FULL_SCOPES: &str = "UserAuthenticationMethod.ReadWrite.All Policy.ReadWrite.AuthenticationMethod";
const AUTH_ADMIN: &str = "c4e39bd9-1100-46d3-8c65-fb160da0071f";

/// A Graph tenant that accepts exactly `token`.
fn tenant_with_token(csv_text: &str, token: &str, config: SimConfig) -> Tenant {
    Tenant::with_token(Api::Graph, csv_text, token, config)
}

fn oathbulk(t: &Tenant, args: &[&str]) -> Run {
    t.output(t.bin().args(args))
}

fn checks(run: &Run) -> std::collections::HashMap<String, Value> {
    run.records
        .iter()
        .filter(|r| r["type"] == "check")
        .map(|r| (r["check"].as_str().unwrap().to_string(), r.clone()))
        .collect()
}

#[test]
fn users_groups_rows_and_warns_above_five() {
    let mut text = csv(9, |_| "available");
    // Seven tokens for one user, spelled two ways; a bad row.
    for i in 0..7 {
        text.push_str(&format!(
            "{},EXTRA{i},GEZDGNBVGY3TQOJQ,30,Acme,T,available\n",
            if i % 2 == 0 { "Big@Contoso.com" } else { "big@contoso.com" }
        ));
    }
    text.push_str("not-an-address,BAD1,GEZDGNBVGY3TQOJQ,30,Acme,T,available\n");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.csv");
    std::fs::write(&path, &text).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_oathbulk")).args(["users", path.to_str().unwrap()]).output().unwrap();
    let run = Run::from(out);
    assert_eq!(run.code, 1, "the bad row makes exit 1");
    let users: Vec<&Value> = run.records.iter().filter(|r| r["type"] == "user").collect();
    assert_eq!(users.len(), 4, "user0..user2 and big@");
    let big = users.iter().find(|u| u["upn"] == "Big@Contoso.com").unwrap();
    assert_eq!(big["count"], 7);
    assert_eq!(big["tokens"].as_array().unwrap().len(), 7);
    assert!(big["warning"].as_str().unwrap().contains("at most 5"));
    let u0 = users.iter().find(|u| u["upn"] == "user0@contoso.com").unwrap();
    assert_eq!(u0["count"], 3);
    assert!(u0.get("warning").is_none());
    assert_eq!(u0["tokens"][1]["line"], 3);
    assert!(run.records.iter().any(|r| r["type"] == "row_error" && r["code"] == "invalid_upn"));
    assert!(!run.stdout.contains("GEZDGNBVGY3TQOJQ"), "no secrets");
}

#[test]
fn users_with_tenant_shows_status_and_holder() {
    let t = Tenant::new(
        Api::Graph,
        &csv(9, |i| match i {
            0 => "activated",
            1 => "conflict",
            2 => "missing",
            3 => "assigned",
            _ => "available",
        }),
        SimConfig::default(),
    );
    let run = oathbulk(
        &t,
        &["users", t.csv.to_str().unwrap(), "--with-tenant", "--graph-url", &t.sim().graph_url(), "--progress", "none"],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let u0 = run.records.iter().find(|r| r["type"] == "user" && r["upn"] == "user0@contoso.com").unwrap();
    let tokens = u0["tokens"].as_array().unwrap();
    assert_eq!(tokens[0]["status"], "activated");
    assert!(tokens[0].get("assigned_to").is_none(), "held by this user");
    assert_eq!(tokens[1]["status"], "assigned");
    assert!(tokens[1]["assigned_to"].as_str().is_some_and(|s| !s.is_empty()), "conflict names the holder: {u0}");
    assert_eq!(tokens[2]["status"], "not_found");
    assert_eq!(t.state().counters.writes, 0, "users only reads");
}

#[test]
fn doctor_passes_a_healthy_setup() {
    let token = jwt(
        serde_json::json!({"exp": now() + 3600, "aud": "https://graph.microsoft.com", "scp": FULL_SCOPES, "wids": [AUTH_ADMIN]}),
    );
    let t = tenant_with_token(&csv(6, |_| "available"), &token, SimConfig::default());
    let run =
        oathbulk(&t, &["doctor", t.csv.to_str().unwrap(), "--graph-url", &t.sim().graph_url(), "--progress", "none"]);
    let c = checks(&run);
    assert_eq!(run.code, 0, "{}", run.stdout);
    for name in [
        "csv",
        "token_expiry",
        "token_audience",
        "permissions",
        "api_reachable",
        "clock_offset",
        "tenant_tokens",
        "tenant_holders",
    ] {
        assert_eq!(c[name]["status"], "pass", "{name}: {}", c[name]);
    }
    assert_eq!(run.summary()["counts"]["pass"].as_u64().unwrap() as usize, c.len());
}

#[test]
fn doctor_names_a_missing_scope_an_expired_token_and_a_clock_offset() {
    // The scope to write users' methods is missing; the token expired; the clock is 2 min off.
    let token = jwt(
        serde_json::json!({"exp": now() - 120, "aud": "https://graph.microsoft.com", "scp": "Policy.Read.All", "wids": [AUTH_ADMIN]}),
    );
    let t = tenant_with_token(
        &csv(4, |i| if i == 0 { "missing" } else { "available" }),
        &token,
        SimConfig { clock_offset_secs: 120, ..Default::default() },
    );
    let run =
        oathbulk(&t, &["doctor", t.csv.to_str().unwrap(), "--graph-url", &t.sim().graph_url(), "--progress", "none"]);
    assert_eq!(run.code, 1, "{}", run.stdout);
    let c = checks(&run);
    assert_eq!(c["token_expiry"]["status"], "fail");
    assert!(c["token_expiry"]["message"].as_str().unwrap().contains("expired"));
    assert_eq!(c["permissions"]["status"], "fail");
    assert!(
        c["permissions"]["message"].as_str().unwrap().contains("UserAuthenticationMethod.ReadWrite.All"),
        "{}",
        c["permissions"]
    );
    assert_eq!(c["clock_offset"]["status"], "fail");
    assert!(c["clock_offset"]["message"].as_str().unwrap().contains("120 s"), "{}", c["clock_offset"]);
    assert_eq!(c["tenant_tokens"]["status"], "fail");
    assert!(c["tenant_tokens"]["fix"].as_str().unwrap().contains("oathbulk import"));
    for r in run.records.iter().filter(|r| r["type"] == "check" && r["status"] != "pass") {
        assert!(
            r["fix"].as_str().is_some_and(|f| !f.is_empty()) || r["check"] == "token",
            "every failure says what to do: {r}"
        );
    }
}

#[test]
fn doctor_reports_a_rejected_token() {
    let t = Tenant::new(Api::Graph, &csv(2, |_| "available"), SimConfig::default());
    let run =
        run_with_token("definitely-not-it", &["doctor", "--graph-url", &t.sim().graph_url(), "--progress", "none"]);
    assert_eq!(run.code, 1);
    let c = checks(&run);
    assert_eq!(c["api_reachable"]["status"], "fail");
    assert!(c["api_reachable"]["message"].as_str().unwrap().contains("401"));
    assert!(!run.stdout.contains("definitely-not-it") && !run.stderr.contains("definitely-not-it"));
}

#[test]
fn doctor_does_not_pass_a_role_it_could_not_see() {
    // Delegated scopes, but no `wids`: the role half of the permission cannot be checked.
    let token = jwt(serde_json::json!({"exp": now() + 3600, "aud": "https://graph.microsoft.com", "scp": FULL_SCOPES}));
    let t = tenant_with_token(&csv(2, |_| "available"), &token, SimConfig::default());
    let run =
        oathbulk(&t, &["doctor", t.csv.to_str().unwrap(), "--graph-url", &t.sim().graph_url(), "--progress", "none"]);
    let c = checks(&run);
    assert_eq!(c["permissions"]["status"], "warn", "{}", c["permissions"]);
    assert!(c["permissions"]["fix"].as_str().unwrap().contains("Authentication Administrator"));
}
