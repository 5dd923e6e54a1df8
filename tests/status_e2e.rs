//! `oathbulk status` against a simulated tenant with a user planted in each state: one
//! `token_status` record per question, the next step for each, `lastUsedDateTime` where the
//! tenant fills it, and neither the bearer token nor a seed in any output.

mod common;

use common::{Api, Run, Tenant};
use oathbulk::simulate::SimConfig;
use serde_json::Value;
use std::collections::HashMap;
use std::process::Command;

const CSV: &str = "upn,serial number,secret key,time interval,manufacturer,model,sim_state\n\
ann@contoso.com,SN-AVAIL,JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP,30,Acme,T1,available\n\
ann@contoso.com,SN-ASSIGNED,GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ,30,Acme,T1,assigned\n\
bob@contoso.com,SN-FAILED,MFRGGZDFMZTWQ2LKMFRGGZDFMZTWQ2LK,30,Acme,T1,failed\n\
bob@contoso.com,SN-ACTIVE,ONSWG4TFOQQGS3TUONSWG4TFOQQGS3TU,30,Acme,T1,activated\n\
cat@contoso.com,SN-USED,NBSWY3DPO5XXE3DEEBSWY3DPO5XXE3DE,30,Acme,T1,used\n\
dan@contoso.com,SN-MISSING,KRUGS4ZANFZSAYJAONSWGZLUEBTG64TV,30,Acme,T1,missing\n";

fn status(t: &Tenant, extra: &[&str]) -> Run {
    let out = Command::new(env!("CARGO_BIN_EXE_oathbulk"))
        .current_dir(t.dir.path())
        .env("OATHBULK_TOKEN", &t.token)
        .env_remove("OATHBULK_CLIENT_SECRET")
        .arg("status")
        .args(extra)
        .args(t.backend_args())
        .args(["--format", "json", "--progress", "none"])
        .output()
        .unwrap();
    let run = Run::from(out);
    t.assert_secret_free(&run);
    for seed in CSV.lines().skip(1).map(|l| l.split(',').nth(2).unwrap()) {
        assert!(!run.stdout.contains(seed) && !run.stderr.contains(seed), "a seed in the output");
    }
    run
}

fn by_query(run: &Run) -> HashMap<String, Vec<Value>> {
    let mut m: HashMap<String, Vec<Value>> = HashMap::new();
    for r in run.records.iter().filter(|r| r["type"] == "token_status") {
        m.entry(r["query"].as_str().unwrap().to_string()).or_default().push(r.clone());
    }
    m
}

#[test]
fn every_state_answers_with_its_next_step() {
    let t = Tenant::new(Api::Graph, CSV, SimConfig::default());
    let run = status(
        &t,
        &[
            "--csv",
            t.csv.to_str().unwrap(),
            "--upn",
            "dan@contoso.com",
            "--upn",
            "nobody@contoso.com",
            "--upn",
            "bob@contoso.com",
        ],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let m = by_query(&run);
    let one = |q: &str| -> &Value { &m[q][0] };
    // (query, status, next step says, holder, methods)
    let expect = [
        ("SN-AVAIL", "available", "--serial SN-AVAIL --upn ann@contoso.com --code CODE", None, None),
        ("SN-ASSIGNED", "assigned", "not activated", Some("ann@contoso.com"), Some(1)),
        ("SN-FAILED", "failedActivation", "read a fresh code", Some("bob@contoso.com"), Some(2)),
        ("SN-ACTIVE", "activated", "nothing to do", Some("bob@contoso.com"), Some(2)),
        ("SN-USED", "activated", "nothing to do", Some("cat@contoso.com"), Some(1)),
        ("SN-MISSING", "not_found", "import", None, None),
        ("dan@contoso.com", "no_tokens", "holds no hardware token", Some("dan@contoso.com"), Some(0)),
        ("nobody@contoso.com", "user_not_found", "check the UPN", Some("nobody@contoso.com"), None),
    ];
    for (q, st, step, upn, methods) in expect {
        let r = one(q);
        assert_eq!(r["status"], st, "{q}: {r}");
        assert!(r["next_step"].as_str().unwrap().contains(step), "{q}: {r}");
        assert_eq!(r["upn"].as_str(), upn, "{q}: {r}");
        assert_eq!(r["methods"].as_u64(), methods, "{q}: {r}");
        if methods.is_some() {
            assert_eq!(r["methods_limit"], 5, "{q}");
        }
    }
    // The CSV's lines are named; the user asked by UPN gets one record per token held.
    assert_eq!(one("SN-ASSIGNED")["line"], 3);
    let bob: Vec<&str> = m["bob@contoso.com"].iter().map(|r| r["serial"].as_str().unwrap()).collect();
    assert_eq!(bob.len(), 2, "{bob:?}");
    assert!(bob.contains(&"SN-FAILED") && bob.contains(&"SN-ACTIVE"));
    // lastUsedDateTime: only where the tenant filled it (a used token), never made up.
    assert!(one("SN-USED")["last_used"].as_str().is_some_and(|s| s.ends_with('Z')));
    assert!(one("SN-ACTIVE").get("last_used").is_none());
    // SN-ACTIVE and SN-USED from the CSV, SN-ACTIVE again as one of bob's.
    assert_eq!(run.summary()["counts"]["activated"], 3);
}

#[test]
fn a_token_activated_by_a_run_has_its_last_use_recorded() {
    let t = Tenant::new(Api::Graph, CSV, SimConfig::default());
    let before = status(&t, &["--serial", "SN-ASSIGNED"]);
    assert!(by_query(&before)["SN-ASSIGNED"][0].get("last_used").is_none());
    let activated = t.run(&[]);
    assert_eq!(activated.status_of("SN-ASSIGNED"), "activated", "{}", activated.stdout);
    let after = status(&t, &["--serial", "SN-ASSIGNED"]);
    let r = &by_query(&after)["SN-ASSIGNED"][0];
    assert_eq!(r["status"], "activated");
    let used = chrono::DateTime::parse_from_rfc3339(r["last_used"].as_str().expect("last_used set")).unwrap();
    let age = chrono::Utc::now().signed_duration_since(used).num_seconds();
    assert!((0..=120).contains(&age), "last used {age} s ago");
}

#[test]
fn a_csv_line_with_neither_serial_nor_upn_is_a_row_error_without_its_cells() {
    let t = Tenant::new(Api::Graph, CSV, SimConfig::default());
    let path = t.path("ask.csv");
    std::fs::write(&path, "serial,note\nSN-AVAIL,x\n,JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP\n").unwrap();
    let run = status(&t, &["--csv", path.to_str().unwrap()]);
    assert_eq!(run.code, 1);
    let err = run.records.iter().find(|r| r["type"] == "row_error").unwrap();
    assert_eq!((err["line"].as_u64(), err["code"].as_str()), (Some(3), Some("missing_serial")));
    assert_eq!(by_query(&run)["SN-AVAIL"][0]["status"], "available");
}
