//! Shared harness for the end-to-end suites: an in-process simulated tenant on 127.0.0.1,
//! the real binary pointed at it, and parsed records.
#![allow(dead_code)]

pub mod certs;
pub mod schema;

use oathbulk::inventory::{SecretFormat, SecretKey};
use oathbulk::simulate::{SimConfig, SimState, Simulator};
use serde_json::Value;
use std::collections::HashMap;
use std::io::Read;
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Api {
    Graph,
    Portal,
}

pub struct Tenant {
    pub rt: tokio::runtime::Runtime,
    pub sim: Option<Simulator>,
    pub token: String,
    pub dir: tempfile::TempDir,
    pub csv: PathBuf,
    pub api: Api,
}

/// A `#[test]` per backend of `scenario(api)`, in a module named after it (`scenario::graph`,
/// `scenario::portal`), so each backend's failure shows on its own; attributes written before
/// the name (an `ignore` reason, say) go on both.
#[allow(unused_macros)]
macro_rules! on_both_backends {
    ($(#[$meta:meta])* $scenario:ident) => {
        mod $scenario {
            #[test]
            $(#[$meta])*
            fn graph() {
                super::$scenario($crate::common::Api::Graph)
            }

            #[test]
            $(#[$meta])*
            fn portal() {
                super::$scenario($crate::common::Api::Portal)
            }
        }
    };
}
#[allow(unused_imports)]
pub(crate) use on_both_backends;

/// Deterministic Base32 seeds (20 bytes) without pulling a RNG into the assertions.
pub fn now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64
}

/// An unsigned JWT-shaped token with these claims (oathbulk reads claims, never verifies).
pub fn jwt(claims: Value) -> String {
    use base64::Engine as _;
    let b64 = |v: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v);
    format!(
        "{}.{}.{}",
        b64(br#"{"alg":"none","typ":"JWT"}"#),
        b64(claims.to_string().as_bytes()),
        b64(b"sig-bytes-xyz")
    )
}

/// A simulator `clock_offset_secs` that puts the tenant `secs` into its 30 s TOTP step now: a
/// code of the tenant's time then holds for the rest of the step, and a short run sees one
/// step, with no wait on the wall clock for a step to come round.
pub fn offset_into_step(secs: i64) -> i64 {
    secs - now() % 30
}

/// The code the token with seed `i` (period 30 s) shows at the tenant's time, `offset` s from ours.
pub fn tenant_code(i: usize, offset: i64) -> String {
    let key = SecretKey::decode(&seed_for(i), SecretFormat::Base32).unwrap();
    oathbulk::otp::code_at(key.bytes(), oathbulk::otp::HashFunction::Sha1, 30, (now() + offset) as u64).code
}

pub fn seed_for(i: usize) -> String {
    let mut x = (i as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    let bytes: Vec<u8> = (0..20)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect();
    data_encoding::BASE32_NOPAD.encode(&bytes)
}

/// `n` rows; `state(i)` gives each row's `sim_state`. Users hold at most 3 tokens.
pub fn csv(n: usize, state: impl Fn(usize) -> &'static str) -> String {
    let mut s = String::from("upn,serial number,secret key,time interval,manufacturer,model,sim_state\n");
    for i in 0..n {
        let interval = if i % 4 == 0 { 60 } else { 30 };
        s.push_str(&format!(
            "user{}@contoso.com,SN{i:05},{},{interval},Acme,T{},{}\n",
            i / 3,
            seed_for(i),
            i % 2,
            state(i)
        ));
    }
    s
}

impl Tenant {
    pub fn new(api: Api, csv_text: &str, config: SimConfig) -> Tenant {
        let token = format!("eyJ0eXAiOiJKV1QifQ.{}.sig", uuid::Uuid::new_v4().simple());
        Tenant::with_token(api, csv_text, &token, config)
    }

    /// A tenant that accepts exactly `token` (a crafted JWT, say).
    pub fn with_token(api: Api, csv_text: &str, token: &str, config: SimConfig) -> Tenant {
        let token = token.to_string();
        let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
        let dir = tempfile::tempdir().unwrap();
        let csv = dir.path().join("tokens.csv");
        std::fs::write(&csv, csv_text).unwrap();
        let rows: Vec<_> = oathbulk::inventory::Inventory::open(csv.to_str().unwrap(), Default::default())
            .unwrap()
            .filter_map(Result::ok)
            .collect();
        let config = SimConfig { expected_token: Some(token.clone()), quiet: true, ..config };
        let sim = rt.block_on(Simulator::start(config, rows, "127.0.0.1:0".parse().unwrap())).unwrap();
        Tenant { rt, sim: Some(sim), token, dir, csv, api }
    }

    /// A token issued by the simulator's token endpoint (client credentials).
    pub fn fresh_token(&self) -> String {
        let url = format!("{}/{}/oauth2/v2.0/token", self.sim().authority_url(), self.sim().tenant_id());
        let body: Value = self.rt.block_on(async {
            reqwest::Client::new()
                .post(&url)
                .form(&[
                    ("grant_type", "client_credentials"),
                    ("client_id", "test-app"),
                    ("client_secret", "test-secret"),
                    ("scope", "https://graph.microsoft.com/.default"),
                ])
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap()
        });
        body["access_token"].as_str().expect("a token").to_string()
    }

    pub fn sim(&self) -> &Simulator {
        self.sim.as_ref().unwrap()
    }

    pub fn state(&self) -> SimState {
        self.sim().state()
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// The binary in the tenant's folder, the token in the environment (no client secret),
    /// nothing on stdin: where every command against the tenant starts.
    pub fn bin(&self) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_oathbulk"));
        cmd.current_dir(self.dir.path())
            .env("OATHBULK_TOKEN", &self.token)
            .env_remove("OATHBULK_CLIENT_SECRET")
            .stdin(Stdio::null());
        cmd
    }

    /// `oathbulk activate` against this tenant, the token in the environment.
    pub fn command(&self, extra: &[&str]) -> Command {
        let mut cmd = self.bin();
        cmd.arg("activate").arg(&self.csv).args(self.backend_args()).args(extra);
        // Defaults a scenario may override.
        for (flag, value) in [("--max-rate", "500"), ("--parallel", "8"), ("--progress", "none")] {
            if !extra.contains(&flag) {
                cmd.args([flag, value]);
            }
        }
        cmd
    }

    /// `oathbulk <sub> …` against this tenant, the token in the environment (any subcommand).
    pub fn subcommand(&self, sub: &str, extra: &[&str]) -> Command {
        let mut cmd = self.bin();
        cmd.arg(sub).args(extra).args(self.backend_args());
        for (flag, value) in [("--max-rate", "500"), ("--progress", "none")] {
            if !extra.contains(&flag) {
                cmd.args([flag, value]);
            }
        }
        cmd
    }

    /// `oathbulk SUB EXTRA…` against this tenant with only `--progress none` added (`tenant`
    /// and `doctor` take no pace flags).
    pub fn bare(&self, sub: &str, extra: &[&str]) -> Command {
        let mut cmd = self.bin();
        cmd.arg(sub).args(extra).args(self.backend_args()).args(["--progress", "none"]);
        cmd
    }

    /// `cmd` run to its end; no bearer token in its output or files.
    pub fn output(&self, cmd: &mut Command) -> Run {
        let run = Run::from(cmd.output().unwrap());
        self.assert_secret_free(&run);
        run
    }

    pub fn backend_args(&self) -> Vec<String> {
        match self.api {
            Api::Graph => vec!["--backend".into(), "graph".into(), "--graph-url".into(), self.sim().graph_url()],
            Api::Portal => vec!["--backend".into(), "portal".into(), "--portal-url".into(), self.sim().portal_url()],
        }
    }

    pub fn run(&self, extra: &[&str]) -> Run {
        self.output(&mut self.command(extra))
    }

    /// The bearer token must appear in no output and no file the run wrote.
    pub fn assert_secret_free(&self, run: &Run) {
        assert!(!run.stdout.contains(&self.token), "token in stdout");
        assert!(!run.stderr.contains(&self.token), "token in stderr");
        for entry in std::fs::read_dir(self.dir.path()).unwrap() {
            let p = entry.unwrap().path();
            // Everything the run wrote (the token files the test wrote hold it by design).
            if p.extension().is_some_and(|e| e == "jsonl" || e == "log") {
                let text = std::fs::read_to_string(&p).unwrap_or_default();
                assert!(!text.contains(&self.token), "token in {}", p.display());
            }
        }
    }
}

impl Drop for Tenant {
    fn drop(&mut self) {
        if let Some(sim) = self.sim.take() {
            self.rt.block_on(sim.shutdown());
        }
    }
}

/// `oathbulk ARGS` signed in with `token` (a wrong one, say) from the environment, nothing
/// on stdin.
pub fn run_with_token(token: &str, args: &[&str]) -> Run {
    let cmd = Command::new(env!("CARGO_BIN_EXE_oathbulk"))
        .env("OATHBULK_TOKEN", token)
        .args(args)
        .stdin(Stdio::null())
        .output();
    Run::from(cmd.unwrap())
}

/// An activation of a small tenant's rows, `args` naming `name` in the tenant's folder, which is
/// a symbolic link to a file of the test's: refused (exit 2) before any write, never followed,
/// the file left as it was. The run, for its words.
#[cfg(unix)]
pub fn run_with_symlink(name: &str, args: &[&str]) -> Run {
    let t = Tenant::new(Api::Graph, &csv(2, |_| "available"), SimConfig::default());
    let target = t.path("symlink-target.txt");
    std::fs::write(&target, "keep\n").unwrap();
    std::os::unix::fs::symlink(&target, t.path(name)).unwrap();
    let r = t.run(args);
    assert_eq!(r.code, 2, "{}\n{}", r.stdout, r.stderr);
    assert_eq!(std::fs::read_to_string(&target).unwrap(), "keep\n", "written through the link");
    assert_eq!(t.state().counters.activations, 0, "refused before any write");
    r
}

/// Lines of a journal that are not a write's in-flight intent (the header included).
pub fn settled_lines(journal: &Path) -> usize {
    let settled = |s: String| s.lines().filter(|l| !l.contains("\"in_flight\"")).count();
    std::fs::read_to_string(journal).map(settled).unwrap_or(0)
}

/// Polls `done` every 10 ms until it holds or `secs` have passed (the caller's assertions
/// then say what did not happen).
pub fn wait_until(secs: u64, done: impl Fn() -> bool) {
    let deadline = std::time::Instant::now() + Duration::from_secs(secs);
    while !done() && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// `cmd` started with its output discarded, then killed with SIGKILL (no cleanup at all) once
/// `journal` holds `settled` settled lines (or after a minute): a run stopped part way.
pub fn kill_once_settled(cmd: &mut Command, journal: &Path, settled: usize) {
    let mut child = cmd.stdout(Stdio::null()).stderr(Stdio::null()).spawn().unwrap();
    wait_until(60, || settled_lines(journal) >= settled);
    child.kill().unwrap();
    child.wait().unwrap();
}

/// A row's `sim_state` in a mixed tenant, by `i % every`: one already active, one someone
/// else's, one missing, three assigned to their user, the rest available.
pub fn mixed_state(i: usize, every: usize) -> &'static str {
    match i % every {
        0 => "activated",
        1 => "conflict",
        2 => "missing",
        3..=5 => "assigned",
        _ => "available",
    }
}

pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
    pub records: Vec<Value>,
}

impl From<Output> for Run {
    fn from(out: Output) -> Run {
        let stdout = String::from_utf8(out.stdout).unwrap();
        let records: Vec<Value> =
            stdout.lines().map(|l| serde_json::from_str(l).expect("every stdout line is JSON")).collect();
        // Every record a suite reads is checked against the published schema.
        records.iter().for_each(schema::validate);
        Run { code: out.status.code().unwrap_or(-1), stdout, stderr: String::from_utf8(out.stderr).unwrap(), records }
    }
}

impl Run {
    pub fn activations(&self) -> HashMap<String, Value> {
        self.records
            .iter()
            .filter(|r| r["type"] == "activation")
            .map(|r| (r["serial"].as_str().unwrap().to_string(), r.clone()))
            .collect()
    }
    pub fn summary(&self) -> &Value {
        let last = self.records.last().expect("a summary");
        assert_eq!(last["type"], "summary", "summary last: {}", self.stdout);
        last
    }
    pub fn status_of(&self, serial: &str) -> String {
        self.activations()[serial]["status"].as_str().unwrap().to_string()
    }
    /// One activation record per row of `csv(n, state)`, each with the status its seeded
    /// state calls for (`context` prefixes the messages).
    pub fn assert_statuses(&self, n: usize, state: impl Fn(usize) -> &'static str, context: &str) {
        let acts = self.activations();
        assert_eq!(acts.len(), n, "{context} one record per row");
        for i in 0..n {
            let serial = format!("SN{i:05}");
            let want = match state(i) {
                "activated" => "already_active",
                "conflict" => "conflict",
                "missing" => "not_found",
                _ => "activated",
            };
            assert_eq!(self.status_of(&serial), want, "{context} {serial}: {}", acts[&serial]);
        }
    }
}

/// A listener on `ip`, at a free port (returned), handing its connections to `on_connection`
/// one at a time, numbered from 0, on a thread of its own: the servers the suites write.
pub fn serve(ip: &str, on_connection: impl Fn(usize, TcpStream) + Send + 'static) -> u16 {
    let listener = std::net::TcpListener::bind((ip, 0)).unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for (n, stream) in listener.incoming().enumerate() {
            if let Ok(stream) = stream {
                on_connection(n, stream);
            }
        }
    });
    port
}

/// One HTTP request read off `stream` (for the hostile servers the tests write): its head,
/// the blank line, and its body when it states a length, as text.
pub fn read_request(stream: &mut TcpStream) -> String {
    stream.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let mut buf = Vec::new();
    let mut byte = [0u8; 1];
    while !buf.ends_with(b"\r\n\r\n") {
        match stream.read(&mut byte) {
            Ok(1) => buf.push(byte[0]),
            _ => break,
        }
    }
    let mut request = String::from_utf8_lossy(&buf).into_owned();
    // Read the body too, so the client sees a clean exchange and the handler what was sent.
    if let Some(len) = request.lines().find_map(|l| {
        l.to_ascii_lowercase().strip_prefix("content-length:").map(|v| v.trim().parse::<usize>().unwrap_or(0))
    }) {
        let mut body = vec![0u8; len];
        let _ = stream.read_exact(&mut body);
        request.push_str(&String::from_utf8_lossy(&body));
    }
    request
}
