//! Servers that lie, written here (not the simulator): each answers the real binary on
//! 127.0.0.1 (and 127.0.0.2, another origin on the same machine) with one hostile answer,
//! and each test holds one rule of docs/security.md.

mod common;

use common::read_request;
use std::io::Write;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const TOKEN: &str = "eyJ0eXAiOiJKV1QifQ.hostile-servers-test-token.sig";

/// What a handler sends back: a whole response, a body streamed until the client hangs up,
/// or a body dripped one byte at a time, forever (until the client hangs up).
enum Answer {
    Full(String),
    Endless { head: String },
    Drip { head: String },
}

fn ok_json(body: &str) -> Answer {
    Answer::Full(format!(
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    ))
}

/// A one-thread HTTP server on `ip`; every request it saw is kept. A handler gets the
/// request as text: its head, the blank line, and its body (a form or JSON).
struct Server {
    port: u16,
    seen: Arc<Mutex<Vec<String>>>,
}

impl Server {
    fn start(ip: &str, handler: impl Fn(&str, u16) -> Answer + Send + 'static) -> Server {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let log = seen.clone();
        let port = common::serve(ip, move |_, mut stream| {
            let head = read_request(&mut stream);
            log.lock().unwrap().push(head.clone());
            // The handler is told the server's own port, for links to itself.
            let own_port = stream.local_addr().unwrap().port();
            match handler(&head, own_port) {
                Answer::Full(text) => {
                    let _ = stream.write_all(text.as_bytes());
                }
                Answer::Endless { head } => {
                    let _ = stream.write_all(head.as_bytes());
                    let chunk = vec![b'x'; 64 * 1024];
                    // Until the client hangs up (or far past any sane cap).
                    for _ in 0..16_384 {
                        if stream.write_all(&chunk).is_err() {
                            break;
                        }
                    }
                }
                Answer::Drip { head } => {
                    let _ = stream.write_all(head.as_bytes());
                    // A byte every 100 ms: never idle long enough for a read timeout to
                    // fire, never done. Until the client hangs up (an hour at most).
                    for _ in 0..36_000 {
                        if stream.write_all(b" ").and_then(|_| stream.flush()).is_err() {
                            break;
                        }
                        std::thread::sleep(Duration::from_millis(100));
                    }
                }
            }
        });
        Server { port, seen }
    }

    fn requests(&self) -> Vec<String> {
        self.seen.lock().unwrap().clone()
    }
}

/// A JSON answer with any status.
fn json_answer(status: &str, body: &serde_json::Value) -> Answer {
    let body = body.to_string();
    Answer::Full(format!(
        "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    ))
}

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

fn oathbulk(args: &[&str], envs: &[(&str, &str)]) -> Run {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_oathbulk"));
    cmd.args(args).env_remove("OATHBULK_TOKEN").env_remove("OATHBULK_CLIENT_SECRET").stdin(Stdio::null());
    for (k, v) in envs {
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap();
    let run = Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    };
    assert!(!run.stderr.contains("panicked"), "no panic: {}", run.stderr);
    run
}

fn tenant(port: u16) -> Run {
    let url = format!("http://127.0.0.1:{port}/beta");
    oathbulk(&["tenant", "--graph-url", &url, "--progress", "none"], &[("OATHBULK_TOKEN", TOKEN)])
}

fn fatal_message(run: &Run) -> String {
    let summary: serde_json::Value = serde_json::from_str(run.stdout.lines().last().expect("a summary")).unwrap();
    summary["fatal"]["message"].as_str().unwrap_or_default().to_string()
}

#[test]
fn the_token_goes_only_to_the_configured_origin() {
    let elsewhere = Server::start("127.0.0.2", |_, _| ok_json(r#"{"value":[]}"#));
    let other_port = Server::start("127.0.0.1", |_, _| ok_json(r#"{"value":[]}"#));
    for target in [
        format!("http://127.0.0.2:{}/beta/next", elsewhere.port),
        format!("http://127.0.0.1:{}/beta/next", other_port.port),
        "https://127.0.0.1/beta/next".to_string(),
    ] {
        let next = target.clone();
        let api =
            Server::start("127.0.0.1", move |_, _| ok_json(&format!(r#"{{"value":[],"@odata.nextLink":"{next}"}}"#)));
        let run = tenant(api.port);
        assert_ne!(run.code, 0, "a foreign next link ends the read: {}", run.stdout);
        let msg = fatal_message(&run);
        assert!(msg.contains("configured") && msg.contains("origin"), "{msg}");
        assert_eq!(api.requests().len(), 1, "the first page only");
        assert!(api.requests()[0]
            .to_ascii_lowercase()
            .contains(&format!("authorization: bearer {TOKEN}").to_ascii_lowercase()));
    }
    assert!(elsewhere.requests().is_empty(), "nothing reached 127.0.0.2: {:?}", elsewhere.requests());
    assert!(other_port.requests().is_empty(), "nothing reached another port");
}

#[test]
fn a_2xx_that_is_not_json_is_an_error() {
    let proxy = Server::start("127.0.0.1", |_, _| {
        let body = "<html><head><title>Sign in to your account</title></head></html>";
        Answer::Full(format!(
            "HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        ))
    });
    let run = tenant(proxy.port);
    assert_eq!(run.code, 4, "not an empty tenant: {}{}", run.stdout, run.stderr);
    let msg = fatal_message(&run);
    assert!(msg.contains("text/html") && msg.contains("<html>"), "{msg}");
}

#[test]
fn response_bodies_are_capped() {
    // Declared huge: refused before reading.
    let declared = Server::start("127.0.0.1", |_, _| {
        Answer::Endless {
        head: "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 1073741824\r\nConnection: close\r\n\r\n"
            .into(),
    }
    });
    // Endless and undeclared (chunked is what a streaming server sends; here: close-delimited).
    let endless = Server::start("127.0.0.1", |_, _| Answer::Endless {
        head: "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n".into(),
    });
    for port in [declared.port, endless.port] {
        let started = Instant::now();
        let run = tenant(port);
        assert_eq!(run.code, 4, "{}", run.stderr);
        assert!(fatal_message(&run).contains("larger than"), "{}", fatal_message(&run));
        assert!(started.elapsed() < Duration::from_secs(30));
    }
}

#[test]
fn a_token_echoed_by_a_server_is_never_printed() {
    let echo = Server::start("127.0.0.1", |head, _| {
        let auth =
            head.lines().find(|l| l.to_ascii_lowercase().starts_with("authorization:")).unwrap_or("").to_string();
        let body =
            serde_json::json!({"error": {"code": "BadRequest", "message": format!("you sent {auth}")}}).to_string();
        Answer::Full(format!(
            "HTTP/1.1 400 Bad Request\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        ))
    });
    let run = tenant(echo.port);
    assert_ne!(run.code, 0);
    assert!(!run.stdout.contains(TOKEN) && !run.stderr.contains(TOKEN), "{}\n{}", run.stdout, run.stderr);
    assert!(
        run.stdout.contains("[REDACTED]") || run.stderr.contains("[REDACTED]"),
        "the echo was seen: {}",
        run.stdout
    );
}

#[test]
fn server_numbers_are_clamped_not_trusted() {
    // Client credentials with `expires_in` at u64::MAX: used to panic on the duration.
    let server = Server::start("127.0.0.1", |head, _| {
        if head.contains("/oauth2/v2.0/token") {
            ok_json(
                r#"{"access_token":"eyJ0eXAiOiJKV1QifQ.app-token-from-hostile-idp.sig","token_type":"Bearer","expires_in":18446744073709551615}"#,
            )
        } else {
            ok_json(r#"{"value":[]}"#)
        }
    });
    let base = format!("http://127.0.0.1:{}", server.port);
    let run = oathbulk(
        &[
            "tenant",
            "--graph-url",
            &format!("{base}/beta"),
            "--authority-url",
            &base,
            "--tenant",
            "contoso.onmicrosoft.com",
            "--client-id",
            "00000000-0000-0000-0000-000000000001",
            "--progress",
            "none",
        ],
        &[("OATHBULK_CLIENT_SECRET", "client-secret-value-xyz")],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(!run.stdout.contains("app-token-from-hostile-idp") && !run.stderr.contains("client-secret-value-xyz"));
}

#[test]
fn terminal_escapes_from_a_server_are_shown_escaped() {
    let server = Server::start("127.0.0.1", |_, _| {
        let body = serde_json::json!({"error": {"code": "BadRequest", "message": "bad\u{1b}]0;pwned\u{7}\u{9b}31m"}})
            .to_string();
        Answer::Full(format!(
            "HTTP/1.1 400 Bad Request\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        ))
    });
    let run = tenant(server.port);
    assert_ne!(run.code, 0);
    for out in [&run.stdout, &run.stderr] {
        assert!(!out.contains('\u{1b}') && !out.contains('\u{7}') && !out.contains('\u{9b}'), "{out:?}");
    }
    assert!(run.stderr.contains("\\x1b]0;pwned\\x07\\x9b31m"), "{}", run.stderr);
}

#[test]
fn a_wait_longer_than_max_wait_stops_the_run_cleanly_and_resumably() {
    // The inventory answers; every write is throttled with a Retry-After no run could honour.
    let server = Server::start("127.0.0.1", |head, _| {
        if head.starts_with("GET") {
            ok_json(
                r#"{"value":[{"id":"d1","serialNumber":"S1","status":"assigned","assignedTo":{"id":"u1","displayName":"A"}}]}"#,
            )
        } else {
            Answer::Full(
                "HTTP/1.1 429 Too Many Requests\r\nRetry-After: 18446744073709551615\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                    .into(),
            )
        }
    });
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("t.csv");
    std::fs::write(
        &csv,
        "upn,serial number,secret key,time interval,manufacturer,model\na@contoso.com,S1,GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ,30,Acme,C200\n",
    )
    .unwrap();
    let url = format!("http://127.0.0.1:{}/beta", server.port);
    let started = Instant::now();
    let run = oathbulk(
        &["activate", csv.to_str().unwrap(), "--graph-url", &url, "--progress", "none", "--min-validity", "1"],
        &[("OATHBULK_TOKEN", TOKEN)],
    );
    assert!(started.elapsed() < Duration::from_secs(60), "no hang: {:?}", started.elapsed());
    assert_eq!(run.code, 4, "a wait beyond --max-wait stops the run with exit 4: {}", run.stderr);
    let records: Vec<serde_json::Value> = run.stdout.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let summary = records.last().unwrap();
    assert_eq!(summary["fatal"]["code"], "service");
    assert!(fatal_message(&run).contains("--max-wait"), "says why: {}", fatal_message(&run));
    let row = records.iter().find(|r| r["type"] == "activation").expect("every row recorded");
    assert_eq!(row["status"], "not_attempted", "a throttled write was not applied: --resume sends it again");
    assert!(server.requests().iter().filter(|h| h.starts_with("POST")).count() >= 1);
}

/// The head of a 200 whose JSON body then drips (it declares a length it never reaches).
fn drip() -> Answer {
    Answer::Drip {
        head:
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100000\r\nConnection: close\r\n\r\n"
                .into(),
    }
}

#[test]
fn a_slow_drip_ends_a_read_at_the_deadline() {
    let server = Server::start("127.0.0.1", |_, _| drip());
    let url = format!("http://127.0.0.1:{}/beta", server.port);
    let started = Instant::now();
    let run = oathbulk(
        &["tenant", "--graph-url", &url, "--http-timeout", "2", "--progress", "none"],
        &[("OATHBULK_TOKEN", TOKEN)],
    );
    let took = started.elapsed();
    assert!(took >= Duration::from_secs(2) && took < Duration::from_secs(6), "ends at the deadline: {took:?}");
    assert_eq!(run.code, 4, "{}", run.stderr);
    let summary: serde_json::Value = serde_json::from_str(run.stdout.lines().last().unwrap()).unwrap();
    assert_eq!(summary["fatal"]["code"], "network");
    let msg = fatal_message(&run);
    assert!(msg.contains("did not finish") && msg.contains("2 s (--http-timeout)"), "{msg}");
    assert_eq!(server.requests().len(), 1, "one attempt: a drip is not sent again");
    // The flag is bounded: no deadline of zero, none past ten minutes.
    for bad in ["0", "601"] {
        let run = oathbulk(&["tenant", "--graph-url", &url, "--http-timeout", bad], &[("OATHBULK_TOKEN", TOKEN)]);
        assert_eq!(run.code, 2, "--http-timeout {bad}: {}", run.stderr);
    }
}

#[test]
fn a_slow_drip_stops_an_activation_at_the_deadline_resumably() {
    // The first inventory read drips; every later request is answered (the second run).
    let dripped = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let once = dripped.clone();
    let server = Server::start("127.0.0.1", move |head, _| {
        if head.starts_with("GET") && !once.swap(true, std::sync::atomic::Ordering::SeqCst) {
            return drip();
        }
        if head.starts_with("GET") {
            let serial = ["S1", "S2", "S3"].into_iter().find(|s| head.contains(&format!("%27{s}%27"))).unwrap_or("S1");
            return ok_json(&format!(
                r#"{{"value":[{{"id":"d-{serial}","serialNumber":"{serial}","status":"assigned","assignedTo":{{"id":"u-{serial}","displayName":"A"}}}}]}}"#
            ));
        }
        Answer::Full("HTTP/1.1 204 No Content\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".into())
    });
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("t.csv");
    let rows: Vec<String> = (1..=3)
        .map(|i| format!("user{i}@contoso.com,S{i},GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJ{},30,Acme,C200", (b'A' + i) as char))
        .collect();
    std::fs::write(
        &csv,
        format!("upn,serial number,secret key,time interval,manufacturer,model\n{}\n", rows.join("\n")),
    )
    .unwrap();
    let journal = dir.path().join("run.jsonl");
    let url = format!("http://127.0.0.1:{}/beta", server.port);
    let args = |resume: bool| {
        let mut a = vec![
            "activate".to_string(),
            csv.to_str().unwrap().into(),
            "--graph-url".into(),
            url.clone(),
            "--http-timeout".into(),
            "2".into(),
            "--journal".into(),
            journal.to_str().unwrap().into(),
            "--progress".into(),
            "none".into(),
            "--min-validity".into(),
            "1".into(),
        ];
        if resume {
            a.push("--resume".into());
        }
        a
    };
    let started = Instant::now();
    let first: Vec<String> = args(false);
    let run = oathbulk(&first.iter().map(String::as_str).collect::<Vec<_>>(), &[("OATHBULK_TOKEN", TOKEN)]);
    let took = started.elapsed();
    assert!(took >= Duration::from_secs(2) && took < Duration::from_secs(6), "ends at the deadline: {took:?}");
    assert_eq!(run.code, 4, "{}", run.stderr);
    let records: Vec<serde_json::Value> = run.stdout.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let summary = records.last().unwrap();
    assert_eq!(summary["fatal"]["code"], "network");
    assert!(fatal_message(&run).contains("--http-timeout") && fatal_message(&run).contains("--resume"));
    let rows: Vec<&serde_json::Value> = records.iter().filter(|r| r["type"] == "activation").collect();
    assert_eq!(rows.len(), 3, "every row recorded: {}", run.stdout);
    assert!(rows.iter().all(|r| r["status"] == "not_attempted"), "{}", run.stdout);
    assert!(server.requests().iter().all(|h| h.starts_with("GET")), "nothing was written");
    // The journal: its header, and nothing a resumed run would skip.
    let text = std::fs::read_to_string(&journal).unwrap();
    let lines: Vec<serde_json::Value> = text.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    // (and the run's summary, for `report`: `--resume` skips nothing for it)
    let rows: Vec<_> = lines.iter().filter(|l| l["type"] != "summary").collect();
    assert_eq!(rows.len(), 1, "{text}");
    assert_eq!(lines[0]["type"], "journal_header");
    assert_eq!(lines.last().unwrap()["type"], "summary", "{text}");

    // Resumed against a server that answers: every row activated.
    let again: Vec<String> = args(true);
    let run = oathbulk(&again.iter().map(String::as_str).collect::<Vec<_>>(), &[("OATHBULK_TOKEN", TOKEN)]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    let activated = run.stdout.lines().filter(|l| l.contains(r#""status":"activated""#)).count();
    assert_eq!(activated, 3, "{}", run.stdout);
}

#[test]
fn a_slow_drip_on_a_write_stops_the_run_and_never_calls_the_write_not_attempted() {
    // The inventory answers; every write drips.
    let server = Server::start("127.0.0.1", |head, _| {
        if head.starts_with("GET") {
            let serial = if head.contains("%27S2%27") { "S2" } else { "S1" };
            ok_json(&format!(
                r#"{{"value":[{{"id":"d-{serial}","serialNumber":"{serial}","status":"assigned","assignedTo":{{"id":"u-{serial}","displayName":"A"}}}}]}}"#
            ))
        } else {
            drip()
        }
    });
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("t.csv");
    std::fs::write(
        &csv,
        "upn,serial number,secret key,time interval,manufacturer,model\n\
         a@contoso.com,S1,GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ,30,Acme,C200\n\
         b@contoso.com,S2,GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJR,30,Acme,C200\n",
    )
    .unwrap();
    let journal = dir.path().join("run.jsonl");
    let url = format!("http://127.0.0.1:{}/beta", server.port);
    let started = Instant::now();
    let run = oathbulk(
        &[
            "activate",
            csv.to_str().unwrap(),
            "--graph-url",
            &url,
            "--http-timeout",
            "2",
            "--parallel",
            "1",
            "--journal",
            journal.to_str().unwrap(),
            "--progress",
            "none",
            "--min-validity",
            "1",
        ],
        &[("OATHBULK_TOKEN", TOKEN)],
    );
    let took = started.elapsed();
    assert!(took < Duration::from_secs(8), "ends at the deadline: {took:?}");
    assert_eq!(run.code, 4, "{}", run.stderr);
    let records: Vec<serde_json::Value> = run.stdout.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(records.last().unwrap()["fatal"]["code"], "network");
    let status: std::collections::BTreeMap<String, String> = records
        .iter()
        .filter(|r| r["type"] == "activation")
        .map(|r| (r["serial"].as_str().unwrap().into(), r["status"].as_str().unwrap().into()))
        .collect();
    assert_eq!(status.len(), 2, "every row recorded: {}", run.stdout);
    let sent = server.requests().iter().filter(|h| h.starts_with("POST")).count();
    assert_eq!(sent, 1, "one write sent, never resent blindly: {}\n{}", run.stdout, run.stderr);
    // The row whose write was sent may have landed: failed (unconfirmed), not not_attempted;
    // the other was never sent.
    let unconfirmed: Vec<_> = status.iter().filter(|(_, s)| *s == "failed").collect();
    assert_eq!(unconfirmed.len(), 1, "{status:?}");
    assert_eq!(status.values().filter(|s| *s == "not_attempted").count(), 1, "{status:?}");
    // The journal holds the sent row's intent line and its result, nothing for the other:
    // a resumed run re-reads both (neither is recorded as activated).
    let text = std::fs::read_to_string(&journal).unwrap();
    let serial = unconfirmed[0].0;
    assert!(text.contains(r#""error_code":"in_flight""#) && text.contains(r#""error_code":"unconfirmed""#), "{text}");
    let rows = text.lines().skip(1).filter(|l| !l.contains(r#""type":"summary""#));
    assert!(
        rows.clone().count() >= 2 && rows.clone().all(|l| l.contains(&format!(r#""serial":"{serial}""#))),
        "{text}"
    );
    assert!(!text.contains(r#""status":"activated""#));
}

/// What an echoing import server remembers: every request body, and the tokens it created.
#[derive(Default)]
struct EchoTenant {
    bodies: String,
    created: Vec<serde_json::Value>,
    upload: Option<(String, String)>,
}

/// A server answering each request from `handler(tenant, request line, body, body as JSON)`;
/// every body is kept in `bodies` first.
fn echo_server(handler: impl Fn(&mut EchoTenant, &str, &str, &serde_json::Value) -> Answer + Send + 'static) -> Server {
    let tenant = Mutex::new(EchoTenant::default());
    Server::start("127.0.0.1", move |request, _| {
        let (head, body) = request.split_once("\r\n\r\n").unwrap_or((request, ""));
        let line = head.lines().next().unwrap_or_default();
        let mut t = tenant.lock().unwrap();
        t.bodies.push_str(body);
        handler(&mut t, line, body, &serde_json::from_str(body).unwrap_or_default())
    })
}

/// The two rows of the echo tests: S1 is refused with its seed quoted, S2 created with its
/// seed in the new token's id.
const ECHO_SEEDS: [&str; 2] = ["GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ", "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"];

/// `import --activate` of the two rows against `server`, with a journal and an error log;
/// no seed in stdout, stderr, the journal or the error log, and the echoes were seen.
fn import_against_an_echo(server: &Server, backend_args: &[&str]) {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("t.csv");
    std::fs::write(
        &csv,
        format!(
            "upn,serial number,secret key,time interval,manufacturer,model\n\
             a@contoso.com,S1,{},30,Acme,C200\nb@contoso.com,S2,{},30,Acme,C200\n",
            ECHO_SEEDS[0], ECHO_SEEDS[1]
        ),
    )
    .unwrap();
    let (journal, error_log) = (dir.path().join("run.jsonl"), dir.path().join("errors.log"));
    let mut args = vec!["import", csv.to_str().unwrap(), "--activate", "--progress", "none", "--min-validity", "1"];
    args.extend([
        "--max-wait",
        "1",
        "--journal",
        journal.to_str().unwrap(),
        "--error-log",
        error_log.to_str().unwrap(),
    ]);
    args.extend(backend_args);
    let run = oathbulk(&args, &[("OATHBULK_TOKEN", TOKEN)]);
    let journal = std::fs::read_to_string(&journal).unwrap_or_default();
    let error_log = std::fs::read_to_string(&error_log).unwrap_or_default();
    for seed in ECHO_SEEDS {
        for (name, text) in
            [("stdout", &run.stdout), ("stderr", &run.stderr), ("journal", &journal), ("error log", &error_log)]
        {
            assert!(!text.to_ascii_uppercase().contains(seed), "a seed in the {name}:\n{text}");
        }
    }
    let records: Vec<serde_json::Value> = run.stdout.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let import =
        |serial: &str| records.iter().find(|r| r["type"] == "import" && r["serial"] == serial).unwrap().clone();
    // The echoes reached every place, redacted: the refusal's message, the new token's id,
    // the journal, and the server's body in the error log.
    assert_eq!(import("S1")["status"], "failed", "{}", run.stdout);
    assert!(import("S1")["error_message"].as_str().unwrap().contains("[REDACTED]"), "{}", run.stdout);
    assert_eq!(import("S2")["status"], "created", "{}", run.stdout);
    assert!(journal.contains(r#""status":"created""#) && journal.contains("[REDACTED]"), "{journal}");
    assert!(error_log.contains("serial=S2") && error_log.contains("[REDACTED]"), "{error_log}");
    let activation = records.iter().find(|r| r["type"] == "activation").expect("S2 went on to activation");
    assert_eq!(activation["status"], "failed", "{}", run.stdout);
    assert!(server.requests().iter().any(|r| r.contains(ECHO_SEEDS[1])), "the seeds did reach the server");
}

#[test]
fn seeds_echoed_by_a_graph_import_server_are_never_printed() {
    let server = echo_server(|t, line, body, sent| {
        let error = |status: &str, message: String| {
            json_answer(status, &serde_json::json!({"error": {"code": "BadRequest", "message": message}}))
        };
        if line.starts_with("GET") && line.contains("hardwareOathDevices") {
            // By serial ($filter) or by id: the tokens created so far.
            let found: Vec<_> = t
                .created
                .iter()
                .filter(|d| line.contains(&format!("%27{}%27", d["serialNumber"].as_str().unwrap())))
                .cloned()
                .collect();
            return match t.created.iter().find(|d| line.contains(d["id"].as_str().unwrap())) {
                Some(d) if !line.contains("filter") => json_answer("200 OK", d),
                _ => json_answer("200 OK", &serde_json::json!({ "value": found })),
            };
        }
        // Both bulk verbs (PATCH, and the documented POST of a delta body) refused, echoing
        // the seeds: the client falls back to one POST each.
        let bulk = line.starts_with("PATCH") || sent.get("value").is_some_and(|v| v.is_array());
        if bulk && line.contains("hardwareOathDevices") {
            return error("400 Bad Request", format!("cannot create these: {body}"));
        }
        if line.starts_with("POST") && line.contains("hardwareOathDevices") {
            let seed = sent["secretKey"].as_str().unwrap_or_default().to_string();
            if sent["serialNumber"] == "S1" {
                return error("400 Bad Request", format!("secretKey {seed} is not valid for {body}"));
            }
            let mut device = sent.clone();
            device["id"] = serde_json::json!(format!("dev-{seed}"));
            device["status"] = serde_json::json!("available");
            device["displayName"] = serde_json::json!(seed);
            t.created.push(device.clone());
            return json_answer("201 Created", &device);
        }
        // Activation: unavailable, quoting every body the server was sent.
        error("503 Service Unavailable", format!("busy; you sent {}", t.bodies))
    });
    import_against_an_echo(&server, &["--graph-url", &format!("http://127.0.0.1:{}/beta", server.port)]);
    assert!(server.requests().iter().any(|r| r.starts_with("PATCH")), "the bulk create was tried");
}

#[test]
fn seeds_echoed_by_a_portal_import_server_are_never_printed() {
    let server = echo_server(|t, line, _, sent| {
        if line.starts_with("GET") && line.contains("/users?") {
            let upn = line.split("upn=").nth(1).unwrap_or_default().split(['&', ' ']).next().unwrap_or_default();
            let upn = upn.replace("%40", "@");
            let items: Vec<_> =
                t.created.iter().filter(|d| upn.is_empty() || d["upn"] == upn.as_str()).cloned().collect();
            return json_answer("200 OK", &serde_json::json!({ "items": items }));
        }
        if line.starts_with("POST") && line.contains("/upload") {
            let (name, content) =
                (sent["name"].as_str().unwrap_or_default(), sent["content"].as_str().unwrap_or_default());
            for row in content.lines().skip(1) {
                let cells: Vec<&str> = row.split(',').collect();
                if cells.get(1) == Some(&"S2") {
                    let device = serde_json::json!({"oathId": format!("oath-{}", cells[2]), "serialNumber": "S2",
                        "upn": cells[0], "objectId": "u2", "enabled": false, "displayName": cells[2]});
                    t.created.push(device);
                }
            }
            t.upload = Some((name.to_string(), content.to_string()));
            // The success body quotes what it received.
            return json_answer("200 OK", &serde_json::json!({ "message": format!("received {content}") }));
        }
        if line.starts_with("GET") && line.contains("/listUploads") {
            let (name, content) = t.upload.clone().unwrap_or_default();
            let seed = content.lines().find(|l| l.contains(",S1,")).and_then(|l| l.split(',').nth(2)).unwrap_or("");
            return json_answer(
                "200 OK",
                &serde_json::json!([{ "name": name, "fileProcessingStatus": "Completed", "errors": [
                    { "serialNumber": "S1", "errorCode": "InvalidSecret", "message": format!("bad secret key {seed} in {content}") }
                ]}]),
            );
        }
        // Activation: unavailable, quoting every body the server was sent.
        json_answer(
            "503 Service Unavailable",
            &serde_json::json!({ "errorCode": "ServiceUnavailable", "message": format!("busy; you sent {}", t.bodies) }),
        )
    });
    let url = format!("http://127.0.0.1:{}/portal", server.port);
    import_against_an_echo(&server, &["--backend", "portal", "--portal-url", &url]);
    assert!(server.requests().iter().any(|r| r.contains("/upload")), "the upload was sent");
}
