//! Cross-check `oathbulk otp` against an independent implementation: OATH Toolkit's `oathtool`.
//!
//! 1,440 cases: random secrets (80–512 bits) × 12 instants × {30 s, 60 s} × {SHA-1, SHA-256}.
//! One CSV and one `oathbulk otp --at` run per instant; one `oathtool` call per case (run on
//! a few threads). Half the cases hand oathtool the hex seed, half the padded Base32, while
//! the CSV always carries Base32 (sometimes lower-case and grouped): the decoders are checked
//! against each other too.
//!
//! Without `oathtool` the test is skipped with a message, except under CI (`CI` set), where a
//! missing oathtool is a failure: `.ci/run` installs it.

use assert_cmd::Command;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::io::Write;
use std::process::Stdio;

const CASES_PER_INSTANT: usize = 120;

struct Case {
    secret: Vec<u8>,
    period: u32,
    sha256: bool,
    at: u64,
    /// Give oathtool Base32 (`-b`) rather than hex.
    base32_for_oathtool: bool,
}

fn oathtool_available() -> bool {
    std::process::Command::new("oathtool")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

fn in_ci() -> bool {
    std::env::var_os("CI").is_some_and(|v| !v.is_empty() && v != "false" && v != "0")
}

fn oathtool_code(case: &Case) -> String {
    let mut cmd = std::process::Command::new("oathtool");
    cmd.arg(if case.sha256 { "--totp=sha256" } else { "--totp=sha1" })
        .arg(format!("--time-step-size={}s", case.period))
        .arg("-N")
        .arg(format!("@{}", case.at));
    if case.base32_for_oathtool {
        // oathtool's Base32 decoder wants the `=` padding.
        cmd.arg("-b").arg(data_encoding::BASE32.encode(&case.secret));
    } else {
        cmd.arg(data_encoding::HEXLOWER.encode(&case.secret));
    }
    let out = cmd.output().expect("run oathtool");
    assert!(out.status.success(), "oathtool failed: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

/// The CSV spelling of a secret: canonical, or the way some vendors ship it.
fn csv_secret(rng: &mut StdRng, secret: &[u8]) -> String {
    let canonical = data_encoding::BASE32_NOPAD.encode(secret);
    match rng.random_range(0..4) {
        0 => canonical.to_lowercase(),
        1 => canonical.as_bytes().chunks(4).map(|c| std::str::from_utf8(c).unwrap()).collect::<Vec<_>>().join(" "),
        2 => data_encoding::BASE32.encode(secret), // padded
        _ => canonical,
    }
}

#[test]
#[cfg_attr(
    windows,
    ignore = "no OATH Toolkit build for Windows: the cross-check runs on Linux and macOS (brew install oath-toolkit)"
)]
fn otp_matches_oathtool_for_random_secrets_instants_steps_and_hashes() {
    if !oathtool_available() {
        if in_ci() {
            panic!("oathtool is not installed, and CI is set: install the Debian package `oathtool`");
        }
        eprintln!("SKIPPED otp_matches_oathtool…: oathtool not found (apt-get install oathtool)");
        return;
    }
    let seed: u64 = std::env::var("OATHBULK_CROSSCHECK_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or(0x0a7b_0c1d);
    eprintln!("cross-check seed {seed} (set OATHBULK_CROSSCHECK_SEED to vary)");
    let mut rng = StdRng::seed_from_u64(seed);
    // Step edges, RFC instants, the 2038 edge, a far future, and random instants.
    let mut instants = vec![0u64, 29, 59, 60, 1_111_111_109, 2_147_483_647, 2_147_483_648, 33_000_000_000];
    while instants.len() < 12 {
        instants.push(rng.random_range(1_000_000_000..5_000_000_000));
    }

    let bin = assert_cmd::cargo::cargo_bin("oathbulk");
    let dir = tempfile::tempdir().unwrap();
    let mut cases: Vec<Case> = Vec::new();
    let mut ours: Vec<String> = Vec::new();
    for (group, &at) in instants.iter().enumerate() {
        let path = dir.path().join(format!("group{group}.csv"));
        let mut csv = String::from("upn,serial number,secret key,time interval,hash function\n");
        let first = cases.len();
        for i in 0..CASES_PER_INSTANT {
            let len = [10usize, 16, 20, 26, 32, 40, 64][rng.random_range(0..7)];
            let secret: Vec<u8> = (0..len).map(|_| rng.random()).collect();
            // Cover all four (period, hash) combinations evenly, the rest random.
            let (period, sha256) = match i % 4 {
                0 => (30, false),
                1 => (60, false),
                2 => (30, true),
                _ => (60, true),
            };
            let spelled = csv_secret(&mut rng, &secret);
            let hash =
                if sha256 { ["sha256", "hmacsha256", "SHA-256"][i % 3] } else { ["sha1", "hmacsha1", ""][i % 3] };
            csv.push_str(&format!("u{i}@contoso.com,G{group}-{i},{spelled},{period},{hash}\n"));
            cases.push(Case { secret, period, sha256, at, base32_for_oathtool: rng.random() });
        }
        std::fs::write(&path, csv).unwrap();
        let out = Command::new(&bin).arg("otp").arg(&path).arg("--at").arg(at.to_string()).output().unwrap();
        assert_eq!(out.status.code(), Some(0), "stderr: {}", String::from_utf8_lossy(&out.stderr));
        let stdout = String::from_utf8(out.stdout).unwrap();
        let recs: Vec<serde_json::Value> = stdout.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
        assert_eq!(recs.len(), CASES_PER_INSTANT + 1, "one otp record per row plus the summary");
        for (i, rec) in recs[..CASES_PER_INSTANT].iter().enumerate() {
            assert_eq!(rec["type"], "otp");
            assert_eq!(rec["line"], (i + 2) as u64);
            assert_eq!(rec["at"], at);
            let case = &cases[first + i];
            assert_eq!(rec["step"], at / u64::from(case.period));
            assert_eq!(rec["hash"], if case.sha256 { "sha256" } else { "sha1" });
            ours.push(rec["code"].as_str().expect("code is a string").to_string());
        }
    }

    let started = std::time::Instant::now();
    let threads = 4;
    let theirs: Vec<String> = std::thread::scope(|s| {
        let handles: Vec<_> = cases
            .chunks(cases.len().div_ceil(threads))
            .map(|chunk| s.spawn(move || chunk.iter().map(oathtool_code).collect::<Vec<_>>()))
            .collect();
        handles.into_iter().flat_map(|h| h.join().unwrap()).collect()
    });
    eprintln!("{} oathtool calls in {:?}", cases.len(), started.elapsed());

    assert!(cases.len() >= 1000);
    let mut mismatches = Vec::new();
    for ((case, ours), theirs) in cases.iter().zip(&ours).zip(&theirs) {
        if ours != theirs {
            mismatches.push(format!(
                "secret(hex)={} period={} sha256={} at={}: oathbulk {ours}, oathtool {theirs}",
                data_encoding::HEXLOWER.encode(&case.secret),
                case.period,
                case.sha256,
                case.at
            ));
        }
    }
    assert!(mismatches.is_empty(), "{} of {} codes differ:\n{}", mismatches.len(), cases.len(), mismatches.join("\n"));
    // Leading zeros must survive: some of 1,440 random codes start with 0.
    assert!(ours.iter().any(|c| c.starts_with('0')), "expected at least one code with a leading zero");
    let _ = std::io::stderr().flush();
}
