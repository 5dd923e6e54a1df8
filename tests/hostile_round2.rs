//! Hostile input, second round (issue 27): the real binary against the simulator on
//! 127.0.0.1, with hostile surroundings written here (a proxy on 127.0.0.2 that records
//! what it receives, …). Each test holds one rule of docs/security.md.

mod common;

use common::{csv, Api, Run, Tenant};
use oathbulk::simulate::SimConfig;
use std::io::Read;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// A "proxy" on `ip` that answers nothing and keeps every byte it receives.
struct Recorder {
    url: String,
    received: Arc<Mutex<Vec<u8>>>,
}

impl Recorder {
    fn start(ip: &str) -> Recorder {
        let received = Arc::new(Mutex::new(Vec::new()));
        let log = received.clone();
        let port = common::serve(ip, move |_, mut stream| {
            let log = log.clone();
            std::thread::spawn(move || {
                // Until the client stops sending for a second (it waits for an answer that
                // never comes) or hangs up.
                let _ = stream.set_read_timeout(Some(Duration::from_secs(1)));
                let mut buf = [0u8; 4096];
                while let Ok(n) = stream.read(&mut buf) {
                    if n == 0 {
                        break;
                    }
                    log.lock().unwrap().extend_from_slice(&buf[..n]);
                }
            });
        });
        // With credentials, as a corporate proxy variable often carries them.
        Recorder { url: format!("http://proxyuser:proxy-password-xyz@{ip}:{port}"), received }
    }

    fn received(&self) -> String {
        String::from_utf8_lossy(&self.received.lock().unwrap()).into_owned()
    }
}

/// Every proxy variable reqwest reads, pointing at `proxy`; no exclusions.
fn with_proxy_env<'a>(cmd: &'a mut Command, proxy: &Recorder) -> &'a mut Command {
    for var in ["http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "ALL_PROXY", "all_proxy"] {
        cmd.env(var, &proxy.url);
    }
    cmd.env_remove("NO_PROXY").env_remove("no_proxy").env_remove("REQUEST_METHOD")
}

fn run(t: &Tenant, mut cmd: Command) -> Run {
    let r = Run::from(cmd.output().unwrap());
    t.assert_secret_free(&r);
    assert!(!r.stderr.contains("panicked"), "no panic: {}", r.stderr);
    r
}

#[test]
fn loopback_and_simulated_traffic_never_goes_through_a_proxy() {
    let proxy = Recorder::start("127.0.0.2");
    let t = Tenant::new(
        Api::Graph,
        &csv(6, |i| if i % 2 == 0 { "missing" } else { "available" }),
        SimConfig {
            client_id: Some("app-1".into()),
            client_secret: Some("client-secret-value-xyz".into()),
            ..Default::default()
        },
    );
    let csv_path = t.csv.to_str().unwrap().to_string();

    // `tenant` with the bearer token from the environment.
    let mut cmd = t.bare("tenant", &[]);
    with_proxy_env(&mut cmd, &proxy);
    let r = run(&t, cmd);
    assert_eq!(r.code, 0, "{}", r.stderr);

    // `tenant` signing in with a client secret at a loopback authority.
    let mut cmd =
        t.bare("tenant", &["--tenant", "contoso", "--client-id", "app-1", "--authority-url", &t.sim().authority_url()]);
    cmd.env_remove("OATHBULK_TOKEN").env("OATHBULK_CLIENT_SECRET", "client-secret-value-xyz");
    with_proxy_env(&mut cmd, &proxy);
    let r = run(&t, cmd);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(!r.stdout.contains("client-secret-value-xyz") && !r.stderr.contains("client-secret-value-xyz"));

    // `import`: the seeds are in the request bodies.
    let mut cmd = t.subcommand("import", &[&csv_path]);
    with_proxy_env(&mut cmd, &proxy);
    let r = run(&t, cmd);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.summary()["counts"]["created"], 3, "{}", r.stdout);

    // `activate`.
    let mut cmd = t.command(&[]);
    with_proxy_env(&mut cmd, &proxy);
    let r = run(&t, cmd);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.summary()["counts"]["activated"], 6, "{}", r.stdout);
    assert!(t.state().devices.iter().all(|d| d.status == "activated"));

    // `import --simulate`: the rehearsal's own simulator.
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_oathbulk"));
    cmd.current_dir(t.dir.path())
        .env_remove("OATHBULK_TOKEN")
        .args(["import", &csv_path, "--simulate", "--progress", "none"])
        .stdin(Stdio::null());
    with_proxy_env(&mut cmd, &proxy);
    let r = run(&t, cmd);
    assert_eq!(r.code, 0, "{}", r.stderr);

    // `doctor` says so, and never shows the proxy's password.
    let mut cmd = t.bare("doctor", &[]);
    with_proxy_env(&mut cmd, &proxy);
    let r = run(&t, cmd);
    let check = r.records.iter().find(|x| x["check"] == "proxy").expect("a proxy check");
    let said = check["message"].as_str().unwrap();
    assert!(said.contains("never through a proxy"), "{said}");
    assert!(!r.stdout.contains("proxy-password-xyz") && !r.stderr.contains("proxy-password-xyz"));

    std::thread::sleep(Duration::from_millis(200));
    let got = proxy.received();
    assert!(got.is_empty(), "the proxy received {} bytes: {got:.300}", got.len());
}

#[test]
fn a_proxy_for_real_https_traffic_is_honoured_and_doctor_names_it() {
    // https to a real (unresolvable) host: the client asks the proxy to tunnel (CONNECT);
    // the token travels inside TLS, never in the proxy's view.
    let proxy = Recorder::start("127.0.0.2");
    let token = "eyJ0eXAiOiJKV1QifQ.proxy-test-token.sig";
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_oathbulk"));
    cmd.env("OATHBULK_TOKEN", token)
        .env_remove("OATHBULK_CLIENT_SECRET")
        .args(["tenant", "--graph-url", "https://graph.example.invalid/beta", "--progress", "none"])
        .args(["--http-timeout", "5"])
        .stdin(Stdio::null());
    with_proxy_env(&mut cmd, &proxy);
    let out = cmd.output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_ne!(out.status.code(), Some(0), "the proxy never answers");
    assert!(!stderr.contains(token));
    std::thread::sleep(Duration::from_millis(200));
    let got = proxy.received();
    assert!(got.starts_with("CONNECT graph.example.invalid:443 "), "a tunnel was asked for: {got:.300}");
    assert!(!got.contains(token) && !got.contains("proxy-test-token"), "no token to the proxy");
    // reqwest sent the credentials the variable holds to the proxy itself (what it is for).
    assert!(got.to_ascii_lowercase().contains("proxy-authorization: basic"), "{got:.300}");

    // doctor names the proxy (scheme, host, port) and where it came from; never its password.
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_oathbulk"));
    cmd.env("OATHBULK_TOKEN", token)
        .args(["doctor", "--graph-url", "https://graph.example.invalid/beta", "--progress", "none"])
        .args(["--http-timeout", "5"])
        .stdin(Stdio::null());
    with_proxy_env(&mut cmd, &proxy);
    let out = cmd.output().unwrap();
    let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(!stdout.contains("proxy-password-xyz") && !stderr.contains("proxy-password-xyz"));
    assert!(!stdout.contains("proxyuser") && !stderr.contains("proxyuser"));
    let proxy_host = proxy.url.rsplit('@').next().unwrap();
    let line = stdout.lines().find(|l| l.contains("\"check\":\"proxy\"")).unwrap_or_else(|| panic!("{stdout}{stderr}"));
    assert!(line.contains(&format!("through the proxy http://{proxy_host}")) && line.contains("HTTPS_PROXY"), "{line}");
}

/// `oathbulk ARGS` with `envs`, stdin closed; stdout parsed as records.
fn oathbulk(dir: &std::path::Path, args: &[&str], envs: &[(&str, &str)]) -> Run {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_oathbulk"));
    cmd.current_dir(dir)
        .args(args)
        .env_remove("OATHBULK_TOKEN")
        .env_remove("OATHBULK_CLIENT_SECRET")
        .stdin(Stdio::null());
    for (k, v) in envs {
        cmd.env(k, v);
    }
    let r = Run::from(cmd.output().unwrap());
    assert!(!r.stderr.contains("panicked"), "no panic: {}", r.stderr);
    r
}

/// `text` as the file `name` in `dir`; its path.
fn write_in(dir: &std::path::Path, name: &str, text: impl AsRef<[u8]>) -> String {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path.to_str().unwrap().to_string()
}

/// `oathbulk tenant` signing in as app `app-1` of `contoso` with `secret` at `authority`, its
/// Graph at `authority/graph_path`.
fn tenant_with_secret(authority: &str, graph_path: &str, secret: &str) -> Run {
    let dir = tempfile::tempdir().unwrap();
    let graph = format!("{authority}/{graph_path}");
    let args = ["tenant", "--tenant", "contoso", "--client-id", "app-1", "--authority-url", authority];
    oathbulk(
        dir.path(),
        &[&args[..], &["--graph-url", &graph, "--progress", "none"]].concat(),
        &[("OATHBULK_CLIENT_SECRET", secret)],
    )
}

#[test]
fn a_no_break_or_zero_width_space_in_a_token_never_panics_nor_prints_it() {
    let t = Tenant::new(Api::Graph, &csv(3, |_| "available"), SimConfig::default());
    let graph = t.sim().graph_url();
    let base = ["tenant", "--graph-url", graph.as_str(), "--progress", "none"];
    let (head, tail) = t.token.split_at(t.token.len() / 2);
    let assert_unprinted = |r: &Run, what: &str| {
        for text in [&r.stdout, &r.stderr] {
            assert!(!text.contains(&t.token) && !text.contains(head) && !text.contains(tail), "{what}: {text}");
        }
    };
    // Around the token: separators, as a paste from a web page or a chat carries them.
    for pasted in [
        format!("Bearer\u{a0}{}", t.token),
        format!("Bearer\u{200b}{}", t.token),
        format!("Authorization:\u{a0}Bearer\u{a0}{}\u{200b}", t.token),
        format!("\u{feff}{}\u{a0}", t.token),
    ] {
        let r = oathbulk(t.dir.path(), &base, &[("OATHBULK_TOKEN", &pasted)]);
        assert_eq!(r.code, 0, "{pasted:?}: {}", r.stderr);
        assert_unprinted(&r, "env");
        // The same in a token file.
        let file = t.path("token.txt");
        std::fs::write(&file, &pasted).unwrap();
        let mut args = base.to_vec();
        args.extend(["--token-file", file.to_str().unwrap()]);
        let r = oathbulk(t.dir.path(), &args, &[]);
        assert_eq!(r.code, 0, "{pasted:?}: {}", r.stderr);
        assert_unprinted(&r, "file");
    }
    // Inside the token: refused as a usage error naming the character, never the token.
    for pasted in [format!("{head}\u{200b}{tail}"), format!("Bearer\u{a0}{head}\u{a0}{tail}")] {
        let r = oathbulk(t.dir.path(), &base, &[("OATHBULK_TOKEN", &pasted)]);
        assert_eq!(r.code, 2, "{pasted:?}: {}", r.stderr);
        assert!(r.stderr.contains("U+200B") || r.stderr.contains("spaces"), "{}", r.stderr);
        assert_unprinted(&r, "inside");
    }
    assert_eq!(t.state().counters.unauthorized, 0, "nothing malformed was sent");

    // The simulator's own --token-file reads it the same way.
    let file = t.path("sim-token.txt");
    std::fs::write(&file, format!("Bearer\u{a0}{}\n", t.token)).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_oathbulk"))
        .args(["simulate", "--csv", t.csv.to_str().unwrap(), "--listen", "127.0.0.1:0", "--quiet", "--token-file"])
        .arg(&file)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = std::io::BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    std::io::BufRead::read_line(&mut stdout, &mut line).unwrap();
    let ready: serde_json::Value = serde_json::from_str(&line).unwrap_or_else(|_| panic!("a ready line: {line:?}"));
    let sim_graph = ready["graph_url"].as_str().unwrap().to_string();
    let r = oathbulk(
        t.dir.path(),
        &["tenant", "--graph-url", &sim_graph, "--progress", "none"],
        &[("OATHBULK_TOKEN", &t.token)],
    );
    assert_eq!(r.code, 0, "the simulator expects the token without its prefix: {}", r.stderr);
    drop(child.stdin.take());
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success() && !stderr.contains("panicked") && !stderr.contains(&t.token), "{stderr}");
}

/// A server on 127.0.0.1 that answers every read `200 OK` with `read` and every write with
/// `write` (JSON content type), keeping the request lines it was sent.
fn answering(read: &'static str, write: &'static str) -> (u16, Arc<Mutex<Vec<String>>>) {
    serving("200 OK", read, write)
}

/// [`answering`] with any status line.
fn serving(status: &'static str, read: &'static str, write: &'static str) -> (u16, Arc<Mutex<Vec<String>>>) {
    serving_by_method((status, read), (status, write))
}

#[test]
fn an_empty_or_null_2xx_is_not_an_empty_tenant_nor_a_creation() {
    let dir = tempfile::tempdir().unwrap();
    let csv_path = dir.path().join("tokens.csv");
    std::fs::write(&csv_path, csv(3, |_| "missing")).unwrap();
    let token = [("OATHBULK_TOKEN", "eyJ0eXAiOiJKV1QifQ.empty-answers-token.sig")];
    for body in ["", "{}", "null", "   "] {
        let (port, seen) = answering(body, body);
        let url = format!("http://127.0.0.1:{port}/beta");

        // `tenant`: never an empty tenant with exit 0.
        let r = oathbulk(dir.path(), &["tenant", "--graph-url", &url, "--progress", "none"], &token);
        assert_ne!(r.code, 0, "{body:?}: {}", r.stdout);
        assert!(r.records.iter().all(|x| x["type"] != "tenant_token"), "{body:?}: {}", r.stdout);
        let fatal = r.summary()["fatal"]["message"].as_str().unwrap_or_default().to_string();
        assert!(fatal.contains("value"), "{body:?}: the answer is named: {fatal}");

        // `import`, every answer empty: nothing is read, nothing is `created`.
        let r = oathbulk(
            dir.path(),
            &["import", csv_path.to_str().unwrap(), "--graph-url", &url, "--progress", "none"],
            &token,
        );
        // `import` against a tenant whose reads answer (an empty inventory) and whose
        // creates answer nothing: never a row `created` without its device, in records or
        // in the journal.
        let (wport, wseen) = answering(r#"{"value":[]}"#, body);
        let wurl = format!("http://127.0.0.1:{wport}/beta");
        let journal = dir.path().join(format!("import-{wport}.jsonl"));
        let r2 = oathbulk(
            dir.path(),
            &[
                "import",
                csv_path.to_str().unwrap(),
                "--graph-url",
                &wurl,
                "--progress",
                "none",
                "--journal",
                journal.to_str().unwrap(),
            ],
            &token,
        );
        for run in [&r, &r2] {
            assert_ne!(run.code, 0, "{body:?}: {}", run.stdout);
            for rec in run.records.iter().filter(|x| x["type"] == "import") {
                assert_ne!(rec["status"], "created", "{body:?}: {rec}");
                assert_ne!(rec["status"], "exists", "{body:?}: {rec}");
            }
            assert_eq!(run.summary()["counts"].get("created"), None, "{body:?}: {}", run.stdout);
        }
        assert_eq!(r2.records.iter().filter(|x| x["type"] == "import").count(), 3, "{}", r2.stdout);
        let journaled = std::fs::read_to_string(&journal).unwrap_or_default();
        assert!(!journaled.contains("\"created\""), "{body:?}: journal {journaled}");
        let writes = wseen.lock().unwrap().iter().filter(|l| !l.starts_with("GET ")).count();
        assert!(writes > 0, "the creates were sent: {:?}", wseen.lock().unwrap());
        assert!(!seen.lock().unwrap().is_empty(), "the server was asked");
    }
}

/// Run `args` with stderr a pipe nobody reads (its read end closed before the start: every
/// write to it fails with EPIPE).
fn with_stderr_gone(dir: &std::path::Path, args: &[&str]) -> (Option<i32>, String) {
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let out = Command::new(env!("CARGO_BIN_EXE_oathbulk"))
        .current_dir(dir)
        .args(args)
        .env_remove("OATHBULK_TOKEN")
        .env_remove("OATHBULK_CLIENT_SECRET")
        .stdin(Stdio::null())
        .stderr(Stdio::from(writer))
        .output()
        .unwrap();
    (out.status.code(), String::from_utf8_lossy(&out.stdout).into_owned())
}

#[test]
#[cfg_attr(windows, ignore = "closes stderr with sh -c `2>&-`; Windows has no POSIX shell on every PATH")]
fn a_closed_stderr_loses_its_lines_not_the_run() {
    let dir = tempfile::tempdir().unwrap();
    let csv_path = dir.path().join("tokens.csv");
    std::fs::write(&csv_path, csv(4, |_| "available")).unwrap();
    let path = csv_path.to_str().unwrap();
    let summary = |stdout: &str| -> serde_json::Value {
        serde_json::from_str(stdout.lines().last().unwrap_or_else(|| panic!("a summary: {stdout:?}"))).unwrap()
    };
    // A rehearsal that says what it does on stderr: the run ends as it would, exit 0.
    let (code, stdout) = with_stderr_gone(dir.path(), &["activate", path, "--simulate", "--progress", "none"]);
    assert_eq!(code, Some(0), "{stdout}");
    let s = summary(&stdout);
    assert_eq!((s["type"].as_str(), s["counts"]["activated"].as_u64()), (Some("summary"), Some(4)), "{stdout}");
    // Rows with errors (warned about on stderr): exit 1, the summary still last.
    let bad = dir.path().join("bad.csv");
    std::fs::write(&bad, format!("{}x@contoso.com,,GEZDGNBVGY3TQOJQ\n", csv(2, |_| "available"))).unwrap();
    let (code, stdout) =
        with_stderr_gone(dir.path(), &["activate", bad.to_str().unwrap(), "--simulate", "--progress", "none"]);
    assert_eq!(code, Some(1), "{stdout}");
    assert_eq!(summary(&stdout)["type"], "summary");
    // A stop before the run (no credentials): its usage exit and summary, not a bare 101.
    let (code, stdout) = with_stderr_gone(dir.path(), &["tenant", "--progress", "none"]);
    assert_eq!(code, Some(2), "{stdout}");
    assert_eq!(summary(&stdout)["fatal"]["code"], "usage", "{stdout}");
    // And with stderr closed outright (`2>&-`).
    let out = Command::new("sh")
        .current_dir(dir.path())
        .args([
            "-c",
            "exec \"$0\" activate \"$1\" --simulate --progress none 2>&-",
            env!("CARGO_BIN_EXE_oathbulk"),
            path,
        ])
        .env_remove("OATHBULK_TOKEN")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(summary(&String::from_utf8_lossy(&out.stdout))["counts"]["activated"], 4);
}

#[test]
fn a_user_like_column_is_refused_whatever_its_cells_hold() {
    // SN00000 is the CEO's (user0), activated.
    let t = Tenant::new(Api::Graph, &csv(3, |_| "activated"), SimConfig::default());
    let before = t.state();
    let ceo = before.device("SN00000").unwrap().clone();
    assert_eq!(ceo.status, "activated");
    let spare = t.path("spares.csv");
    std::fs::write(&spare, "serial number,Assigned To\nSN00000,(spare)\n").unwrap();
    let mixed = t.path("mixed.csv");
    // One user name under an unknown column, past the lines judged at open.
    let mut text = String::from("serial number,Note\n");
    for i in 0..40 {
        text.push_str(&format!("NOPE{i},lost\n"));
    }
    text.push_str("SN00000,user0@contoso.com\n");
    std::fs::write(&mixed, text).unwrap();
    for file in [&spare, &mixed] {
        for op in ["remove", "deactivate", "unassign"] {
            let r = Run::from(t.subcommand(op, &[file.to_str().unwrap()]).output().unwrap());
            t.assert_secret_free(&r);
            assert_eq!(r.code, 2, "{op} {}: {}", file.display(), r.stderr);
            assert!(r.stderr.contains("--any-holder"), "the fix is named: {}", r.stderr);
            assert!(r.records.iter().all(|x| x["type"] != "change"), "{}", r.stdout);
        }
    }
    let after = t.state();
    let still = after.device("SN00000").expect("the CEO's token is still there");
    assert_eq!((still.status.as_str(), &still.assigned_upn), ("activated", &ceo.assigned_upn));
    assert_eq!(after.counters.writes, before.counters.writes, "no write was sent");

    // Named explicitly, by serial alone: done as asked.
    let r = Run::from(t.subcommand("deactivate", &[spare.to_str().unwrap(), "--any-holder"]).output().unwrap());
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_ne!(t.state().device("SN00000").unwrap().status, "activated");
}

#[test]
fn a_secret_with_a_quote_or_backslash_is_redacted_on_stdout_too() {
    // A token endpoint that quotes the client secret back in its refusal.
    const SECRET: &str = r#"cl1ent"s3cret\with~quote"#;
    const ANSWER: &str =
        r#"{"error":"invalid_client","error_description":"AADSTS7000215: bad secret cl1ent\"s3cret\\with~quote"}"#;
    let (port, seen) = serving("401 Unauthorized", ANSWER, ANSWER);
    let r = tenant_with_secret(&format!("http://127.0.0.1:{port}"), "beta", SECRET);
    assert_eq!(r.code, 3, "{}", r.stderr);
    assert!(!seen.lock().unwrap().is_empty(), "the endpoint was asked");
    let escaped = serde_json::to_string(SECRET).unwrap();
    let escaped = &escaped[1..escaped.len() - 1];
    for (what, text) in [("stdout", &r.stdout), ("stderr", &r.stderr)] {
        assert!(!text.contains(SECRET) && !text.contains(escaped), "{what}: {text}");
    }
    assert!(r.summary()["fatal"]["message"].as_str().unwrap().contains("[REDACTED]"), "{}", r.stdout);
}

#[test]
#[cfg_attr(
    windows,
    ignore = "closes the pipe with a POSIX shell's `| head -1` (bash -c); Windows has no such shell on every PATH"
)]
fn a_reader_that_goes_away_ends_every_command_with_exit_0() {
    // `oathbulk … | head -1`: the shell's pipeline, its exit status that of oathbulk.
    let dir = tempfile::tempdir().unwrap();
    let csv_path = dir.path().join("tokens.csv");
    std::fs::write(&csv_path, csv(300, |_| "available")).unwrap();
    let bin = env!("CARGO_BIN_EXE_oathbulk");
    for sub in ["list", "activate", "import"] {
        let script = format!(
            "\"$0\" {sub} \"$1\" {} | head -1 >/dev/null; echo \"status=${{PIPESTATUS[0]:-?}}\"",
            if sub == "list" { "" } else { "--simulate --progress none" }
        );
        let out = Command::new("bash")
            .current_dir(dir.path())
            .args(["-c", &script, bin, csv_path.to_str().unwrap()])
            .env_remove("OATHBULK_TOKEN")
            .stdin(Stdio::null())
            .output()
            .unwrap();
        let said = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(said.contains("status=0"), "{sub} | head -1: {said} {stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
    }
}

#[test]
fn reveal_secrets_is_a_usage_error_where_it_would_do_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let csv_path = dir.path().join("tokens.csv");
    std::fs::write(&csv_path, csv(2, |_| "available")).unwrap();
    let path = csv_path.to_str().unwrap();
    for args in [
        vec!["activate", path, "--simulate", "--reveal-secrets"],
        vec!["import", path, "--simulate", "--reveal-secrets"],
        vec!["check", path, "--reveal-secrets"],
        vec!["users", path, "--reveal-secrets"],
    ] {
        let out = Command::new(env!("CARGO_BIN_EXE_oathbulk"))
            .current_dir(dir.path())
            .args(&args)
            .stdin(Stdio::null())
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stdout}");
        assert!(String::from_utf8_lossy(&out.stderr).contains("--reveal-secrets"));
        assert!(!stdout.contains(&common::seed_for(0)), "{args:?}");
    }
    // Where it does something, it is taken.
    let r = oathbulk(dir.path(), &["list", path, "--reveal-secrets"], &[]);
    assert_eq!(r.code, 0);
    assert!(r.stdout.contains(&common::seed_for(0)));
}

#[test]
fn a_base_url_with_userinfo_is_refused_before_anything_is_sent() {
    // `http://graph.microsoft.com@127.0.0.2:PORT/`: the host after `@` is where it would go.
    let dir = tempfile::tempdir().unwrap();
    let proxy = Recorder::start("127.0.0.2");
    let host = proxy.url.rsplit('@').next().unwrap().to_string();
    for flag in ["--graph-url", "--authority-url"] {
        let url = format!("http://graph.microsoft.com@{host}/beta");
        let mut args = vec!["tenant", flag, url.as_str(), "--progress", "none"];
        if flag == "--authority-url" {
            args.extend(["--tenant", "contoso", "--client-id", "app-1"]);
        }
        let r = oathbulk(
            dir.path(),
            &args,
            &[
                ("OATHBULK_TOKEN", "eyJ0eXAiOiJKV1QifQ.userinfo-token.sig"),
                ("OATHBULK_CLIENT_SECRET", "s3cret-xyz-123"),
            ],
        );
        assert_eq!(r.code, 2, "{flag}: {}", r.stderr);
        assert!(r.stderr.contains("before '@'"), "{}", r.stderr);
    }
    std::thread::sleep(Duration::from_millis(200));
    assert!(proxy.received().is_empty(), "nothing was sent to the host after '@'");
}

fn activated(t: &Tenant) -> usize {
    t.state().devices.iter().filter(|d| d.status == "activated").count()
}

/// Issue 27 item 5: the README's rehearsal journal, then the real run with `--resume`,
/// skipped every row. A journal names its run's backend, origin, tenant and rehearsal-or-not;
/// `--resume` refuses another's (exit 2, the difference named) before any write.
#[test]
fn resume_refuses_a_journal_from_a_rehearsal_or_another_origin() {
    let t = Tenant::new(Api::Graph, &csv(6, |_| "assigned"), SimConfig::default());
    let csv_path = t.csv.to_str().unwrap().to_string();
    // The rehearsal: an in-process simulated tenant, every row "activated" there.
    let rehearsal = oathbulk(
        t.dir.path(),
        &["activate", &csv_path, "--simulate", "--journal", "run.jsonl", "--progress", "none"],
        &[],
    );
    assert_eq!(rehearsal.code, 0, "{}", rehearsal.stderr);
    let header: serde_json::Value =
        serde_json::from_str(std::fs::read_to_string(t.path("run.jsonl")).unwrap().lines().next().unwrap()).unwrap();
    assert_eq!(header["simulated"], true, "{header}");
    assert!(header["origin"].as_str().unwrap().starts_with("http://127.0.0.1:"), "{header}");

    // The real run resumes it: refused, nothing written, the tenant untouched.
    let writes = t.state().counters.writes;
    let r = t.run(&["--journal", "run.jsonl", "--resume"]);
    assert_eq!(r.code, 2, "{}\n{}", r.stdout, r.stderr);
    assert!(r.stdout.contains("cannot be resumed") && r.stdout.contains("rehearsal"), "{}", r.stdout);
    assert_eq!(t.state().counters.writes, writes);
    assert_eq!(activated(&t), 0);
    // `import --resume` likewise.
    let imp = oathbulk(
        t.dir.path(),
        &["import", &csv_path, "--simulate", "--journal", "import.jsonl", "--progress", "none"],
        &[],
    );
    assert_eq!(imp.code, 0, "{}", imp.stderr);
    let r = run(&t, t.bare("import", &[&csv_path, "--journal", "import.jsonl", "--resume"]));
    assert_eq!(r.code, 2, "{}\n{}", r.stdout, r.stderr);
    assert!(r.stdout.contains("cannot be resumed"), "{}", r.stdout);
    assert_eq!(t.state().counters.writes, writes);

    // A real run's journal, resumed against another tenant (another origin): refused too.
    let first = t.run(&["--journal", "real.jsonl"]);
    assert_eq!(first.code, 0, "{}", first.stderr);
    assert_eq!(activated(&t), 6);
    let other = Tenant::new(Api::Graph, &csv(6, |_| "assigned"), SimConfig::default());
    let journal = t.path("real.jsonl");
    let r = other.run(&["--journal", journal.to_str().unwrap(), "--resume"]);
    assert_eq!(r.code, 2, "{}\n{}", r.stdout, r.stderr);
    assert!(r.stdout.contains("origin"), "the difference is named: {}", r.stdout);
    assert_eq!(activated(&other), 0);
    // Appending to it without --resume is refused as well: one journal, one tenant.
    let r = other.run(&["--journal", journal.to_str().unwrap()]);
    assert_eq!(r.code, 2, "{}\n{}", r.stdout, r.stderr);
    assert!(r.stdout.contains("belongs to another run"), "{}", r.stdout);
}

/// Issue 27 item 5: a journal records the token's tenant (`tid`); one from another tenant
/// is refused by `--resume`.
#[test]
fn resume_refuses_a_journal_from_another_tenant_id() {
    let claims = serde_json::json!({"tid": "11111111-aaaa-4aaa-8aaa-111111111111",
        "aud": "https://graph.microsoft.com", "exp": common::now() + 3600});
    let t = Tenant::with_token(Api::Graph, &csv(3, |_| "assigned"), &common::jwt(claims), SimConfig::default());
    let first = t.run(&["--journal", "run.jsonl"]);
    assert_eq!(first.code, 0, "{}", first.stderr);
    let text = std::fs::read_to_string(t.path("run.jsonl")).unwrap();
    assert!(text.lines().next().unwrap().contains("\"tenant\":\"11111111-aaaa-4aaa-8aaa-111111111111\""), "{text}");
    // The same file as if written in another tenant.
    std::fs::write(t.path("run.jsonl"), text.replace("11111111-aaaa", "22222222-bbbb")).unwrap();
    let r = t.run(&["--journal", "run.jsonl", "--resume"]);
    assert_eq!(r.code, 2, "{}\n{}", r.stdout, r.stderr);
    assert!(r.stdout.contains("tenant 22222222-bbbb-4aaa-8aaa-111111111111 there"), "{}", r.stdout);
}

/// Issue 27 item 5: `--resume` skips a journaled row only where the tenant agrees; a token
/// the journal says was activated but is not active now (deactivated since) is activated.
#[test]
fn resume_activates_a_journaled_row_the_tenant_shows_not_active() {
    let t = Tenant::new(Api::Graph, &csv(6, |_| "assigned"), SimConfig::default());
    let first = t.run(&["--journal", "run.jsonl"]);
    assert_eq!(first.code, 0, "{}", first.stderr);
    assert_eq!(activated(&t), 6);
    let off = run(&t, t.bare("deactivate", &["--serial", "SN00001"]));
    assert_eq!(off.code, 0, "{}\n{}", off.stdout, off.stderr);
    assert_eq!(activated(&t), 5);
    let r = t.run(&["--journal", "run.jsonl", "--resume"]);
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    assert_eq!(r.status_of("SN00001"), "activated", "{}", r.stdout);
    for s in ["SN00000", "SN00002", "SN00005"] {
        assert_eq!(r.status_of(s), "skipped", "{}", r.stdout);
    }
    assert_eq!(activated(&t), 6);
}

/// Issue 27 item 3: the row's own seed written a second time in another encoding (spaced or
/// colon hex, Base64 as PSKC writes it, dotted or underscored Base32), or under a column
/// named as a secret, is a secret: `list` prints none of it and scripts do not see it.
#[test]
fn a_seed_in_another_encoding_or_a_secret_named_column_is_never_printed() {
    use base64::Engine as _;
    let n = 1000;
    let mut text = String::from("upn,serial number,secret key,Notes,Alt,Fingerprint,PSKC,Dotted,Under,Seed (hex)\n");
    let mut encodings = Vec::new();
    for i in 0..n {
        let b32 = common::seed_for(i);
        let bytes = data_encoding::BASE32_NOPAD.decode(b32.as_bytes()).unwrap();
        let hex: Vec<String> = bytes.iter().map(|b| format!("{b:02x}")).collect();
        let spaced = hex.join(" ");
        let colon = hex.join(":").to_uppercase();
        let b64 = base64::engine::general_purpose::STANDARD.encode(&bytes);
        let groups: Vec<String> = b32.as_bytes().chunks(4).map(|c| String::from_utf8_lossy(c).into_owned()).collect();
        let dotted = groups.join(".");
        let under = groups.join("_").to_lowercase();
        let plain_hex = hex.concat();
        text.push_str(&format!(
            "user{}@contoso.com,SN{i:05},{b32},note {i},{spaced},{colon},{b64},{dotted},{under},{plain_hex}\n",
            i / 3
        ));
        encodings.push(vec![b32, spaced, colon, b64, dotted, under, plain_hex]);
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tokens.csv");
    std::fs::write(&path, &text).unwrap();
    let p = path.to_str().unwrap();
    // The search below finds what it looks for: a planted form, at the end of a text.
    let planted = format!("x {}", encodings[n - 1][6]);
    assert_eq!(first_occurrence(&planted, &encodings), Some((n - 1, encodings[n - 1][6].as_str())));
    assert_eq!(first_occurrence(&planted[..planted.len() - 1], &encodings), None);
    for extra in [&[][..], &["--format", "table"][..], &["--where", "row.extra.len() == 1"][..]] {
        let mut args = vec!["list", p];
        args.extend_from_slice(extra);
        let out = Command::new(env!("CARGO_BIN_EXE_oathbulk")).args(&args).stdin(Stdio::null()).output().unwrap();
        let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
        assert_eq!(out.status.code(), Some(0), "{args:?}: {stderr}");
        // Every row is listed (none refused, none filtered: a script sees `Notes` alone).
        assert_eq!(stdout.matches("SN0").count(), n, "{args:?}: {}", &stdout[..stdout.len().min(2000)]);
        if !extra.contains(&"table") {
            assert!(stdout.contains("\"extra\":{\"Notes\":\"note 999\"}"), "a benign extra column stays, alone");
        }
        // Every form of every row's seed, searched for anywhere in either stream: one pass
        // over each (7,000 `contains` over 300 kB took most of this test's time).
        if let Some((i, form)) = first_occurrence(&stdout, &encodings) {
            panic!("{args:?}: row {i}'s seed printed as {form}");
        }
        if let Some((i, form)) = first_occurrence(&stderr, &encodings) {
            panic!("{args:?}: row {i}'s seed on stderr as {form}");
        }
    }
}

/// The first of `forms` (by row) that occurs anywhere in `text`, as `str::contains` would find
/// it: every position of `text` is looked up by its first 8 bytes (each form is longer), and
/// only the forms starting with those bytes are compared whole.
fn first_occurrence<'a>(text: &str, forms: &'a [Vec<String>]) -> Option<(usize, &'a str)> {
    let mut by_prefix: std::collections::HashMap<&[u8], Vec<(usize, &str)>> = std::collections::HashMap::new();
    for (i, row) in forms.iter().enumerate() {
        for form in row {
            assert!(form.len() >= 8, "{form}");
            by_prefix.entry(&form.as_bytes()[..8]).or_default().push((i, form));
        }
    }
    let bytes = text.as_bytes();
    let mut found: Option<(usize, &str)> = None;
    for start in 0..bytes.len().saturating_sub(7) {
        for &(i, form) in by_prefix.get(&bytes[start..start + 8]).into_iter().flatten() {
            if bytes[start..].starts_with(form.as_bytes()) && found.is_none_or(|(j, _)| i < j) {
                found = Some((i, form));
            }
        }
    }
    found
}

/// Issue 27 item 7: an undo's progress is keyed by the run-journal line it reverted, so a
/// second `undo` of a journal a later run appended to reverts what that run re-activated.
#[test]
fn a_second_undo_reverts_what_a_later_run_reactivated() {
    let t = Tenant::new(Api::Graph, &csv(3, |_| "assigned"), SimConfig::default());
    let undo = |t: &Tenant| {
        let r = run(t, t.bare("undo", &["--journal", "run.jsonl"]));
        assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
        r
    };
    assert_eq!(t.run(&["--journal", "run.jsonl"]).code, 0);
    assert_eq!(activated(&t), 3);
    undo(&t);
    assert_eq!(activated(&t), 0, "the first undo deactivated the run's tokens");
    // A later run, same journal, activates them again.
    let again = t.run(&["--journal", "run.jsonl"]);
    assert_eq!(again.code, 0, "{}", again.stderr);
    assert_eq!(activated(&t), 3);
    let second = undo(&t);
    assert_eq!(activated(&t), 0, "the second undo reverted the later run too: {}", second.stdout);
    // And a third undo finds nothing left to do: its progress holds.
    let writes = t.state().counters.writes;
    undo(&t);
    assert_eq!(t.state().counters.writes, writes);
}

#[cfg(unix)]
fn chmod(path: &std::path::Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

/// Issue 27 item 8: a hand-written journal line without a `device_id` made `undo` act on a
/// token no run touched. Every line a run writes for a change names its device: one that
/// does not is refused (`no_device_id`), the token left as it is.
#[cfg(unix)]
#[test]
fn undo_never_acts_on_a_journal_line_without_a_device_id() {
    // SN00002 is active in the tenant before any run: no run touched it.
    let t = Tenant::new(Api::Graph, &csv(3, |i| if i == 2 { "activated" } else { "assigned" }), SimConfig::default());
    assert_eq!(activated(&t), 1);
    let first = t.run(&["--journal", "run.jsonl"]);
    assert_eq!(first.code, 0, "{}", first.stderr);
    assert_eq!(activated(&t), 3);
    // The forgery: SN00000's line, rewritten for SN00002 without its device id.
    let path = t.path("run.jsonl");
    let text = std::fs::read_to_string(&path).unwrap();
    let mut forged: serde_json::Value = text
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .find(|r| r["serial"] == "SN00000" && r["status"] == "activated")
        .unwrap();
    forged["serial"] = "SN00002".into();
    forged["line"] = 4.into();
    forged.as_object_mut().unwrap().remove("device_id");
    std::fs::write(&path, format!("{text}{forged}\n")).unwrap();
    chmod(&path, 0o600);
    let r = run(&t, t.bare("undo", &["--journal", "run.jsonl"]));
    let refused: Vec<_> = r.records.iter().filter(|x| x["serial"] == "SN00002").collect();
    assert!(
        !refused.is_empty() && refused.iter().all(|x| x["status"] == "refused" && x["error_code"] == "no_device_id"),
        "{}",
        r.stdout
    );
    let sn2 = t.state().devices.into_iter().find(|d| d.serial_number == "SN00002").unwrap();
    assert_eq!(sn2.status, "activated", "the token no run touched stays active");
    assert_eq!(activated(&t), 1, "the run's own tokens were undone: {}", r.stdout);
}

/// Issue 27 item 8: a journal other users may write is refused (like ssh's key files) by
/// `--resume`, `undo` and an appending run, before anything is sent.
#[cfg(unix)]
#[test]
fn a_journal_writable_by_other_users_is_refused() {
    let t = Tenant::new(Api::Graph, &csv(3, |_| "assigned"), SimConfig::default());
    assert_eq!(t.run(&["--journal", "run.jsonl"]).code, 0);
    let path = t.path("run.jsonl");
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode & 0o022, 0, "a new journal is not writable by others ({mode:o})");
    }
    for mode in [0o664, 0o646] {
        chmod(&path, mode);
        let requests = t.state().counters.requests;
        for r in [t.run(&["--journal", "run.jsonl", "--resume"]), run(&t, t.bare("undo", &["--journal", "run.jsonl"]))]
        {
            assert_eq!(r.code, 2, "{}\n{}", r.stdout, r.stderr);
            assert!(r.stdout.contains("writable by other users"), "{}", r.stdout);
        }
        assert_eq!(t.state().counters.requests, requests, "nothing sent");
        assert_eq!(activated(&t), 3);
    }
}

/// Issue 27 item 8: a FIFO as `--journal` lost every line (exit 0) and blocked `undo` in
/// `open()`. Anything but a regular file is refused before anything is sent, at once.
#[cfg(unix)]
#[test]
fn a_journal_that_is_not_a_regular_file_is_refused_and_never_blocks() {
    let t = Tenant::new(Api::Graph, &csv(3, |_| "assigned"), SimConfig::default());
    let fifo = t.path("run.fifo"); // not .jsonl: the harness reads every .jsonl the run wrote
    assert!(Command::new("mkfifo").arg(&fifo).status().unwrap().success());
    let requests = t.state().counters.requests;
    let r = t.run(&["--journal", "run.fifo"]);
    assert_eq!(r.code, 2, "{}\n{}", r.stdout, r.stderr);
    assert!(r.stdout.contains("not a regular file"), "{}", r.stdout);
    assert_eq!(t.state().counters.requests, requests, "nothing sent");
    assert_eq!(activated(&t), 0);
    for args in [&["--journal", "run.fifo"][..], &["--journal", "run.fifo", "--dry-run"][..]] {
        let mut child = t.bare("undo", args).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
        let started = std::time::Instant::now();
        let status = loop {
            if let Some(s) = child.try_wait().unwrap() {
                break s;
            }
            if started.elapsed() > Duration::from_secs(20) {
                child.kill().unwrap();
                panic!("undo blocked opening a FIFO");
            }
            std::thread::sleep(Duration::from_millis(50));
        };
        let mut stdout = String::new();
        child.stdout.take().unwrap().read_to_string(&mut stdout).unwrap();
        assert_eq!(status.code(), Some(2), "{stdout}");
        assert!(stdout.contains("not a regular file"), "{stdout}");
    }
}

/// A server on 127.0.0.1 that answers each request with what `answer(request line, n)`
/// writes (the whole HTTP answer; `n` counts requests from 0), one connection at a time.
fn raw_server(answer: impl Fn(&str, usize, &mut std::net::TcpStream) + Send + 'static) -> u16 {
    common::serve("127.0.0.1", move |n, mut stream| {
        let head = common::read_request(&mut stream);
        answer(head.lines().next().unwrap_or_default(), n, &mut stream);
    })
}

/// Issue 27 item 9: an identity-platform answer is read like a Graph answer, at most 16 MB
/// (a streamed 64 MB token answer was read whole, and its "token" used).
#[test]
fn identity_platform_answers_are_capped_like_graph_answers() {
    use std::io::Write;
    let port = raw_server(|_, _, stream| {
        // No Content-Length: streamed until the connection closes.
        let _ = stream.write_all(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n");
        let _ = stream.write_all(b"{\"token_type\":\"Bearer\",\"expires_in\":3600,\"access_token\":\"");
        let chunk = vec![b'a'; 1 << 20];
        for _ in 0..64 {
            if stream.write_all(&chunk).is_err() {
                return;
            }
        }
        let _ = stream.write_all(b"\"}");
    });
    let r = tenant_with_secret(&format!("http://127.0.0.1:{port}"), "graph/beta", "client-secret-value-xyz");
    assert_ne!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    assert!(format!("{}{}", r.stdout, r.stderr).contains("larger than 16 MB"), "{}\n{}", r.stdout, r.stderr);
}

/// Issue 27 item 9: a same-origin `@odata.nextLink` chain is bounded in bytes (and pages):
/// 100 pages of 4 MB stop at 256 MB with `collection_too_large`, not 400 MB later.
#[test]
fn a_nextlink_chain_is_bounded_in_memory() {
    use std::io::Write;
    let served = Arc::new(Mutex::new(0usize));
    let count = served.clone();
    let port = Arc::new(Mutex::new(0u16));
    let own = port.clone();
    let p = raw_server(move |_, n, stream| {
        *count.lock().unwrap() += 1;
        let port = *own.lock().unwrap();
        let next = if n < 100 {
            format!(",\"@odata.nextLink\":\"http://127.0.0.1:{port}/next?page={n}\"")
        } else {
            String::new()
        };
        let body = format!("{{\"value\":[],\"pad\":\"{}\"{next}}}", " ".repeat(4 << 20));
        let _ = stream.write_all(
            format!(
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            )
            .as_bytes(),
        );
    });
    *port.lock().unwrap() = p;
    let dir = tempfile::tempdir().unwrap();
    let graph = format!("http://127.0.0.1:{p}/graph/beta");
    let r =
        oathbulk(dir.path(), &["tenant", "--graph-url", &graph], &[("OATHBULK_TOKEN", "eyJ0eXAiOiJKV1QifQ.e30.sig")]);
    assert_eq!(r.code, 4, "{}\n{}", r.stdout, r.stderr);
    assert!(r.stdout.contains("collection_too_large") || r.stdout.contains("larger than 256 MB"), "{}", r.stdout);
    let pages = *served.lock().unwrap();
    assert!(pages <= 66, "stopped at the bound, not at the chain's end: {pages} pages");
}

/// Issue 27 item 9: `s.replace("", r)` is refused before it builds len(s) × len(r) bytes
/// (3 GB for two 40k strings): a `script_limit` row error, the process small.
#[cfg(target_os = "linux")]
#[test]
fn a_script_replace_cannot_blow_up_memory() {
    let dir = tempfile::tempdir().unwrap();
    let blow =
        "fn key(row) { let s = \"\"; s.pad(40000, 'a'); let r = \"\"; r.pad(40000, 'b'); s.replace(\"\", r); s }";
    let script = write_in(dir.path(), "blow.rhai", blow);
    let csv_path = write_in(dir.path(), "t.csv", csv(2, |_| "assigned"));
    #[allow(clippy::zombie_processes)] // reaped by wait4 below, which also gives its peak memory
    let mut child = Command::new(env!("CARGO_BIN_EXE_oathbulk"))
        .args(["list", &csv_path, "--script", &script])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let mut status = 0;
    // SAFETY: a zeroed rusage is valid; wait4 fills it for our own child.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let mut out = String::new();
    stdout.read_to_string(&mut out).unwrap();
    let waited = unsafe { libc::wait4(child.id() as i32, &mut status, 0, &mut usage) };
    assert_eq!(waited, child.id() as i32);
    assert!(out.contains("script_limit"), "{out}");
    let max_rss_mb = usage.ru_maxrss / 1024;
    assert!(max_rss_mb < 300, "peak memory {max_rss_mb} MB");
}

/// Issue 27 item 10: `--error-log` is opened as the journal is: a symbolic link is refused
/// (never followed), and nothing is written through it.
#[cfg(unix)]
#[test]
fn the_error_log_refuses_a_symlink() {
    let r = common::run_with_symlink("errors.log", &["--error-log", "errors.log"]);
    assert!(r.stdout.contains("symbolic link"), "{}", r.stdout);
}

/// Issue 27 item 10: a server's escape sequences, line breaks and bidi characters reach
/// the error log escaped: no terminal control, no forged entry.
#[test]
fn the_error_log_escapes_what_a_server_sends() {
    // An import: nothing in the tenant, every create refused with the server's text.
    let read = r#"{"value":[]}"#;
    let write =
        r#"{"error":{"code":"BadRequest","message":"bad \u001b[2J\u001b]0;pwned\u0007\nFORGED\tentry \u202egnp.exe"}}"#;
    let (port, _) = serving_split(read, write);
    let dir = tempfile::tempdir().unwrap();
    let csv_path = dir.path().join("tokens.csv");
    std::fs::write(&csv_path, csv(1, |_| "assigned")).unwrap();
    let url = format!("http://127.0.0.1:{port}/graph/beta");
    let r = oathbulk(
        dir.path(),
        &["import", csv_path.to_str().unwrap(), "--graph-url", &url, "--error-log", "errors.log", "--progress", "none"],
        &[("OATHBULK_TOKEN", "eyJ0eXAiOiJKV1QifQ.e30.sig")],
    );
    let log = std::fs::read_to_string(dir.path().join("errors.log")).unwrap_or_default();
    assert!(log.contains("FORGED"), "the failure was logged: {}\n{}\n{log}", r.stdout, r.stderr);
    assert!(!log.contains('\u{1b}') && !log.contains('\u{7}') && !log.contains('\u{202e}'), "{log:?}");
    assert!(log.lines().all(|l| !l.starts_with("FORGED")), "no forged entry: {log:?}");
    assert!(log.contains("\\x1b"), "{log:?}");
}

/// [`serving`], but reads `200 OK` with `read` and writes `400` with `write`.
fn serving_split(read: &'static str, write: &'static str) -> (u16, Arc<Mutex<Vec<String>>>) {
    serving_by_method(("200 OK", read), ("400 Bad Request", write))
}

/// A server on 127.0.0.1 that answers a read (GET) with `read`'s status line and JSON body,
/// any other request with `write`'s, keeping the request lines it was sent.
fn serving_by_method(
    read: (&'static str, &'static str),
    write: (&'static str, &'static str),
) -> (u16, Arc<Mutex<Vec<String>>>) {
    use std::io::Write;
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    let port = raw_server(move |line, _, stream| {
        log.lock().unwrap().push(line.to_string());
        let (status, body) = if line.starts_with("GET ") { read } else { write };
        let _ = stream.write_all(
            format!(
                "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            )
            .as_bytes(),
        );
    });
    (port, seen)
}

/// Issue 27 item 10: a script's `print`/`debug` write CSV cells escaped to stderr.
#[test]
fn script_print_and_debug_are_escaped() {
    let dir = tempfile::tempdir().unwrap();
    let notes = "\"x\u{1b}[2J\u{1b}]0;pwned\u{7}\nscript: forged \u{202e}txt\"";
    let text = format!("upn,serial number,secret key,Notes\nuser0@contoso.com,SN1,{},{notes}\n", common::seed_for(0));
    let csv_path = write_in(dir.path(), "t.csv", text);
    let print = "fn key(row) { print(row.extra[\"Notes\"]); debug(row.extra[\"Notes\"]); row.serial }";
    let script = write_in(dir.path(), "p.rhai", print);
    let r = oathbulk(dir.path(), &["list", &csv_path, "--script", &script], &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stderr.contains("pwned"), "printed: {}", r.stderr);
    assert!(
        !r.stderr.contains('\u{1b}') && !r.stderr.contains('\u{7}') && !r.stderr.contains('\u{202e}'),
        "{:?}",
        r.stderr
    );
    assert!(r.stderr.lines().all(|l| !l.starts_with("script: forged")), "{:?}", r.stderr);
}

/// Issue 27 item 10: bidi (U+202E) and zero-width (U+200B, U+FEFF) characters in a UPN are
/// a row error in `check`, `list` and `users`, never passed on raw: one person is not two.
#[test]
fn a_upn_with_bidi_or_zero_width_characters_is_a_row_error() {
    let dir = tempfile::tempdir().unwrap();
    let csv_path = dir.path().join("t.csv");
    let upns =
        ["alice@contoso.com", "al\u{200b}ice@contoso.com", "\u{202e}moc.osotnoc@ecila", "alice\u{feff}@contoso.com"];
    let mut text = String::from("upn,serial number,secret key\n");
    for (i, u) in upns.iter().enumerate() {
        text.push_str(&format!("{u},SN{i},{}\n", common::seed_for(i)));
    }
    std::fs::write(&csv_path, text).unwrap();
    for cmd in ["check", "list", "users"] {
        let r = oathbulk(dir.path(), &[cmd, csv_path.to_str().unwrap()], &[]);
        let errors: Vec<_> = r.records.iter().filter(|x| x["type"] == "row_error").collect();
        assert_eq!(errors.len(), 3, "{cmd}: {}", r.stdout);
        assert!(errors.iter().all(|e| e["code"] == "invalid_upn"), "{cmd}: {}", r.stdout);
        for c in ['\u{200b}', '\u{202e}', '\u{feff}'] {
            assert!(!r.stdout.contains(c) && !r.stderr.contains(c), "{cmd}: {c:?} passed raw: {}", r.stdout);
        }
    }
}

/// Named where the tests above that need unix cannot build, so each skip is counted and says why.
#[cfg(not(unix))]
#[test]
#[ignore = "unix only: a hand-written journal made private with a mode; journals and error logs as FIFOs (mkfifo) and symlinks"]
fn unix_only_hostile_files() {}

#[cfg(not(target_os = "linux"))]
#[test]
#[ignore = "Linux only: the script's peak memory is read with wait4's rusage in the units Linux reports"]
fn linux_only_script_memory_bound() {}
