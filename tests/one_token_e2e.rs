//! Activating exactly one token: from the CSV by serial, or with a code typed off the
//! token's display (no secret), including a user who is in no CSV.

mod common;

use common::{csv, offset_into_step, on_both_backends, tenant_code, Api, Run, Tenant};
use oathbulk::simulate::SimConfig;

/// `oathbulk activate` without a CSV.
fn activate_typed(t: &Tenant, args: &[&str]) -> Run {
    t.output(t.bin().arg("activate").args(t.backend_args()).args(["--progress", "none"]).args(args))
}

#[test]
fn replacement_token_with_a_typed_code_for_a_user_in_no_csv() {
    // SN00001 is a spare (available). It goes to user9@contoso.com, who exists in the
    // tenant (the seed's rows 27-29) but is in no CSV this run reads: there is none.
    // The tenant 2 s into its step: the typed code holds for the run.
    let offset = offset_into_step(2);
    let config = SimConfig { clock_offset_secs: offset, ..Default::default() };
    let t = Tenant::new(Api::Graph, &csv(30, |i| if i == 1 { "available" } else { "activated" }), config);
    let code = tenant_code(1, offset);
    let run = activate_typed(&t, &["--serial", "SN00001", "--code", &code, "--upn", "user9@contoso.com"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let a = &run.activations()["SN00001"];
    assert_eq!(a["status"], "activated");
    assert_eq!(a["action"], "assign_and_activate");
    assert_eq!(a["attempts"], 1);
    let state = t.state();
    let d = state.device("SN00001").unwrap();
    assert_eq!((d.status.as_str(), d.activations), ("activated", 1));
    assert_eq!(d.assigned_upn.as_deref(), Some("user9@contoso.com"));
}

#[test]
fn a_rejected_typed_code_is_reported_plainly_and_never_retried() {
    let offset = offset_into_step(2);
    let t =
        Tenant::new(Api::Graph, &csv(3, |_| "assigned"), SimConfig { clock_offset_secs: offset, ..Default::default() });
    let good = tenant_code(2, offset);
    let wrong = format!("{:06}", (good.parse::<u32>().unwrap() + 1) % 1_000_000);
    let run = activate_typed(&t, &["--serial", "SN00002", "--code", &wrong]);
    assert_eq!(run.code, 1);
    let a = &run.activations()["SN00002"];
    assert_eq!(a["status"], "failed");
    assert_eq!(a["attempts"], 1, "a typed code is sent once");
    assert!(a["error_message"].as_str().unwrap().contains("never retried"), "{a}");
    let state = t.state();
    assert_eq!(state.device("SN00002").unwrap().rejected_codes, 1);
    assert_ne!(state.device("SN00002").unwrap().status, "activated");
}

on_both_backends!(typed_code_for_an_assigned_token_finds_its_holder);

fn typed_code_for_an_assigned_token_finds_its_holder(api: Api) {
    let offset = offset_into_step(2);
    let t = Tenant::new(api, &csv(4, |_| "assigned"), SimConfig { clock_offset_secs: offset, ..Default::default() });
    let run = activate_typed(&t, &["--serial", "SN00001", "--code", &tenant_code(1, offset)]);
    assert_eq!(run.code, 0, "{api:?}: {}", run.stderr);
    let state = t.state();
    assert_eq!(state.device("SN00001").unwrap().status, "activated");
    assert_eq!(state.counters.activations, 1, "only that token");
    // The record names the holder by UPN (Graph gives only an object id: resolved).
    assert_eq!(run.activations()["SN00001"]["upn"], "user0@contoso.com", "{api:?}");
}

#[test]
fn serial_from_the_csv_activates_only_that_row() {
    let t = Tenant::new(Api::Graph, &csv(10, |_| "available"), SimConfig::default());
    let run = t.run(&["--serial", "SN00004"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.activations().len(), 1);
    let state = t.state();
    assert_eq!(state.devices.iter().filter(|d| d.status == "activated").count(), 1);
    assert_eq!(state.device("SN00004").unwrap().status, "activated");

    let missing = t.run(&["--serial", "NOPE"]);
    assert_eq!(missing.code, 2);
    assert!(missing.stderr.contains("NOPE"), "{}", missing.stderr);
}

#[test]
fn a_code_must_be_six_digits_and_a_lone_available_token_needs_a_user() {
    let t = Tenant::new(Api::Graph, &csv(2, |_| "available"), SimConfig::default());
    let run = activate_typed(&t, &["--serial", "SN00001", "--code", "12345"]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("six digits"), "{}", run.stderr);
    let run = activate_typed(&t, &["--serial", "SN00001", "--code", "123456"]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("--upn"), "{}", run.stderr);
    assert_eq!(t.state().counters.writes, 0);
}
