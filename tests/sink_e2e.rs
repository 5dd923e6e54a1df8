//! The one result sink, end to end: every command that writes results keeps the same
//! journal discipline (nothing is sent that the journal could not record) and logs its
//! failures (`--error-log`) the same way, with the ids of the request the tenant refused.

mod common;

use common::{csv, on_both_backends, Api, Run, Tenant};
use oathbulk::simulate::SimConfig;
use serde_json::Value;
use std::process::Command;

fn records<'a>(r: &'a Run, kind: &str) -> Vec<&'a Value> {
    r.records.iter().filter(|x| x["type"] == kind).collect()
}

/// Run `cmd` unable to grow any file past `bytes` (`RLIMIT_FSIZE`): a journal line past that
/// fails to write, as on a full disk.
#[cfg(unix)]
fn with_file_limit(mut cmd: Command, bytes: u64) -> Run {
    use std::os::unix::process::CommandExt;
    // SAFETY: only async-signal-safe calls between fork and exec.
    unsafe {
        cmd.pre_exec(move || {
            let limit = libc::rlimit { rlim_cur: bytes as libc::rlim_t, rlim_max: bytes as libc::rlim_t };
            if libc::setrlimit(libc::RLIMIT_FSIZE, &limit) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            // The write fails with EFBIG instead of the process being killed.
            libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
            Ok(())
        });
    }
    Run::from(cmd.output().unwrap())
}

/// A journal that holds its header and one settled line, and the size it has then.
fn journal_with_one_line(t: &Tenant, mut first: Command) -> (String, u64) {
    let path = t.path("run.jsonl");
    let r = Run::from(first.output().unwrap());
    assert_eq!(r.code, 0, "{}", r.stderr);
    (path.to_str().unwrap().to_string(), std::fs::metadata(&path).unwrap().len())
}

fn assert_stopped_by_the_journal(t: &Tenant, r: &Run, writes_before: u64) {
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert_eq!(r.summary()["fatal"]["code"], "journal", "{}", r.stdout);
    assert_eq!(t.state().counters.writes, writes_before, "a write the journal could not record was sent");
    let counts = &r.summary()["counts"];
    assert_eq!((counts["not_attempted"].as_u64(), counts["skipped"].as_u64()), (Some(3), Some(1)), "{}", r.stdout);
    assert_eq!(r.summary()["rows"], 4);
    assert!(r.stdout.contains("not sent: the journal cannot be written"), "{}", r.stdout);
}

#[cfg(unix)]
#[test]
fn every_command_stops_before_a_write_its_journal_cannot_record() {
    // deactivate: SN00000 needs nothing (settled by the first run), the rest need a write.
    let states = |i: usize| if i == 0 { "assigned" } else { "activated" };
    let t = Tenant::new(Api::Graph, &csv(4, states), SimConfig::default());
    let (journal, size) = journal_with_one_line(
        &t,
        t.subcommand("deactivate", &["--serial", "SN00000", "--journal", t.path("run.jsonl").to_str().unwrap()]),
    );
    let writes = t.state().counters.writes;
    let csv_path = t.csv.to_str().unwrap();
    let r = with_file_limit(t.subcommand("deactivate", &[csv_path, "--journal", &journal, "--resume"]), size + 10);
    assert_stopped_by_the_journal(&t, &r, writes);
    assert_eq!(records(&r, "change").len(), 3, "every row has its record");

    // activate: the same discipline, the same summary.
    let states = |i: usize| if i == 0 { "activated" } else { "assigned" };
    let t = Tenant::new(Api::Graph, &csv(4, states), SimConfig::default());
    let (journal, size) = journal_with_one_line(
        &t,
        t.command(&["--serial", "SN00000", "--journal", t.path("run.jsonl").to_str().unwrap()]),
    );
    let writes = t.state().counters.writes;
    let r = with_file_limit(t.command(&["--journal", &journal, "--resume"]), size + 10);
    assert_stopped_by_the_journal(&t, &r, writes);
}

/// The `key=value` field of an error-log entry.
fn log_field<'a>(entry: &'a str, name: &str) -> &'a str {
    let prefix = format!("{name}=");
    entry.split('\t').find_map(|f| f.strip_prefix(prefix.as_str())).unwrap_or_else(|| panic!("{name}: {entry}"))
}

#[test]
fn import_failures_are_logged_with_the_request_that_refused_them() {
    // user0 may hold two methods: the third token imported with --assign is refused, inside
    // the bulk answer (200, one id for the batch) or, one by one, by its own POST (400).
    for bulk_create_fails in [false, true] {
        let config = SimConfig { max_methods_per_user: 2, bulk_create_fails, ..Default::default() };
        let t = Tenant::new(Api::Graph, &csv(3, |_| "missing"), config);
        let csv_path = t.csv.to_str().unwrap();
        let r =
            Run::from(t.subcommand("import", &[csv_path, "--assign", "--error-log", "errors.log"]).output().unwrap());
        t.assert_secret_free(&r);
        assert_eq!(r.code, 1, "{}", r.stderr);
        let failed: Vec<&Value> = records(&r, "import").into_iter().filter(|x| x["status"] == "failed").collect();
        assert_eq!(failed.len(), 1, "{}", r.stdout);
        assert_eq!(failed[0]["error_code"], "tooManyHardwareOathMethods");
        let log = std::fs::read_to_string(t.path("errors.log")).unwrap();
        let entries: Vec<&str> = log.lines().filter(|l| !l.starts_with('\t')).collect();
        assert_eq!(entries.len(), 1, "{log}");
        assert_eq!(log_field(entries[0], "serial"), failed[0]["serial"].as_str().unwrap());
        let state = t.state();
        let (route, status) = if bulk_create_fails { ("graph.create_device", 400) } else { ("graph.bulk_create", 200) };
        let refusal = state.answers.iter().rfind(|a| a.route == route && a.status == status).expect("the refusal");
        assert_eq!(log_field(entries[0], "request-id"), refusal.request_id, "bulk fails: {bulk_create_fails}");
        assert_eq!(log_field(entries[0], "client-request-id"), refusal.client_request_id);
    }
}

on_both_backends!(the_simulator_names_every_answer_with_its_request_ids);

/// Error answers too, under each API's own header names.
fn the_simulator_names_every_answer_with_its_request_ids(api: Api) {
    let t = Tenant::new(api, &csv(1, |_| "assigned"), SimConfig::default());
    let (url, server, client, other) = match api {
        Api::Graph => (
            format!("{}/directory/authenticationMethodDevices/hardwareOathDevices", t.sim().graph_url()),
            "request-id",
            "client-request-id",
            "x-ms-request-id",
        ),
        Api::Portal => (
            format!("{}/api/MultifactorAuthentication/HardwareToken/users?skipToken=&upn=", t.sim().portal_url()),
            "x-ms-request-id",
            "x-ms-client-request-id",
            "request-id",
        ),
    };
    let sent = uuid::Uuid::new_v4().to_string();
    let resp = t.rt.block_on(async {
        reqwest::Client::new().get(&url).header(client, &sent).bearer_auth("wrong").send().await.unwrap()
    });
    assert_eq!(resp.status(), 401, "{api:?}");
    let header = |name: &str| resp.headers().get(name).map(|v| v.to_str().unwrap().to_string());
    let answered = t.state().answers.last().cloned().expect("kept");
    assert_eq!(
        (answered.route.starts_with(if api == Api::Graph { "graph." } else { "portal." }), answered.status),
        (true, 401)
    );
    assert_eq!(header(server), Some(answered.request_id.clone()), "{api:?}");
    assert_eq!(header(client), Some(sent.clone()), "{api:?}: our id echoed");
    assert_eq!(answered.client_request_id, sent);
    assert_eq!(header(other), None, "{api:?}: one naming per API");
}

/// Named where the unix test above cannot build, so the skip is counted and says why.
#[cfg(not(unix))]
#[test]
#[ignore = "unix only: a full disk is simulated with a file-size rlimit (setrlimit RLIMIT_FSIZE)"]
fn unix_only_full_disk_stop() {}
