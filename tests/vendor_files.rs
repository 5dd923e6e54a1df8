//! Seed files as vendors ship them, through the binary: what Excel does to a CSV (named by
//! `check` with its lines, refused by `activate` and `import`), a file without users
//! (Deepnet's), and a password ZIP activated against the simulator without a plaintext file
//! ever appearing on disk.

mod common;

use common::{seed_for, Api, Run, Tenant};
use oathbulk::simulate::SimConfig;
use serde_json::Value;
use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

fn oathbulk(dir: &Path, args: &[&str], stdin: &str) -> Run {
    let mut child = Command::new(env!("CARGO_BIN_EXE_oathbulk"))
        .current_dir(dir)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(stdin.as_bytes()).unwrap();
    Run::from(child.wait_with_output().unwrap())
}

fn check(text: &[u8], extra: &[&str]) -> Run {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("f.csv"), text).unwrap();
    let mut args = vec!["check", "f.csv", "--format", "json"];
    args.extend_from_slice(extra);
    oathbulk(dir.path(), &args, "")
}

/// (type, code, lines) of every record but the summary.
fn codes(r: &Run) -> Vec<(String, String, Vec<u64>)> {
    r.records
        .iter()
        .filter(|x| x["type"] != "summary")
        .map(|x| {
            let lines = match (&x["line"], &x["lines"]) {
                (Value::Number(n), _) => vec![n.as_u64().unwrap()],
                (_, Value::Array(a)) => a.iter().map(|n| n.as_u64().unwrap()).collect(),
                _ => vec![],
            };
            (x["type"].as_str().unwrap().to_string(), x["code"].as_str().unwrap_or_default().to_string(), lines)
        })
        .collect()
}

const HEADER: &str = "upn,serial number,secret key,time interval,manufacturer,model";

fn row(i: usize, serial: &str) -> String {
    format!("user{i}@contoso.com,{serial},{},30,Acme,T1\n", seed_for(i))
}

#[test]
fn check_names_a_scientific_serial_as_an_error_with_its_line() {
    let text = format!("{HEADER}\n{}{}", row(0, "220015000"), row(1, "2.20015E+09"));
    let r = check(text.as_bytes(), &[]);
    assert_eq!(codes(&r), vec![("row_error".into(), "serial_scientific_notation".into(), vec![3])]);
    assert_eq!(r.code, 1);
    assert!(r.stdout.contains("scientific notation") && !r.stdout.contains(&seed_for(1)));
}

#[test]
fn check_warns_of_serials_that_lost_their_leading_zeros_naming_the_lines() {
    let serials = ["0012345", "0012346", "12347", "0012348", "0012349", "12350", "0012351", "0012352"];
    let mut text = format!("{HEADER}\n");
    for (i, s) in serials.iter().enumerate() {
        text.push_str(&row(i, s));
    }
    let r = check(text.as_bytes(), &[]);
    assert_eq!(codes(&r), vec![("finding".into(), "serial_length_break".into(), vec![4, 7])]);
    assert_eq!(r.code, 0, "a warning, not an error");
}

#[test]
fn a_semicolon_or_tab_file_is_named_and_read_with_delimiter() {
    for (sep, name) in [(";", ";"), ("\t", "tab")] {
        let text = format!("{}\n{}", HEADER.replace(',', sep), row(0, "S1").replace(',', sep));
        let r = check(text.as_bytes(), &[]);
        assert_eq!(r.code, 2, "{name}: {}", r.stderr);
        assert!(r.stderr.contains(&format!("--delimiter '{name}'")), "{}", r.stderr);
        assert!(!r.stderr.contains(&seed_for(0)));
        let r = check(text.as_bytes(), &["--delimiter", name]);
        assert_eq!((r.code, codes(&r)), (0, vec![]), "{name}: {}", r.stderr);
    }
}

#[test]
fn windows_1252_bytes_are_named_with_the_fix() {
    // "José" as Excel's plain "CSV" writes it: é is 0xE9.
    let mut text = format!("{HEADER},display name\n").into_bytes();
    text.extend_from_slice(row(0, "S1").trim_end().as_bytes());
    text.extend_from_slice(b",Jos\xe9\n");
    let r = check(&text, &[]);
    assert_eq!(codes(&r), vec![("row_error".into(), "invalid_utf8".into(), vec![2])]);
    assert!(r.stdout.contains("Windows-1252") && r.stdout.contains("CSV UTF-8") && r.stdout.contains("iconv"));
    // In the header, too.
    let r = check(b"upn,serial number,Pr\xe9nom\n", &[]);
    assert!(r.stderr.contains("Windows-1252") && r.stderr.contains("line 1"), "{}", r.stderr);
}

#[test]
fn hotp_rows_are_errors_by_type_or_by_counter() {
    let text = format!(
        "{HEADER},type,counter\n{}{}{}",
        row(0, "S1").replace('\n', ",TOTP,0\n"),
        row(1, "S2").replace('\n', ",HOTP,0\n"),
        row(2, "S3").replace('\n', ",,12\n"),
    );
    let r = check(text.as_bytes(), &[]);
    let got: Vec<_> = codes(&r).into_iter().map(|(_, c, l)| (c, l)).collect();
    assert_eq!(got, vec![("hotp_not_supported".into(), vec![3]), ("hotp_not_supported".into(), vec![4])]);
    assert!(r.stdout.contains("TOTP") && !r.stdout.contains(&seed_for(1)));
}

/// The rows `check` calls errors are refused by `activate` (row errors with their lines,
/// never sent), the others activated.
#[test]
fn activate_refuses_the_rows_check_calls_errors() {
    let good = format!("{HEADER},sim_state\n{}", row(0, "S1").replace('\n', ",assigned\n"));
    let t = Tenant::new(Api::Graph, &good, SimConfig::default());
    let bad = format!(
        "{HEADER},type\n{}{}{}",
        row(0, "S1").replace('\n', ",TOTP\n"),
        row(1, "2.2E+09").replace('\n', ",TOTP\n"),
        row(2, "S3").replace('\n', ",HOTP\n"),
    );
    std::fs::write(&t.csv, bad).unwrap();
    let r = t.run(&["--format", "json"]);
    let errors: Vec<_> = codes(&r).into_iter().filter(|(t, _, _)| t == "row_error").map(|(_, c, l)| (c, l)).collect();
    assert_eq!(errors, vec![("serial_scientific_notation".into(), vec![3]), ("hotp_not_supported".into(), vec![4])]);
    assert_eq!(r.status_of("S1"), "activated", "{}", r.stdout);
    assert_eq!(r.code, 1);
}

// ── files without users ──────────────────────────────────────────────────────────────────

const DEEPNET: &str = "serial number,secret key,time interval,manufacturer,model\n";

fn deepnet(n: usize) -> String {
    let mut s = DEEPNET.to_string();
    for i in 0..n {
        s.push_str(&format!("DN{i:04},{},30,Deepnet,SafeID\n", seed_for(i)));
    }
    s
}

#[test]
fn a_file_without_users_checks_and_imports_unassigned() {
    let r = check(deepnet(7).as_bytes(), &[]);
    assert_eq!((r.code, codes(&r)), (0, vec![]), "{}{}", r.stdout, r.stderr);
    // The simulated tenant knows none of the tokens; import creates them, assigned to no one.
    let t = Tenant::new(Api::Graph, "upn,serial number\n", SimConfig::default());
    std::fs::write(&t.csv, deepnet(7)).unwrap();
    let csv = t.csv.to_str().unwrap().to_string();
    let r = Run::from(t.subcommand("import", &[&csv, "--format", "json"]).output().unwrap());
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    let state = t.state();
    let created: Vec<_> = state.devices.iter().filter(|d| d.serial_number.starts_with("DN")).collect();
    assert_eq!(created.len(), 7);
    assert!(created.iter().all(|d| d.assigned_upn.is_none() && d.status == "available"), "{created:?}");
    assert!((0..7).all(|i| !r.stdout.contains(&seed_for(i)) && !r.stderr.contains(&seed_for(i))));
    // --assign needs users, and says so before anything is sent.
    let r = Run::from(t.subcommand("import", &[&csv, "--assign", "--format", "json"]).output().unwrap());
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("--assign needs the user of each token") && r.stderr.contains("--assign-csv"));
    // activate needs users, and says so.
    let r = t.run(&["--format", "json"]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("needs the user of each token") && r.stderr.contains("--assign-csv"), "{}", r.stderr);
}

#[test]
fn assign_csv_gives_the_users_of_a_file_without_them() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("deep.csv"), deepnet(3)).unwrap();
    std::fs::write(dir.path().join("users.csv"), "serial,upn\nDN0000,a@contoso.com\ndn0001,b@contoso.com\n").unwrap();
    let r = oathbulk(dir.path(), &["users", "deep.csv", "--assign-csv", "users.csv", "--format", "json"], "");
    // DN0002 is in no line of users.csv: its row is an error naming the line, the others count.
    let users: Vec<_> = r.records.iter().filter(|x| x["type"] == "user").map(|x| x["upn"].clone()).collect();
    assert_eq!(users.len(), 2, "{}{}", r.stdout, r.stderr);
    assert!(codes(&r).contains(&("row_error".into(), "missing_upn".into(), vec![4])), "{}", r.stdout);
}

// ── password ZIPs ────────────────────────────────────────────────────────────────────────

fn aes_zip(name: &str, content: &[u8], password: &str) -> Vec<u8> {
    let mut out = std::io::Cursor::new(Vec::new());
    let mut zip = zip::ZipWriter::new(&mut out);
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .with_aes_encryption(zip::AesMode::Aes256, password);
    zip.start_file(name, options).unwrap();
    zip.write_all(content).unwrap();
    zip.finish().unwrap();
    out.into_inner()
}

/// Every file under `dir`, recursively (name → bytes).
fn files(dir: &Path) -> std::collections::BTreeMap<String, Vec<u8>> {
    let mut out = std::collections::BTreeMap::new();
    for entry in walk(dir) {
        out.insert(entry.display().to_string(), std::fs::read(&entry).unwrap_or_default());
    }
    out
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let p = entry.unwrap().path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

#[test]
fn a_password_zip_activates_without_a_plaintext_file_on_disk() {
    let text = common::csv(6, |_| "assigned");
    let t = Tenant::new(Api::Graph, &text, SimConfig::default());
    std::fs::remove_file(&t.csv).unwrap();
    // Feitian's habit: the archive renamed .pdf.
    std::fs::write(t.path("seeds.pdf"), aes_zip("seeds.csv", text.as_bytes(), "s3cret pass")).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let before = files(t.dir.path());
    let run = |password: &str| {
        let mut cmd = t.subcommand("activate", &["seeds.pdf", "--zip-password-stdin", "--format", "json"]);
        cmd.env("TMPDIR", tmp.path()).stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped());
        let mut child = cmd.spawn().unwrap();
        child.stdin.take().unwrap().write_all(format!("{password}\n").as_bytes()).unwrap();
        Run::from(child.wait_with_output().unwrap())
    };
    let r = run("wrong");
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("password is wrong") || r.stderr.contains("wrong password"), "{}", r.stderr);
    let r = run("s3cret pass");
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert_eq!(r.activations().len(), 6);
    assert!((0..6).all(|i| r.status_of(&format!("SN{i:05}")) == "activated"));
    // Nothing was unpacked: the working directory holds what it held, the temp dir nothing,
    // and no file anywhere there holds a seed.
    assert_eq!(files(t.dir.path()).keys().collect::<Vec<_>>(), before.keys().collect::<Vec<_>>());
    assert!(walk(tmp.path()).is_empty(), "{:?}", walk(tmp.path()));
    for (name, bytes) in files(t.dir.path()) {
        let text = String::from_utf8_lossy(&bytes);
        assert!((0..6).all(|i| !text.contains(&seed_for(i))), "a seed in {name}");
    }
    t.assert_secret_free(&r);
}

/// ZipCrypto (the `zip -P` of old tools) holding a PSKC file: read in memory too.
#[test]
fn a_zipcrypto_archive_holding_pskc_is_read() {
    if Command::new("zip").arg("-v").stdout(Stdio::null()).status().is_err() {
        assert!(std::env::var_os("CI").is_none(), "zip not found (.ci/run installs it)");
        eprintln!("SKIPPED: no zip command");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/pskc/totp-plain.pskcxml");
    std::fs::copy(&fixture, dir.path().join("seeds.pskc")).unwrap();
    let status = Command::new("zip")
        .current_dir(dir.path())
        .args(["-q", "-P", "pw123", "seeds.zip", "seeds.pskc"])
        .status()
        .unwrap();
    assert!(status.success());
    std::fs::remove_file(dir.path().join("seeds.pskc")).unwrap();
    let r = oathbulk(dir.path(), &["check", "seeds.zip", "--zip-password-stdin", "--format", "json"], "pw123\n");
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert_eq!(r.summary()["rows"], 2);
    let r = oathbulk(dir.path(), &["check", "seeds.zip", "--zip-password-stdin", "--format", "json"], "nope\n");
    assert_eq!(r.code, 2, "{}", r.stderr);
}

/// A PSKC file activates against the simulator, its users from --assign-csv: serial,
/// algorithm, hash and time step all from the file (a SHA-256, 60 s key among them).
#[test]
fn a_pskc_file_activates_with_users_from_assign_csv() {
    let tenant_csv = "upn,serial number,secret key,time interval,hash,manufacturer,model,sim_state\n\
        a@contoso.com,FT0001,GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ,30,sha1,Feitian,c200,assigned\n\
        b@contoso.com,FT0002,GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGEZA,60,sha256,Feitian,c200,assigned\n";
    let t = Tenant::new(Api::Graph, tenant_csv, SimConfig::default());
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/pskc/totp-plain.pskcxml");
    std::fs::copy(fixture, t.path("seeds.pskc")).unwrap();
    // Without users: activate says it needs them.
    let r = Run::from(t.subcommand("activate", &["seeds.pskc", "--format", "json"]).output().unwrap());
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("names no users") && r.stderr.contains("--assign-csv"), "{}", r.stderr);
    std::fs::write(t.path("users.csv"), "serial,upn\nFT0001,a@contoso.com\nFT0002,b@contoso.com\n").unwrap();
    let r = Run::from(
        t.subcommand("activate", &["seeds.pskc", "--assign-csv", "users.csv", "--format", "json"]).output().unwrap(),
    );
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert_eq!((r.status_of("FT0001"), r.status_of("FT0002")), ("activated".into(), "activated".into()));
    assert!(!r.stdout.contains("GEZDGNBV") && !r.stderr.contains("GEZDGNBV"));
    t.assert_secret_free(&r);
}

/// A script's `fn map` gives the users of a PSKC file (scripts/users-by-serial.rhai): the
/// tenant holds the tokens unassigned, so each lands on the user the script named or on
/// no one; a row the script leaves without a user is its own `missing_upn` error.
#[test]
fn a_pskc_file_activates_and_imports_with_users_from_a_script() {
    let tenant_csv = "upn,serial number,secret key,time interval,hash,manufacturer,model,sim_state\n\
        a@contoso.com,FT0001,GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ,30,sha1,Feitian,c200,available\n\
        b@contoso.com,FT0002,GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGEZA,60,sha256,Feitian,c200,available\n\
        helpdesk@contoso.com,XX0001,GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ,30,sha1,Other,x,available\n";
    let t = Tenant::new(Api::Graph, tenant_csv, SimConfig::default());
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/pskc/totp-plain.pskcxml");
    std::fs::copy(fixture, t.path("seeds.pskc")).unwrap();
    let holder = |serial: &str| {
        let state = t.state();
        let d = state.devices.iter().find(|d| d.serial_number == serial).unwrap();
        (d.assigned_upn.clone(), d.status.clone())
    };
    // Only FT0002 gets a user: FT0001 is a row error naming its serial, and is left alone.
    std::fs::write(
        t.path("one.rhai"),
        "fn map(row) { if row.serial == \"FT0002\" { row.upn = \"b@contoso.com\"; } row }",
    )
    .unwrap();
    let r = Run::from(
        t.subcommand("activate", &["seeds.pskc", "--script", "one.rhai", "--format", "json"]).output().unwrap(),
    );
    assert_eq!(r.code, 1, "{}{}", r.stdout, r.stderr);
    let errors: Vec<_> = r.records.iter().filter(|x| x["type"] == "row_error").collect();
    assert_eq!(errors.len(), 1, "{}", r.stdout);
    assert_eq!((&errors[0]["code"], &errors[0]["serial"]), (&"missing_upn".into(), &"FT0001".into()));
    assert_eq!(r.status_of("FT0002"), "activated", "{}", r.stdout);
    assert_eq!(holder("FT0001"), (None, "available".to_string()));
    assert_eq!(holder("FT0002"), (Some("b@contoso.com".into()), "activated".into()));
    // The example script names both: FT0001 now goes to a@ (FT0002 is done already).
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/users-by-serial.rhai");
    let script = script.to_str().unwrap();
    let r =
        Run::from(t.subcommand("activate", &["seeds.pskc", "--script", script, "--format", "json"]).output().unwrap());
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert_eq!(holder("FT0001"), (Some("a@contoso.com".into()), "activated".into()));
    assert_eq!(holder("FT0002"), (Some("b@contoso.com".into()), "activated".into()));
    assert!(!r.stdout.contains("GEZDGNBV") && !r.stderr.contains("GEZDGNBV"));
    t.assert_secret_free(&r);
    // import --assign of a Deepnet file: the script's range rule names the help desk; a serial
    // it does not know makes --assign refuse before anything is sent.
    std::fs::write(t.path("deep.csv"), format!("{DEEPNET}FT1001,{},30,Deepnet,SafeID\n", seed_for(1))).unwrap();
    let r = Run::from(
        t.subcommand("import", &["deep.csv", "--assign", "--script", script, "--format", "json"]).output().unwrap(),
    );
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert_eq!(holder("FT1001"), (Some("helpdesk@contoso.com".into()), "assigned".into()));
    std::fs::write(t.path("deep.csv"), format!("{DEEPNET}ZZ0001,{},30,Deepnet,SafeID\n", seed_for(2))).unwrap();
    let r = Run::from(
        t.subcommand("import", &["deep.csv", "--assign", "--script", script, "--format", "json"]).output().unwrap(),
    );
    assert_eq!(r.code, 2, "{}{}", r.stdout, r.stderr);
    assert!(!t.state().devices.iter().any(|d| d.serial_number == "ZZ0001"));
}

/// The ZIP password asked on a terminal (a pseudo-terminal from util-linux `script`) is not
/// echoed; without a terminal (`setsid`: no controlling one) the message names the stdin flag.
#[test]
fn a_zip_password_is_asked_on_the_terminal_unechoed_or_its_flag_named() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("seeds.zip"), aes_zip("seeds.csv", deepnet(2).as_bytes(), "pw-9f8e7d")).unwrap();
    let bin = env!("CARGO_BIN_EXE_oathbulk");
    let mut child = Command::new("script")
        .current_dir(dir.path())
        .args(["-qec", &format!("{bin} check seeds.zip --format json"), "/dev/null"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("util-linux `script` runs (apt-get install bsdutils)");
    let mut stdin = child.stdin.take().unwrap();
    std::thread::sleep(std::time::Duration::from_millis(500));
    stdin.write_all(b"pw-9f8e7d\n").unwrap();
    let out = child.wait_with_output().unwrap();
    let screen = String::from_utf8_lossy(&out.stdout);
    assert!(screen.contains("Password for the ZIP archive") && screen.contains("\"rows\":2"), "{screen}");
    assert!(!screen.contains("pw-9f8e7d"), "the password was echoed: {screen}");
    let out = Command::new("setsid")
        .current_dir(dir.path())
        .args([bin, "check", "seeds.zip", "--format", "json"])
        .stdin(Stdio::null())
        .output()
        .expect("setsid runs (util-linux)");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2));
    assert!(err.contains("no terminal") && err.contains("--zip-password-stdin"), "{err}");
}

/// A simulated tenant is seeded from any file a command reads, through the same reader: a
/// PSKC file, a CSV without users (its tokens unassigned), a password ZIP holding one
/// (`tenant --simulate --seed`, and `simulate --csv`, which writes its state on exit).
#[test]
fn a_simulated_tenant_is_seeded_from_pskc_a_file_without_users_or_a_password_zip() {
    let dir = tempfile::tempdir().unwrap();
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/pskc/totp-plain.pskcxml");
    std::fs::copy(&fixture, dir.path().join("seeds.pskc")).unwrap();
    std::fs::write(dir.path().join("deep.csv"), deepnet(3)).unwrap();
    std::fs::write(dir.path().join("deep.pdf"), aes_zip("deep.csv", deepnet(3).as_bytes(), "zip-pw-1")).unwrap();
    let deep = ["DN0000", "DN0001", "DN0002"];
    let cases: [(&str, &[&str], &str, &[&str]); 3] = [
        ("seeds.pskc", &[], "", &["FT0001", "FT0002"]),
        ("deep.csv", &[], "", &deep),
        ("deep.pdf", &["--zip-password-stdin"], "zip-pw-1\n", &deep),
    ];
    for (file, extra, stdin, serials) in cases {
        let mut args = vec!["tenant", "--simulate", "--seed", file, "--format", "json", "--progress", "none"];
        args.extend_from_slice(extra);
        let r = oathbulk(dir.path(), &args, stdin);
        assert_eq!(r.code, 0, "{file}: {}{}", r.stdout, r.stderr);
        let listed: Vec<_> = r.records.iter().filter(|x| x["type"] == "tenant_token").collect();
        let got: Vec<&str> = listed.iter().map(|x| x["serial"].as_str().unwrap()).collect();
        assert_eq!(got, serials.to_vec(), "{file}");
        assert!(listed.iter().all(|x| x["status"] == "available" && x.get("assigned_upn").is_none()), "{file}");

        let state = dir.path().join("state.json");
        let mut args = vec!["simulate", "--csv", file, "--state-out", state.to_str().unwrap(), "--quiet"];
        args.extend_from_slice(extra);
        let r = oathbulk(dir.path(), &args, stdin);
        assert_eq!(r.code, 0, "{file}: {}", r.stderr);
        let state: Value = serde_json::from_slice(&std::fs::read(&state).unwrap()).unwrap();
        let seeded: Vec<&str> =
            state["devices"].as_array().unwrap().iter().map(|d| d["serial_number"].as_str().unwrap()).collect();
        assert_eq!(seeded, serials.to_vec(), "{file}");
        assert!(state["users"].as_array().is_none_or(|u| u.is_empty()), "{file}: no user for a file without users");
        assert!(!r.stdout.contains("GEZDGNBV") && (0..3).all(|i| !r.stdout.contains(&seed_for(i))));
    }
}
