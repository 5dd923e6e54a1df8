//! Where the bearer token comes from, what the tool warns about before it starts, and the
//! read-only `tenant` command — all against the simulated tenant on 127.0.0.1.

mod common;

use common::{csv, jwt, now, on_both_backends, run_with_token, Api, Run, Tenant};
use oathbulk::simulate::SimConfig;
use serde_json::Value;
use std::process::{Command, Stdio};

/// Run `cmd` with `input` on its standard input.
fn with_stdin(cmd: &mut Command, input: &str) -> Run {
    use std::io::Write;
    let mut child = cmd.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    // The run may refuse before reading its input: a closed pipe is no failure here.
    let _ = child.stdin.take().unwrap().write_all(input.as_bytes());
    Run::from(child.wait_with_output().unwrap())
}

/// A tenant that expects `token`.
fn tenant_expecting(api: Api, rows: usize, token: &str, config: SimConfig) -> Tenant {
    Tenant::with_token(api, &csv(rows, |_| "assigned"), token, config)
}

fn write_token_file(t: &Tenant, name: &str, content: &str, mode: u32) {
    let p = t.path(name);
    std::fs::write(&p, content).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(mode)).unwrap();
    }
    // Windows: no modes; the file's ACL decides (tests/windows_paths.rs).
    #[cfg(not(unix))]
    let _ = mode;
}

on_both_backends!(
    #[cfg_attr(not(unix), ignore = "unix modes: Windows judges a token file by its ACL (tests/windows_paths.rs)")]
    authkey_txt_with_a_pasted_header_is_used_and_loose_permissions_warned
);

fn authkey_txt_with_a_pasted_header_is_used_and_loose_permissions_warned(api: Api) {
    let t = Tenant::new(api, &csv(4, |_| "assigned"), SimConfig::default());
    write_token_file(&t, "AuthKey.txt", &format!("Authorization: Bearer {}\r\n", t.token), 0o644);
    let run = Run::from(t.command(&[]).env_remove("OATHBULK_TOKEN").output().unwrap());
    assert_eq!(run.code, 0, "{api:?}: {}", run.stderr);
    assert!(run.stderr.contains("readable by other users"), "{}", run.stderr);
    t.assert_secret_free(&run);
    assert!(t.state().devices.iter().all(|d| d.status == "activated"));

    // chmod 600: no warning.
    write_token_file(&t, "AuthKey.txt", &t.token, 0o600);
    let run = Run::from(t.command(&["--dry-run"]).env_remove("OATHBULK_TOKEN").output().unwrap());
    assert!(!run.stderr.contains("readable by other users"), "{}", run.stderr);
}

#[test]
fn token_from_stdin_and_from_a_named_file() {
    let t = Tenant::new(Api::Graph, &csv(3, |_| "assigned"), SimConfig::default());
    let run = with_stdin(
        t.command(&["--token-stdin", "--dry-run"]).env_remove("OATHBULK_TOKEN"),
        &format!("Bearer {}\n", t.token),
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.summary()["counts"]["would_activate"], 3);

    write_token_file(&t, "graph.token", &t.token, 0o600);
    let run = Run::from(
        t.command(&["--token-file", "graph.token", "--dry-run"]).env_remove("OATHBULK_TOKEN").output().unwrap(),
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
}

#[test]
fn no_credentials_is_a_clear_usage_error() {
    let t = Tenant::new(Api::Graph, &csv(2, |_| "assigned"), SimConfig::default());
    let run = Run::from(t.command(&[]).env_remove("OATHBULK_TOKEN").output().unwrap());
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("no credentials") && run.stderr.contains("AuthKey.txt"), "{}", run.stderr);
    assert_eq!(run.summary()["fatal"]["code"], "usage");
    assert_eq!(t.state().counters.requests, 0);
}

#[test]
fn expired_and_expiring_jwts_are_warned_before_starting() {
    // Portal: an expired browser token → warning with the how-to.
    let expired = jwt(serde_json::json!({"exp": now() - 600, "aud": "74658136-14ec-4630-ad9b-26e160ff0fc6"}));
    let t = tenant_expecting(Api::Portal, 2, &expired, SimConfig::default());
    let run = t.run(&["--dry-run"]);
    let w: Vec<&Value> = run.records.iter().filter(|r| r["type"] == "warning").collect();
    assert!(w.iter().any(|r| r["code"] == "token_expired"), "{}", run.stdout);
    assert!(run.stderr.contains("developer tools"), "{}", run.stderr);

    // Graph: expires in 20 s, but 30 rows at 1 per second take 30 s.
    let soon = jwt(serde_json::json!({"exp": now() + 20, "aud": "https://graph.microsoft.com"}));
    let t = tenant_expecting(Api::Graph, 30, &soon, SimConfig::default());
    let run = t.run(&["--dry-run", "--max-rate", "1"]);
    assert!(run.records.iter().any(|r| r["type"] == "warning" && r["code"] == "token_expiring"), "{}", run.stdout);

    // A Graph token sent to the portal: audience warning.
    let graph_token = jwt(serde_json::json!({"exp": now() + 3600, "aud": "https://graph.microsoft.com"}));
    let t = tenant_expecting(Api::Portal, 2, &graph_token, SimConfig::default());
    let run = t.run(&["--dry-run"]);
    assert!(run.records.iter().any(|r| r["type"] == "warning" && r["code"] == "token_audience"), "{}", run.stdout);
    // And a healthy token raises none.
    let good = jwt(serde_json::json!({"exp": now() + 3600, "aud": "74658136-14ec-4630-ad9b-26e160ff0fc6"}));
    let t = tenant_expecting(Api::Portal, 2, &good, SimConfig::default());
    let run = t.run(&["--dry-run"]);
    assert!(!run.records.iter().any(|r| r["type"] == "warning"), "{}", run.stdout);
}

#[test]
fn portal_expired_token_says_how_to_get_a_fresh_one() {
    let t = Tenant::new(
        Api::Portal,
        &csv(10, |_| "assigned"),
        SimConfig { expire_token_after_requests: Some(2), ..Default::default() },
    );
    let run = t.run(&[]);
    assert_eq!(run.code, 3);
    assert!(run.stderr.contains("expired") && run.stderr.contains("F12"), "{}", run.stderr);
}

#[test]
fn progress_json_keeps_stderr_machine_readable() {
    let t = Tenant::new(Api::Graph, &csv(25, |_| "available"), SimConfig::default());
    let out = t.command(&["--progress", "json"]).output().unwrap();
    let run = Run::from(out);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let lines: Vec<Value> =
        run.stderr.lines().map(|l| serde_json::from_str(l).unwrap_or_else(|_| panic!("not JSON: {l}"))).collect();
    assert!(lines.iter().all(|l| l["type"] == "progress" || l["type"] == "diagnostic"));
    let last_activate = lines.iter().rev().find(|l| l["type"] == "progress" && l["phase"] == "activate").unwrap();
    assert_eq!(last_activate["done"], 25);
    assert_eq!(last_activate["total"], 25);
}

#[test]
fn table_format_is_for_people() {
    let t = Tenant::new(Api::Graph, &csv(20, |i| if i == 3 { "conflict" } else { "available" }), SimConfig::default());
    let out = t.command(&["--format", "table"]).output().unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("status") && text.contains("activated") && text.contains("conflict"), "{text}");
    assert!(text.contains("activate: 20 rows"), "{text}");
    assert!(!text.contains("{\"type\""));
}

#[test]
fn tenant_lists_the_whole_inventory_across_pages() {
    let t = Tenant::new(
        Api::Graph,
        &csv(130, |i| match i % 3 {
            0 => "activated",
            1 => "assigned",
            _ => "available",
        }),
        SimConfig { page_size_max: 40, ..Default::default() },
    );
    let tenant = |extra: &[&str]| {
        Run::from(
            Command::new(env!("CARGO_BIN_EXE_oathbulk"))
                .env("OATHBULK_TOKEN", &t.token)
                .args(["tenant", "--graph-url", &t.sim().graph_url(), "--progress", "none"])
                .args(extra)
                .stdin(Stdio::null())
                .output()
                .unwrap(),
        )
    };
    let run = tenant(&[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let tokens: Vec<&Value> = run.records.iter().filter(|r| r["type"] == "tenant_token").collect();
    assert_eq!(tokens.len(), 130, "every page followed");
    assert_eq!(run.summary()["counts"]["activated"], 44);
    let held = tokens.iter().find(|r| r["serial"] == "SN00000").unwrap();
    assert_eq!(held["status"], "activated");
    assert!(held["assigned_to_id"].as_str().is_some());
    assert!(held.get("secret").is_none() && held.get("secretKey").is_none());
    t.assert_secret_free(&run);

    let run = tenant(&["--status", "available"]);
    assert_eq!(run.records.iter().filter(|r| r["type"] == "tenant_token").count(), 43);
    let run = tenant(&["--serial", "SN00007"]);
    let only: Vec<&Value> = run.records.iter().filter(|r| r["type"] == "tenant_token").collect();
    assert_eq!(only.len(), 1);
    assert_eq!(only[0]["serial"], "SN00007");

    let run =
        run_with_token("wrong-token-123456", &["tenant", "--graph-url", &t.sim().graph_url(), "--progress", "none"]);
    assert_eq!(run.code, 3);
    assert!(!run.stderr.contains("wrong-token-123456"));
}

#[test]
fn the_csv_and_the_token_cannot_both_come_from_standard_input() {
    // Nothing listens on port 9: had anything been read and sent, the run would fail otherwise.
    let url = "http://127.0.0.1:9/beta";
    let cases: Vec<Vec<&str>> = vec![
        vec!["activate", "-"],
        vec!["import", "-"],
        vec!["users", "-", "--with-tenant"],
        vec!["doctor", "-"],
        vec!["deactivate", "-"],
        vec!["unassign", "-"],
        vec!["remove", "-"],
        vec!["tenant", "--simulate", "--seed", "-"],
    ];
    for args in cases {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_oathbulk"));
        cmd.args(&args).args(["--token-stdin", "--graph-url", url, "--progress", "none"]).env_remove("OATHBULK_TOKEN");
        let run = with_stdin(&mut cmd, &format!("eyJ0eXAiOiJKV1QifQ.stdin-token.sig\n{}", csv(2, |_| "assigned")));
        assert_eq!(run.code, 2, "{args:?}: a usage error: {}", run.stderr);
        assert!(
            run.stderr.contains("--token-stdin") && run.stderr.contains("standard input"),
            "{args:?}: says why: {}",
            run.stderr
        );
        assert_eq!(run.summary()["fatal"]["code"], "usage", "{args:?}");
        assert!(run.records.iter().all(|r| r["type"] == "summary"), "{args:?}: no row was read: {}", run.stdout);
    }
}
