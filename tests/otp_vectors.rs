//! RFC 6238 Appendix B test vectors, through the library (8 digits) and through the CLI
//! (`oathbulk otp --at`, 6 digits: the low six digits of the same truncated value).

use assert_cmd::Command;
use oathbulk::otp::{code_at, code_for_step, seconds_left, step_at, verify, HashFunction, Verified, DIGITS};
use proptest::prelude::*;
use std::io::Write;

/// RFC 6238 uses a different seed per hash: the ASCII digits repeated to the hash's size.
const SEED_SHA1: &[u8] = b"12345678901234567890";
const SEED_SHA256: &[u8] = b"12345678901234567890123456789012";

/// (unix time, SHA-1 code, SHA-256 code), RFC 6238 Appendix B, step 30 s, 8 digits.
const VECTORS: &[(u64, &str, &str)] = &[
    (59, "94287082", "46119246"),
    (1_111_111_109, "07081804", "68084774"),
    (1_111_111_111, "14050471", "67062674"),
    (1_234_567_890, "89005924", "91819424"),
    (2_000_000_000, "69279037", "90698825"),
    (20_000_000_000, "65353130", "77737706"),
];

fn b32(bytes: &[u8]) -> String {
    data_encoding::BASE32_NOPAD.encode(bytes)
}

#[test]
fn rfc6238_appendix_b_sha1_8_digits() {
    for &(t, sha1, _) in VECTORS {
        let step = step_at(t, 30);
        assert_eq!(step, t / 30);
        assert_eq!(code_for_step(SEED_SHA1, HashFunction::Sha1, 30, step, 8), sha1, "SHA-1 at T={t}");
    }
}

#[test]
fn rfc6238_appendix_b_sha256_8_digits() {
    for &(t, _, sha256) in VECTORS {
        let step = step_at(t, 30);
        assert_eq!(code_for_step(SEED_SHA256, HashFunction::Sha256, 30, step, 8), sha256, "SHA-256 at T={t}");
    }
}

#[test]
fn rfc6238_six_digit_codes_via_library() {
    for &(t, sha1, sha256) in VECTORS {
        let c = code_at(SEED_SHA1, HashFunction::Sha1, 30, t);
        assert_eq!(c.code, &sha1[2..], "SHA-1 at T={t}");
        assert_eq!(c.step, t / 30);
        assert_eq!(c.valid_for, seconds_left(t, 30));
        let c = code_at(SEED_SHA256, HashFunction::Sha256, 30, t);
        assert_eq!(c.code, &sha256[2..], "SHA-256 at T={t}");
        assert_eq!(c.code.len(), DIGITS);
    }
}

fn otp_lines(csv: &str, at: &str) -> Vec<serde_json::Value> {
    let mut file = tempfile::NamedTempFile::new().unwrap();
    file.write_all(csv.as_bytes()).unwrap();
    let out =
        Command::cargo_bin("oathbulk").unwrap().args(["otp"]).arg(file.path()).args(["--at", at]).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "stderr: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect()
}

#[test]
fn rfc6238_six_digit_codes_via_cli() {
    let csv = format!(
        "upn,serial number,secret key,time interval,hash\n\
         a@contoso.com,SHA1,{},30,sha1\n\
         b@contoso.com,SHA256,{},30,sha256\n",
        b32(SEED_SHA1),
        b32(SEED_SHA256)
    );
    for &(t, sha1, sha256) in VECTORS {
        let recs = otp_lines(&csv, &t.to_string());
        assert_eq!(recs.len(), 3, "{recs:?}");
        assert_eq!(recs[0]["type"], "otp");
        assert_eq!(recs[0]["code"], &sha1[2..], "SHA-1 at T={t}");
        assert_eq!(recs[0]["hash"], "sha1");
        assert_eq!(recs[0]["step"], t / 30);
        assert_eq!(recs[0]["at"], t);
        assert_eq!(recs[1]["code"], &sha256[2..], "SHA-256 at T={t}");
        assert_eq!(recs[1]["hash"], "sha256");
        assert_eq!(recs[2]["type"], "summary");
        assert_eq!(recs[2]["ok"], 2);
    }
}

#[test]
fn leading_zero_codes_stay_zero_padded_strings() {
    // SHA-1 at T=1111111109 is 07081804 (8 digits) → "081804"; T=1234567890 → "005924".
    let csv = format!("upn,serial number,secret key\na@contoso.com,S1,{}\n", b32(SEED_SHA1));
    for (t, want) in [(1_111_111_109u64, "081804"), (1_234_567_890, "005924")] {
        let recs = otp_lines(&csv, &t.to_string());
        assert!(recs[0]["code"].is_string(), "{:?}", recs[0]);
        assert_eq!(recs[0]["code"], want);
    }
}

#[test]
fn sixty_second_step_uses_its_own_counter() {
    // Same seed, 60 s: the counter is floor(T/60), i.e. the 30 s code of step T/60.
    let t = 1_234_567_890u64;
    let c = code_at(SEED_SHA1, HashFunction::Sha1, 60, t);
    assert_eq!(c.step, t / 60);
    assert_eq!(c.code, code_for_step(SEED_SHA1, HashFunction::Sha1, 30, t / 60, 6));
    assert_eq!(c.valid_for, 60 - (t % 60) as u32);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]
    #[test]
    fn code_at_agrees_with_code_for_step_and_verify(
        secret in proptest::collection::vec(any::<u8>(), 10..=64),
        t in 0u64..40_000_000_000,
        sixty in any::<bool>(),
        sha256 in any::<bool>(),
    ) {
        let period = if sixty { 60 } else { 30 };
        let hash = if sha256 { HashFunction::Sha256 } else { HashFunction::Sha1 };
        let c = code_at(&secret, hash, period, t);
        prop_assert_eq!(c.code.len(), 6);
        prop_assert!(c.code.bytes().all(|b| b.is_ascii_digit()));
        prop_assert_eq!(c.step, t / u64::from(period));
        prop_assert!(c.valid_for >= 1 && c.valid_for <= period);
        prop_assert_eq!(&c.code, &code_for_step(&secret, hash, period, c.step, 6));
        prop_assert_eq!(verify(&secret, hash, period, t, &c.code, 0, 0), Some(Verified { step: c.step, offset: 0 }));
    }
}
