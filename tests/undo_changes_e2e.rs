//! `undo` of a lifecycle run's journal (`deactivate`, `unassign`, `remove`): what can be
//! reverted is (an unassignment by assigning back, a deactivation by activating again with
//! the seed from `--csv`), the rest is refused loudly (exit 1, one record naming why), and
//! an undo's own journal is not undone. The real binary against the simulated tenant.

mod common;

use common::{csv, seed_for, Api, Run, Tenant};
use oathbulk::simulate::SimConfig;
use serde_json::Value;

const TOKENS: usize = 6;

/// Run it; no bearer token and no seed anywhere in its output.
fn run(t: &Tenant, sub: &str, extra: &[&str]) -> Run {
    let r = Run::from(t.subcommand(sub, extra).output().unwrap());
    t.assert_secret_free(&r);
    for i in 0..TOKENS {
        let s = seed_for(i);
        assert!(!r.stdout.contains(&s) && !r.stderr.contains(&s), "seed {i} leaked");
    }
    r
}

fn changes(r: &Run) -> Vec<&Value> {
    r.records.iter().filter(|x| x["type"] == "change").collect()
}

/// (status, holder) of a token in the simulator.
fn state_of(t: &Tenant, serial: &str) -> (String, Option<String>) {
    let d = t.state().device(serial).cloned().unwrap_or_else(|| panic!("{serial} in the tenant"));
    (d.status, d.assigned_upn)
}

fn tenant() -> Tenant {
    // SN00000 (60 s steps) and SN00001 active; SN00002, SN00003 assigned; SN00004, SN00005 available.
    let states = |i: usize| match i {
        0 | 1 => "activated",
        2 | 3 => "assigned",
        _ => "available",
    };
    Tenant::new(Api::Graph, &csv(TOKENS, states), SimConfig::default())
}

#[test]
fn undo_of_an_unassign_assigns_the_token_back() {
    let t = tenant();
    let r = run(&t, "unassign", &["--serial", "SN00002", "--journal", "unassign.jsonl"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(state_of(&t, "SN00002"), ("available".into(), None));

    let writes = t.state().counters.writes;
    let dry = run(&t, "undo", &["--journal", "unassign.jsonl", "--dry-run"]);
    assert_eq!(dry.code, 0, "{}", dry.stderr);
    let c = changes(&dry);
    assert_eq!((c.len(), c[0]["operation"].as_str(), c[0]["status"].as_str()), (1, Some("assign"), Some("would_do")));
    assert_eq!(t.state().counters.writes, writes, "a dry run sends nothing");

    let r = run(&t, "undo", &["--journal", "unassign.jsonl"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let c = changes(&r);
    assert_eq!((c[0]["operation"].as_str(), c[0]["status"].as_str()), (Some("assign"), Some("done")));
    assert_eq!(state_of(&t, "SN00002"), ("assigned".into(), Some("user0@contoso.com".into())));
}

#[test]
fn undo_of_a_deactivate_needs_the_seed_and_then_activates_again() {
    let t = tenant();
    let csv_path = t.csv.to_str().unwrap().to_string();
    let r = run(
        &t,
        "deactivate",
        &[&csv_path, "--where", r#"row.serial == "SN00000" || row.serial == "SN00001""#, "--journal", "deact.jsonl"],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    for s in ["SN00000", "SN00001"] {
        assert_eq!(state_of(&t, s).0, "assigned");
    }

    // Without the seeds: refused, loudly (exit 1), the tenant untouched.
    let writes = t.state().counters.writes;
    let r = run(&t, "undo", &["--journal", "deact.jsonl"]);
    assert_eq!(r.code, 1, "a refusal is no success: {}", r.stdout);
    let c = changes(&r);
    assert_eq!(c.len(), 2);
    for x in &c {
        assert_eq!((x["operation"].as_str(), x["status"].as_str()), (Some("activate"), Some("refused")));
        assert_eq!(x["error_code"], "needs_seed");
        assert!(x["reason"].as_str().unwrap().contains("--csv"), "{x}");
    }
    assert_eq!(t.state().counters.writes, writes);

    // With them: both activated again, for the users they belong to (one has 60 s steps).
    let r = run(&t, "undo", &["--journal", "deact.jsonl", "--csv", &csv_path]);
    assert_eq!(r.code, 0, "{} {}", r.stdout, r.stderr);
    assert!(changes(&r).iter().all(|x| x["status"] == "done" && x["operation"] == "activate"), "{}", r.stdout);
    assert_eq!(state_of(&t, "SN00000"), ("activated".into(), Some("user0@contoso.com".into())));
    assert_eq!(state_of(&t, "SN00001"), ("activated".into(), Some("user0@contoso.com".into())));
}

#[test]
fn undo_of_a_remove_is_refused_and_a_no_op_is_not_reverted() {
    let t = tenant();
    let r = run(&t, "remove", &["--serial", "SN00004", "--journal", "remove.jsonl"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let r = run(&t, "undo", &["--journal", "remove.jsonl"]);
    assert_eq!(r.code, 1, "{}", r.stdout);
    let c = changes(&r);
    assert_eq!((c[0]["operation"].as_str(), c[0]["status"].as_str()), (Some("import"), Some("refused")));
    assert_eq!(c[0]["error_code"], "not_reversible");
    assert!(c[0]["reason"].as_str().unwrap().contains("import"), "says how to bring it back");
    assert!(t.state().device("SN00004").is_none());

    // A deactivate that found the token already inactive changed nothing: nothing to revert.
    let r = run(&t, "deactivate", &["--serial", "SN00003", "--journal", "noop.jsonl"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let r = run(&t, "undo", &["--journal", "noop.jsonl", "--csv", t.csv.to_str().unwrap()]);
    assert_eq!((r.code, changes(&r).len()), (0, 0), "{}", r.stdout);
    assert_eq!(state_of(&t, "SN00003").0, "assigned");
}

#[test]
fn an_undo_journal_is_not_undone() {
    let t = tenant();
    run(&t, "unassign", &["--serial", "SN00002", "--journal", "u.jsonl"]);
    let r = run(&t, "undo", &["--journal", "u.jsonl"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let writes = t.state().counters.writes;
    let r = run(&t, "undo", &["--journal", "u.jsonl.undo.jsonl"]);
    assert_ne!(r.code, 0);
    assert!(r.stderr.contains("undo's own journal"), "{}", r.stderr);
    assert_eq!(t.state().counters.writes, writes);
    assert_eq!(state_of(&t, "SN00002").0, "assigned");
}
