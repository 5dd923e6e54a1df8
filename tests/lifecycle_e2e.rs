//! End-to-end lifecycle against the simulated tenant: `import` (bulk, fallback, `--assign`,
//! portal upload, `--activate`), `deactivate` / `unassign` / `remove`, and `undo` (after a
//! killed run, with refusals, resumed) — the real binary, assertions on the server's state.

mod common;

use common::{csv, kill_once_settled, seed_for, Api, Run, Tenant};
use oathbulk::simulate::{SimConfig, SimState};
use serde_json::Value;
use std::collections::BTreeMap;
use std::process::Command;
use std::time::Duration;

fn command(t: &Tenant, sub: &str, extra: &[&str]) -> Command {
    t.subcommand(sub, extra)
}

/// Run it; no bearer token and no seed anywhere in its output or files.
fn run(t: &Tenant, sub: &str, extra: &[&str], seeds: usize) -> Run {
    let r = Run::from(command(t, sub, extra).output().unwrap());
    t.assert_secret_free(&r);
    assert_no_seeds(t, &r, seeds);
    r
}

fn assert_no_seeds(t: &Tenant, r: &Run, n: usize) {
    let mut files = String::new();
    for entry in std::fs::read_dir(t.dir.path()).unwrap() {
        let p = entry.unwrap().path();
        if p.extension().is_some_and(|e| e == "jsonl" || e == "log") {
            files.push_str(&std::fs::read_to_string(&p).unwrap_or_default());
        }
    }
    for i in 0..n {
        let s = seed_for(i);
        assert!(!r.stdout.contains(&s) && !r.stderr.contains(&s) && !files.contains(&s), "seed {i} leaked");
    }
}

fn records<'a>(r: &'a Run, kind: &str) -> Vec<&'a Value> {
    r.records.iter().filter(|x| x["type"] == kind).collect()
}

fn by_serial<'a>(r: &'a Run, kind: &str) -> BTreeMap<String, &'a Value> {
    records(r, kind).into_iter().map(|x| (x["serial"].as_str().unwrap().to_string(), x)).collect()
}

/// serial → (status, holder): what "the tenant is as before" compares.
fn snapshot(s: &SimState) -> BTreeMap<String, (String, Option<String>)> {
    s.devices.iter().map(|d| (d.serial_number.clone(), (d.status.clone(), d.assigned_upn.clone()))).collect()
}

#[test]
fn import_500_with_20_present_then_activate() {
    let present = |i: usize| i.is_multiple_of(25);
    let t =
        Tenant::new(Api::Graph, &csv(500, |i| if present(i) { "available" } else { "missing" }), SimConfig::default());
    let csv_path = t.csv.to_str().unwrap().to_string();
    let r = run(&t, "import", &[&csv_path, "--journal", "run.jsonl"], 500);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let imports = by_serial(&r, "import");
    assert_eq!(imports.len(), 500, "one record per row");
    for i in 0..500 {
        let rec = imports[&format!("SN{i:05}")];
        assert_eq!(rec["status"], if present(i) { "exists" } else { "created" }, "SN{i:05}");
        assert!(rec["device_id"].as_str().is_some_and(|s| !s.is_empty()));
        assert_eq!(rec["assigned"], false);
    }
    let state = t.state();
    assert_eq!(state.devices.len(), 500, "no duplicates");
    assert_eq!(state.counters.creates, 480);
    assert_eq!(state.counters.bulk_create_requests, 5, "bulk: 100 a request");
    assert_eq!(r.summary()["counts"]["created"], 480);
    assert_eq!(r.summary()["counts"]["exists"], 20);

    // Idempotent: again, nothing is created.
    let again = run(&t, "import", &[&csv_path], 500);
    assert_eq!(again.code, 0);
    assert_eq!(again.summary()["counts"]["exists"], 500);
    assert_eq!(t.state().counters.creates, 480);

    // --activate: import (nothing new) then activate every token with its imported secret.
    let r = run(&t, "import", &[&csv_path, "--activate", "--parallel", "16"], 500);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(records(&r, "summary").len(), 1, "one summary");
    let last_import = r.records.iter().rposition(|x| x["type"] == "import").unwrap();
    let first_activation = r.records.iter().position(|x| x["type"] == "activation").unwrap();
    assert!(last_import < first_activation, "activation records follow the import records");
    assert_eq!(r.summary()["command"], "import");
    assert_eq!(r.summary()["counts"]["activated"], 500);
    assert_eq!(r.summary()["counts"]["import_exists"], 500);
    let state = t.state();
    assert_eq!(state.counters.rejected_codes, 0, "every imported secret's codes verify");
    assert_eq!(state.counters.double_activation_attempts, 0);
    assert!(state.devices.iter().all(|d| d.status == "activated" && d.activations == 1));
}

#[test]
fn bulk_create_failure_falls_back_to_one_by_one() {
    let t = Tenant::new(
        Api::Graph,
        &csv(30, |i| if i < 3 { "available" } else { "missing" }),
        SimConfig { bulk_create_fails: true, ..Default::default() },
    );
    let r = run(&t, "import", &[t.csv.to_str().unwrap()], 30);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let state = t.state();
    assert_eq!(state.devices.len(), 30);
    assert_eq!(state.counters.creates, 27);
    // Bulk tried once by each verb (PATCH, then the documented POST of the delta body, which
    // the simulator routes as a create), then one POST each.
    assert_eq!(state.counters.requests_by_route.get("graph.bulk_create"), Some(&1), "tried PATCH once");
    assert_eq!(state.counters.requests_by_route.get("graph.create_device"), Some(&28), "one bulk POST, then one each");
    assert_eq!(r.summary()["counts"]["created"], 27);
}

#[test]
fn import_with_assign() {
    // 0..3 exist and are available (assigned by the import), 3 is someone else's, rest new.
    let state_of = |i: usize| match i {
        0..=2 => "available",
        3 => "conflict",
        _ => "missing",
    };
    let t = Tenant::new(Api::Graph, &csv(12, state_of), SimConfig::default());
    let r = run(&t, "import", &[t.csv.to_str().unwrap(), "--assign", "--journal", "run.jsonl"], 12);
    assert_eq!(r.code, 1, "the conflict is an error: {}", r.stderr);
    let imports = by_serial(&r, "import");
    let state = t.state();
    for i in 0..12 {
        let serial = format!("SN{i:05}");
        let d = state.device(&serial).unwrap();
        if i == 3 {
            assert_eq!(imports[&serial]["error_code"], "assigned_to_other_user");
            assert!(d.assigned_upn.as_deref().unwrap().starts_with("other-"), "left untouched");
            continue;
        }
        assert_eq!(imports[&serial]["assigned"], true, "{serial}");
        assert_eq!(imports[&serial]["status"], if i < 3 { "exists" } else { "created" });
        assert_eq!(d.status, "assigned");
        assert_eq!(d.assigned_upn.as_deref(), Some(format!("user{}@contoso.com", i / 3).as_str()));
    }
    assert_eq!(state.counters.conflict_attempts, 0);
}

#[test]
fn portal_upload_import_then_activate() {
    // 20 rows: the activation that proves the uploaded secrets goes at the portal's capped
    // pace (6.7 writes/s).
    let n = 20;
    let t = Tenant::new(Api::Portal, &csv(n, |i| if i < 5 { "assigned" } else { "missing" }), SimConfig::default());
    let r = run(&t, "import", &[t.csv.to_str().unwrap(), "--journal", "run.jsonl"], n);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let state = t.state();
    assert_eq!(state.counters.uploads, 1, "one upload");
    assert!(state.counters.requests_by_route.get("portal.list_uploads").is_some_and(|n| *n >= 2), "waited");
    assert_eq!(state.devices.len(), n);
    let imports = by_serial(&r, "import");
    for i in 0..n {
        let serial = format!("SN{i:05}");
        assert_eq!(imports[&serial]["status"], if i < 5 { "exists" } else { "created" });
        let d = state.device(&serial).unwrap();
        assert_eq!(d.status, "assigned");
        assert_eq!(d.assigned_upn.as_deref(), Some(format!("user{}@contoso.com", i / 3).as_str()));
        if i >= 5 {
            assert_eq!(imports[&serial]["assigned"], true);
            assert!(imports[&serial]["device_id"].as_str().is_some_and(|s| !s.is_empty()));
        }
    }
    // The uploaded secrets are the tenant's: activation codes verify.
    let act = t.run(&[]);
    assert_eq!(act.code, 0, "{}", act.stderr);
    let state = t.state();
    assert_eq!(state.counters.rejected_codes, 0);
    assert!(state.devices.iter().all(|d| d.status == "activated" && d.activations == 1));
}

#[test]
fn deactivate_unassign_remove_one_serial() {
    let state_of = |i: usize| match i {
        0 | 3 => "activated",
        1 => "assigned",
        _ => "available",
    };
    let t = Tenant::new(Api::Graph, &csv(6, state_of), SimConfig::default());

    // Someone else's name: refused, untouched, no write.
    let r = run(&t, "deactivate", &["--serial", "SN00000", "--upn", "nobody@contoso.com"], 6);
    assert_eq!(r.code, 1);
    assert_eq!(records(&r, "change")[0]["status"], "refused");
    assert_eq!(t.state().counters.writes, 0);

    let r = run(&t, "deactivate", &["--serial", "SN00000"], 6);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let c = records(&r, "change")[0];
    assert_eq!((c["operation"].as_str(), c["status"].as_str()), (Some("deactivate"), Some("done")));
    assert_eq!(c["upn"], "user0@contoso.com", "the holder, looked up");
    let d = t.state().device("SN00000").unwrap().clone();
    assert_eq!((d.status.as_str(), d.assigned_upn.as_deref()), ("assigned", Some("user0@contoso.com")));

    let r = run(&t, "unassign", &["--serial", "SN00000", "--upn", "user0@contoso.com"], 6);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let d = t.state().device("SN00000").unwrap().clone();
    assert_eq!((d.status.as_str(), d.assigned_upn), ("available", None));

    let r = run(&t, "remove", &["--serial", "SN00000"], 6);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let state = t.state();
    assert!(state.device("SN00000").is_none());
    assert_eq!(state.deleted_serials, vec!["SN00000".to_string()]);

    // remove of an active token: unassigned, then deleted. Dry run first: no write.
    let writes = t.state().counters.writes;
    let r = run(&t, "remove", &["--serial", "SN00003", "--dry-run"], 6);
    assert_eq!(records(&r, "change")[0]["status"], "would_do");
    assert_eq!(t.state().counters.writes, writes, "dry run wrote");
    let r = run(&t, "remove", &["--serial", "SN00003"], 6);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(t.state().device("SN00003").is_none());

    // A missing serial: not_found, exit 1.
    let r = run(&t, "deactivate", &["--serial", "NOPE"], 6);
    assert_eq!((r.code, records(&r, "change")[0]["status"].as_str()), (1, Some("not_found")));
    let state = t.state();
    assert_eq!((state.counters.deactivations, state.counters.unassignments, state.counters.deletes), (1, 2, 2));
    assert_eq!(state.counters.conflict_attempts, 0);
}

#[test]
fn undo_of_a_killed_activation_restores_the_tenant() {
    let t = Tenant::new(
        Api::Graph,
        &csv(80, |i| if i.is_multiple_of(10) { "activated" } else { "available" }),
        SimConfig { latency_ms: 20, ..Default::default() },
    );
    let before = snapshot(&t.state());
    let journal = t.path("run.jsonl");
    kill_once_settled(&mut t.command(&["--journal", "run.jsonl", "--max-rate", "40", "--parallel", "4"]), &journal, 25);
    std::thread::sleep(Duration::from_millis(300));
    let killed = t.state();
    let activated_now = killed.devices.iter().filter(|d| d.seeded_as == "available" && d.status == "activated").count();
    assert!(activated_now > 0 && activated_now < 72, "killed half way ({activated_now})");
    let text = std::fs::read_to_string(&journal).unwrap();
    // Every landed write left a trace: its result, or (killed between the write and the
    // result) its intent line.
    let lines: Vec<Value> = text.lines().filter_map(|l| serde_json::from_str(l).ok()).collect();
    let traced: std::collections::HashSet<&str> = lines
        .iter()
        .filter(|r| r["status"] == "activated" || r["error_code"] == "in_flight")
        .map(|r| r["serial"].as_str().unwrap())
        .collect();
    for d in killed.devices.iter().filter(|d| d.seeded_as == "available" && d.status == "activated") {
        assert!(traced.contains(d.serial_number.as_str()), "{} landed without a trace", d.serial_number);
    }

    // Dry run: says what it would do, sends nothing.
    let writes = t.state().counters.writes;
    let dry = run(&t, "undo", &["--journal", "run.jsonl", "--dry-run"], 80);
    assert_eq!(dry.code, 0, "{}", dry.stderr);
    assert_eq!(t.state().counters.writes, writes);
    // Writes that were in flight at the kill (intent line, no result) are checked too: the
    // ones that never landed need nothing.
    let real = |r: &Run| -> Vec<Value> {
        records(r, "change")
            .into_iter()
            .filter(|c| !c["reason"].as_str().unwrap_or("").contains("never landed"))
            .cloned()
            .collect()
    };
    assert_eq!(real(&dry).len(), 2 * activated_now);
    assert!(real(&dry).iter().all(|c| c["status"] == "would_do"));

    let r = run(&t, "undo", &["--journal", "run.jsonl"], 80);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let changes = real(&r);
    assert_eq!(changes.len(), 2 * activated_now, "deactivate + unassign each");
    assert!(records(&r, "change").iter().all(|c| c["status"] == "done"));
    // Per token: deactivate before unassign; tokens in reverse journal order.
    let first = changes.first().unwrap();
    let last_line_of = |serial: &str| lines.iter().rposition(|r| r["serial"] == serial).unwrap();
    let newest = changes.iter().map(|c| last_line_of(c["serial"].as_str().unwrap())).max().unwrap();
    assert_eq!(last_line_of(first["serial"].as_str().unwrap()), newest, "newest first");
    assert_eq!(first["operation"], "deactivate");
    let after = t.state();
    assert_eq!(snapshot(&after), before, "the tenant is as before the run");
    assert_eq!(after.counters.deactivations as usize, activated_now);
    assert_eq!(after.counters.unassignments as usize, activated_now);
    // Seeded-active tokens (already_active in the run) were never touched.
    assert!(after.devices.iter().filter(|d| d.seeded_as == "activated").all(|d| d.status == "activated"));

    // Again: every step is done already, nothing is sent.
    let writes = t.state().counters.writes;
    let again = run(&t, "undo", &["--journal", "run.jsonl"], 80);
    assert_eq!(again.code, 0);
    assert_eq!(records(&again, "change").len(), 0);
    assert!(again.summary()["counts"]["skipped"].as_u64().unwrap() as usize >= 2 * activated_now);
    assert_eq!(t.state().counters.writes, writes);
}

#[test]
fn undo_refuses_tokens_changed_since_and_reverts_imports() {
    let t = Tenant::new(Api::Graph, &csv(9, |_| "missing"), SimConfig::default());
    let csv_path = t.csv.to_str().unwrap().to_string();
    let before = snapshot(&t.state());
    assert!(before.is_empty());
    let r = run(&t, "import", &[&csv_path, "--activate", "--journal", "run.jsonl"], 9);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(t.state().devices.iter().all(|d| d.status == "activated"));

    // Another admin deactivates SN00002 and moves SN00004 to another user.
    let r = run(&t, "deactivate", &["--serial", "SN00002"], 9);
    assert_eq!(r.code, 0);
    run(&t, "unassign", &["--serial", "SN00004"], 9);
    let sim = t.sim();
    let url = format!("{}/users/user0@contoso.com/authentication/hardwareOathMethods", sim.graph_url());
    let id = t.state().device("SN00004").unwrap().id.clone();
    let status = t.rt.block_on(async {
        reqwest::Client::new()
            .post(&url)
            .bearer_auth(&t.token)
            .json(&serde_json::json!({"device": {"id": id}}))
            .send()
            .await
            .unwrap()
            .status()
    });
    assert_eq!(status, 201);
    let changed = t.state();

    let r = run(&t, "undo", &["--journal", "run.jsonl"], 9);
    assert_eq!(r.code, 1, "refusals make exit 1: {}", r.stderr);
    let state = t.state();
    for i in [2usize, 4] {
        let serial = format!("SN{i:05}");
        let steps: Vec<&Value> = records(&r, "change").into_iter().filter(|c| c["serial"] == serial.as_str()).collect();
        assert!(steps.iter().all(|c| c["status"] == "refused"), "{serial}: {steps:?}");
        assert!(steps[0]["reason"].as_str().unwrap().contains("left untouched"));
        assert_eq!(state.device(&serial), changed.device(&serial), "{serial} untouched");
    }
    // Everything else: deactivated, unassigned and deleted, as before the import.
    assert_eq!(state.devices.len(), 2);
    assert_eq!(state.deleted_serials.len(), 7);
    assert_eq!(state.counters.conflict_attempts, 0);
}

#[test]
fn undo_resumes_from_its_own_journal() {
    let t = Tenant::new(Api::Graph, &csv(40, |_| "available"), SimConfig { latency_ms: 15, ..Default::default() });
    let before = snapshot(&t.state());
    let r = t.run(&["--journal", "run.jsonl"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let undo_journal = t.path("run.jsonl.undo.jsonl");
    kill_once_settled(&mut command(&t, "undo", &["--journal", "run.jsonl", "--max-rate", "20"]), &undo_journal, 30);
    std::thread::sleep(Duration::from_millis(300));
    let mid = t.state();
    let undone = mid.counters.deactivations + mid.counters.unassignments;
    assert!(undone > 0 && undone < 80, "killed half way ({undone})");

    let r = run(&t, "undo", &["--journal", "run.jsonl"], 40);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.summary()["counts"]["skipped"].as_u64().unwrap() > 0, "done steps skipped");
    let after = t.state();
    assert_eq!(snapshot(&after), before);
    assert_eq!(after.counters.deactivations, 40, "each token deactivated exactly once");
    assert_eq!(after.counters.unassignments, 40);
}

#[test]
fn import_dry_run_sends_no_write() {
    let t = Tenant::new(Api::Graph, &csv(10, |i| if i < 2 { "available" } else { "missing" }), SimConfig::default());
    let r = run(&t, "import", &[t.csv.to_str().unwrap(), "--dry-run", "--assign", "--journal", "run.jsonl"], 10);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(t.state().counters.writes, 0);
    assert_eq!(r.summary()["counts"]["would_create"], 8);
    assert_eq!(r.summary()["dry_run"], true);
    assert!(std::fs::read_to_string(t.path("run.jsonl")).unwrap_or_default().is_empty());
}

#[test]
fn undo_reverts_a_write_that_landed_after_its_intent_but_before_its_result() {
    // The tightest kill: the write landed, the process died before journaling the result.
    // Build that journal by hand from a real run: keep SN00001's intent, drop its result.
    let t = Tenant::new(Api::Graph, &csv(3, |_| "available"), SimConfig::default());
    let before = snapshot(&t.state());
    let r = run(&t, "activate", &[t.csv.to_str().unwrap(), "--journal", "run.jsonl", "--serial", "SN00001"], 3);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let path = t.path("run.jsonl");
    let text = std::fs::read_to_string(&path).unwrap();
    let kept: Vec<&str> = text.lines().filter(|l| l.contains("\"in_flight\"")).collect();
    assert_eq!(kept.len(), 1, "{text}");
    // And an intent for SN00002 whose write never left (the tenant never saw it).
    let never = kept[0].replace("SN00001", "SN00002").replace("\"device_id\"", "\"ignored\"");
    let header = text.lines().next().unwrap();
    std::fs::write(&path, format!("{header}\n{}\n{never}\n", kept[0])).unwrap();
    assert_eq!(t.state().device("SN00001").unwrap().status, "activated");

    let u = run(&t, "undo", &["--journal", "run.jsonl"], 3);
    assert_eq!(u.code, 0, "{}", u.stderr);
    let after = t.state();
    assert_eq!(snapshot(&after), before, "the landed write was found and reverted");
    assert_eq!(after.counters.deactivations, 1);
    assert_eq!(after.counters.unassignments, 1);
    let sn2: Vec<&Value> = records(&u, "change").into_iter().filter(|c| c["serial"] == "SN00002").collect();
    assert!(!sn2.is_empty() && sn2.iter().all(|c| c["status"] == "done"), "{sn2:?}");
    assert!(sn2[0]["reason"].as_str().unwrap().contains("never landed"));
}

#[test]
fn a_csv_of_serials_alone_changes_whoever_holds_each_token() {
    // Activated tokens of several users, assigned ones, available ones; one serial not in the tenant.
    let state_of = |i: usize| match i % 3 {
        0 => "activated",
        1 => "assigned",
        _ => "available",
    };
    let t = Tenant::new(Api::Graph, &csv(10, state_of), SimConfig::default());
    let serials: Vec<String> = (0..9).map(|i| format!("SN{i:05}")).chain(["NOPE".to_string()]).collect();
    std::fs::write(t.path("serials.csv"), format!("serial number\n{}\n", serials.join("\n"))).unwrap();
    let reads = |t: &Tenant| t.state().counters.requests_by_route.get("graph.list_devices").copied().unwrap_or(0);

    let before = reads(&t);
    let r = run(&t, "deactivate", &["serials.csv", "--journal", "run.jsonl"], 10);
    assert_eq!(r.code, 1, "the unknown serial is not_found: {}", r.stderr);
    assert_eq!(reads(&t) - before, 1, "one inventory read for the whole file");
    let changes = by_serial(&r, "change");
    assert_eq!(changes.len(), 10, "one record per row");
    for i in 0..9 {
        let c = changes[&format!("SN{i:05}")];
        assert_eq!(c["line"], i as u64 + 2);
        assert_eq!(c["status"], "done", "{c}");
        if state_of(i) != "available" {
            assert_eq!(c["upn"], format!("user{}@contoso.com", i / 3), "the holder, as with --serial: {c}");
        }
    }
    assert_eq!(changes["NOPE"]["status"], "not_found");
    let state = t.state();
    assert_eq!(state.counters.deactivations, 3, "the activated ones");
    assert!((0..9).all(|i| state.device(&format!("SN{i:05}")).unwrap().status != "activated"));

    let r = run(&t, "unassign", &["serials.csv"], 10);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let state = t.state();
    assert!(
        (0..9).all(|i| state.device(&format!("SN{i:05}")).unwrap().status == "available"),
        "{:?}",
        snapshot(&state)
    );
    assert_eq!(state.device("SN00009").unwrap().status, "activated", "a token the file does not name stays");

    let r = run(&t, "remove", &["serials.csv", "--dry-run"], 10);
    assert_eq!(records(&r, "change").iter().filter(|c| c["status"] == "would_do").count(), 9);
    let r = run(&t, "remove", &["serials.csv"], 10);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert_eq!(t.state().devices.len(), 1, "only the token the file does not name is left");

    // A user column under a name the tool does not know never becomes "whoever holds it".
    std::fs::write(t.path("misnamed.csv"), "serial number,Email\nSN00009,user3@contoso.com\n").unwrap();
    let writes = t.state().counters.writes;
    let r = run(&t, "deactivate", &["misnamed.csv"], 10);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("'Email'") && r.stderr.contains("upn"), "{}", r.stderr);
    assert_eq!(t.state().counters.writes, writes);
    assert_eq!(t.state().device("SN00009").unwrap().status, "activated");
}

/// A file without manufacturer and model (Entra requires both to create a token): `check`
/// names the rows, `import` refuses them row by row and creates the others, and
/// `--manufacturer`/`--model` fill the empty cells. Nothing is ever sent empty (the
/// simulator refuses a create without them, as the CSDL does).
#[test]
fn rows_without_manufacturer_or_model_are_named_refused_or_filled() {
    // Rows 0 and 1 lack both; the others carry them.
    let full = csv(4, |_| "missing");
    let text: String = full
        .lines()
        .enumerate()
        .map(|(i, line)| match i {
            1 | 2 => line.replace(",Acme,T0,", ",,,").replace(",Acme,T1,", ",,,") + "\n",
            _ => format!("{line}\n"),
        })
        .collect();
    let t = Tenant::new(Api::Graph, &text, SimConfig::default());
    let path = t.csv.to_str().unwrap().to_string();

    let check = Run::from(Command::new(env!("CARGO_BIN_EXE_oathbulk")).args(["check", &path]).output().unwrap());
    assert_eq!(check.code, 0, "a warning, not an error: {}", check.stdout);
    let finding =
        records(&check, "finding").into_iter().find(|r| r["code"] == "missing_manufacturer_model").expect("named");
    assert_eq!(finding["lines"], serde_json::json!([2, 3]), "{finding}");

    let r = run(&t, "import", &[&path], 4);
    assert_eq!(r.code, 1, "two rows failed: {}", r.stderr);
    let imports = by_serial(&r, "import");
    for serial in ["SN00000", "SN00001"] {
        assert_eq!(imports[serial]["status"], "failed", "{}", imports[serial]);
        assert_eq!(imports[serial]["error_code"], "missing_manufacturer_model");
    }
    for serial in ["SN00002", "SN00003"] {
        assert_eq!(imports[serial]["status"], "created", "{}", imports[serial]);
    }
    assert!(t.state().device("SN00000").is_none(), "never sent empty");

    let r = run(&t, "import", &[&path, "--manufacturer", "Token2", "--model", "C302"], 4);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let state = t.state();
    let d = state.device("SN00000").expect("created with the defaults");
    assert_eq!((d.manufacturer.as_str(), d.model.as_str()), ("Token2", "C302"));
    let kept = state.device("SN00002").unwrap();
    assert_eq!(kept.manufacturer, "Acme", "a row's own cell wins over the default");
}

/// Lifecycle writes under 5xx answers and dropped connections, half of them dropped after the
/// write landed: every token is changed, each exactly once. The tenant is re-read on doubt and
/// a write is never resent blindly; a refusal after an attempt that may have landed (the token
/// is already deactivated) is checked against the tenant, not reported as a failure
/// (`lifecycle::write_exactly_once`).
#[test]
fn lifecycle_writes_land_once_under_5xx_and_dropped_connections() {
    let n = 12;
    let faults = SimConfig { fail_rate: 0.1, drop_rate: 0.15, drop_after_share: 0.6, seed: 11, ..Default::default() };
    let t = Tenant::new(Api::Graph, &csv(n, |_| "activated"), faults);
    let file = t.csv.to_str().unwrap().to_string();

    let r = run(&t, "deactivate", &[&file], n);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let state = t.state();
    assert!(state.counters.drops_after > 0, "some writes landed without an answer: {:?}", state.counters);
    assert_eq!(state.counters.deactivations as usize, n, "each token deactivated exactly once");
    assert!(state.devices.iter().all(|d| d.status == "assigned"));
    assert!(records(&r, "change").iter().all(|c| c["status"] == "done"), "{}", r.stdout);

    let r = run(&t, "remove", &[&file], n);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let state = t.state();
    assert!(state.devices.is_empty(), "every token removed");
    assert_eq!((state.counters.unassignments as usize, state.counters.deletes as usize), (n, n), "each once");
    assert_eq!(state.counters.conflict_attempts, 0);
}
