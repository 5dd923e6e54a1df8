//! `oathbulk report`: the HTML report of a throttled, killed and resumed 600-token run —
//! read as a page (every failed row, each 429 marked, the runs), and, where Debian's
//! `chromium` is installed, rendered by headless Chromium offline: no console error, no
//! request leaves the page, a screenshot kept as a build artefact (target/report-screenshot.png).
//!
//! Without `chromium` the browser test is skipped with a message, except under CI (`CI` set),
//! where it fails: `.ci/run` installs it.

mod common;

use common::{csv, seed_for, wait_until, Api, Tenant};
use oathbulk::simulate::SimConfig;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

const ROWS: usize = 600;

/// Failed rows planted in the CSV: a tenant with another seed (the code is refused), a token
/// held by someone else, a serial the tenant does not have.
fn state(i: usize) -> &'static str {
    match i {
        _ if i % 97 == 7 => "wrong_secret",
        _ if i % 131 == 11 => "conflict",
        _ if i % 149 == 13 => "missing",
        _ => "available",
    }
}

struct Scenario {
    t: Tenant,
    journal: PathBuf,
    html: PathBuf,
    page: String,
}

/// A 600-token run against a tenant that throttles now and then (a bucket a little under
/// the starting pace), killed with SIGKILL part way, resumed from its journal, reported.
fn scenario() -> Scenario {
    let config = SimConfig { rate_limit: Some(250.0), rate_burst: Some(10.0), ..Default::default() };
    let t = Tenant::new(Api::Graph, &csv(ROWS, state), config);
    let journal = t.path("run.jsonl");
    let args = ["--journal", "run.jsonl", "--max-rate", "400", "--parallel", "8"];
    let mut child = t.command(&args).stdout(Stdio::null()).stderr(Stdio::null()).spawn().unwrap();
    wait_until(60, || settled_lines(&journal) >= 150);
    child.kill().unwrap();
    child.wait().unwrap();
    let killed_at = settled_lines(&journal);
    assert!(killed_at < ROWS, "killed part way ({killed_at} rows settled)");
    let resumed = t.run(&[&args[..], &["--resume"]].concat());
    assert_eq!(resumed.code, 1, "the planted rows fail: {}", resumed.stderr);

    let html = t.path("report.html");
    let out = Command::new(env!("CARGO_BIN_EXE_oathbulk"))
        .current_dir(t.dir.path())
        .env("OATHBULK_TOKEN", &t.token)
        .args(["report", "run.jsonl", "--html", "report.html", "--format", "json"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let page = std::fs::read_to_string(&html).unwrap();
    Scenario { t, journal, html, page }
}

fn settled_lines(journal: &Path) -> usize {
    std::fs::read_to_string(journal)
        .map(|s| s.lines().filter(|l| l.contains("\"activation\"") && !l.contains("\"in_flight\"")).count())
        .unwrap_or(0)
}

fn journal(path: &Path) -> Vec<Value> {
    let text = std::fs::read_to_string(path).unwrap();
    text.lines().filter_map(|l| serde_json::from_str(l).ok()).collect()
}

/// The serials whose last result in the journal is an error: what the page must list.
fn failed_serials(records: &[Value]) -> Vec<String> {
    let mut last = std::collections::BTreeMap::new();
    for r in records.iter().filter(|r| r["type"] == "activation" && r["error_code"] != "in_flight") {
        last.insert(r["serial"].as_str().unwrap().to_string(), r["status"].as_str().unwrap().to_string());
    }
    let ok = ["activated", "already_active"];
    last.into_iter().filter(|(_, s)| !ok.contains(&s.as_str())).map(|(k, _)| k).collect()
}

/// Every attribute value in a tag that could make the browser fetch something.
fn fetching_attributes(page: &str) -> Vec<String> {
    let mut found = Vec::new();
    for tag in page.split('<').skip(1).filter_map(|t| t.split('>').next()) {
        for attr in ["src=", "href=", "url(", "@import", "srcset="] {
            if tag.to_ascii_lowercase().contains(attr) {
                found.push(tag.to_string());
            }
        }
    }
    found
}

fn assert_the_page_tells_the_story(s: &Scenario) {
    let records = journal(&s.journal);
    let throttled = records.iter().filter(|r| r["type"] == "run_event" && r["event"] == "throttled").count();
    assert!(throttled > 0, "the tenant throttled the run (the journal has no throttled event)");
    assert_eq!(s.page.matches("class=\"mark-429\"").count(), throttled, "one mark per 429");
    assert!(s.page.contains("id=\"pace-chart\"") && s.page.contains("id=\"rate-chart\""));
    let failed = failed_serials(&records);
    let planted = (0..ROWS).filter(|i| state(*i) != "available").count();
    assert_eq!(failed.len(), planted, "{failed:?}");
    assert_eq!(s.page.matches("class=\"failed-row\"").count(), failed.len());
    for serial in &failed {
        assert!(s.page.contains(&format!("<td>{serial}</td>")), "{serial} missing from the failed rows");
    }
    // Two runs, the first killed (no summary), the second with its clock offset.
    assert!(records.iter().any(|r| r["type"] == "run_event" && r["event"] == "resumed"));
    assert!(s.page.contains("no summary: the run was stopped"));
    assert!(s.page.contains(" ms</td>"), "the clock offset is shown");
    // Nothing fetched, nothing run, no secret.
    assert_eq!(fetching_attributes(&s.page), Vec::<String>::new());
    assert!(!s.page.to_ascii_lowercase().contains("<script"));
    assert!(!s.page.contains(&s.t.token), "the bearer token is in the report");
    for i in 0..ROWS {
        assert!(!s.page.contains(&seed_for(i)), "seed {i} is in the report");
    }
}

#[test]
fn the_report_of_a_throttled_resumed_run_shows_every_failure_and_each_429() {
    let s = scenario();
    assert_the_page_tells_the_story(&s);
    // A journal still being written: a torn last line is left out, the rest reported.
    let mut text = std::fs::read_to_string(&s.journal).unwrap();
    text.push_str("{\"type\":\"activation\",\"line\":9,\"upn\":\"x@contoso.com\",\"ser");
    std::fs::write(&s.journal, text).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_oathbulk"))
        .args(["report", s.journal.to_str().unwrap(), "--html", s.html.to_str().unwrap(), "--format", "json"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let page = std::fs::read_to_string(&s.html).unwrap();
    assert!(page.contains("could not be read (a run still writing"), "the torn line is named");
    assert_eq!(page.matches("class=\"failed-row\"").count(), s.page.matches("class=\"failed-row\"").count());
}

fn chromium() -> Option<PathBuf> {
    ["chromium", "chromium-browser"].into_iter().find_map(|name| {
        let ok = Command::new(name).arg("--version").stdout(Stdio::null()).stderr(Stdio::null()).status();
        ok.is_ok_and(|s| s.success()).then(|| PathBuf::from(name))
    })
}

fn in_ci() -> bool {
    std::env::var_os("CI").is_some_and(|v| !v.is_empty() && v != "false" && v != "0")
}

/// Headless Chromium, offline: every host unresolvable, a proxy that answers nothing, no
/// background traffic of its own.
fn headless(browser: &Path, profile: &Path, extra: &[String]) -> std::process::Output {
    Command::new(browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--enable-logging=stderr",
            "--v=0",
            "--host-resolver-rules=MAP * ~NOTFOUND",
            "--proxy-server=127.0.0.1:9",
            "--hide-scrollbars",
            "--window-size=1000,2200",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(extra)
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

#[test]
fn chromium_renders_the_report_offline_without_console_errors() {
    let Some(browser) = chromium() else {
        assert!(!in_ci(), "chromium is not installed: .ci/run installs Debian's chromium package");
        eprintln!("skipped: chromium not found (apt-get install chromium)");
        return;
    };
    let started = Instant::now();
    let s = scenario();
    assert_the_page_tells_the_story(&s);
    let url = format!("file://{}", s.html.display());
    let profile = tempfile::tempdir().unwrap();

    // The DOM as Chromium built it: the charts and every failed row are there.
    let dom = headless(&browser, profile.path(), &["--dump-dom".into(), url.clone()]);
    let rendered = String::from_utf8_lossy(&dom.stdout);
    let log = String::from_utf8_lossy(&dom.stderr);
    assert!(rendered.contains("id=\"pace-chart\""), "no pace chart in the rendered page: {log}");
    assert_eq!(rendered.matches("class=\"mark-429\"").count(), s.page.matches("class=\"mark-429\"").count());
    assert_eq!(rendered.matches("class=\"failed-row\"").count(), s.page.matches("class=\"failed-row\"").count());
    let console: Vec<&str> = log.lines().filter(|l| l.contains("CONSOLE")).collect();
    assert!(console.is_empty(), "console messages: {console:#?}");
    // The page forbids itself every load (`Content-Security-Policy: default-src 'none'`): any
    // request it tried would be refused and logged as a console error, caught above. (Chromium's
    // own background requests, which the network log also shows, go nowhere: every host is
    // unresolvable here.)
    assert!(s.page.contains("default-src 'none'"));

    // The screenshot, kept as a build artefact.
    let shot = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/report-screenshot.png");
    let _ = std::fs::remove_file(&shot);
    let out = headless(&browser, profile.path(), &[format!("--screenshot={}", shot.display()), url]);
    let png =
        std::fs::read(&shot).unwrap_or_else(|_| panic!("no screenshot: {}", String::from_utf8_lossy(&out.stderr)));
    assert!(png.starts_with(b"\x89PNG") && png.len() > 20_000, "a real screenshot ({} bytes)", png.len());
    eprintln!("report rendered and checked in {:.1} s", started.elapsed().as_secs_f64());
}
