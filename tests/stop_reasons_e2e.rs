//! Every way a command stops early names one reason from the one list and exits with its code
//! (`oathbulk::stop`): the record a consumer reads and the process's verdict never disagree.

mod common;

use oathbulk::stop::StopReason;
use std::process::{Command, Stdio};

fn run(args: &[&str], env: &[(&str, &str)]) -> common::Run {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("t.csv"),
        "upn,serial number,secret key,time interval,manufacturer,model\na@contoso.com,S1,GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ,30,Acme,C200\n",
    )
    .unwrap();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_oathbulk"));
    cmd.current_dir(dir.path()).args(args).stdin(Stdio::null()).env_remove("OATHBULK_TOKEN");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().unwrap().into()
}

/// A loopback port nothing listens on.
fn closed_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

fn assert_stop(run: &common::Run, reason: StopReason) {
    let summary = run.summary();
    assert_eq!(summary["fatal"]["code"], reason.as_str(), "{}", run.stdout);
    assert_eq!(run.code, reason.exit_code().code(), "exit code for {reason}: {}", run.stderr);
    assert_eq!(summary["exit_code"], run.code, "the summary and the process agree");
}

#[test]
fn an_unreachable_tenant_is_a_network_stop_with_exit_4() {
    let url = format!("http://127.0.0.1:{}/graph/beta", closed_port());
    // --max-wait bounds the retries too (twice it in all), so the test does not wait them out;
    // one second (its least) still leaves room for several backed-off retries.
    let r = run(
        &["activate", "t.csv", "--graph-url", &url, "--progress", "none", "--max-wait", "1"],
        &[("OATHBULK_TOKEN", "x.y.z")],
    );
    assert_stop(&r, StopReason::Network);
}

#[test]
fn an_unreachable_token_endpoint_is_a_network_stop_not_usage() {
    let authority = format!("http://127.0.0.1:{}/login", closed_port());
    let graph = format!("http://127.0.0.1:{}/graph/beta", closed_port());
    let r = run(
        &[
            "activate",
            "t.csv",
            "--tenant",
            "contoso.onmicrosoft.com",
            "--client-id",
            "00000000-0000-0000-0000-000000000001",
            "--authority-url",
            &authority,
            "--graph-url",
            &graph,
            "--progress",
            "none",
        ],
        &[("OATHBULK_CLIENT_SECRET", "s3cret")],
    );
    assert_stop(&r, StopReason::Network);
    assert!(!r.stdout.contains("s3cret") && !r.stderr.contains("s3cret"), "the client secret is never printed");
}

#[test]
fn a_missing_file_is_a_usage_stop_with_exit_2() {
    let r = run(&["activate", "no-such.csv", "--simulate", "--progress", "none"], &[]);
    assert_stop(&r, StopReason::Usage);
}

#[test]
fn a_bug_on_the_main_thread_is_an_internal_stop_with_exit_70_and_a_summary() {
    // Debug builds panic on purpose when OATHBULK_DEBUG_PANIC is set (the suite's binary is one).
    if !cfg!(debug_assertions) {
        return;
    }
    let r = run(&["check", "t.csv"], &[("OATHBULK_DEBUG_PANIC", "1")]);
    assert_stop(&r, StopReason::Internal);
    assert_eq!(r.summary()["command"], "check");
    assert!(r.stderr.contains("a bug"), "{}", r.stderr);
}
