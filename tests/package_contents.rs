//! `cargo package --list`: what `cargo publish` uploads (and `cargo install oathbulk`
//! builds) holds the sources and their docs, and nothing large or secret: no build output,
//! no package folder, no token files, no keys, no CSVs of seeds.

use std::path::Path;
use std::process::Command;

/// Any one file above this is a mistake (the largest source file is far below).
const MAX_FILE_BYTES: u64 = 256 * 1024;
const MAX_TOTAL_BYTES: u64 = 4 * 1024 * 1024;

#[test]
fn the_published_crate_holds_nothing_large_or_secret() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(cargo)
        .args(["package", "--list", "--allow-dirty", "--offline"])
        .current_dir(root)
        .output()
        .expect("cargo runs");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let list = String::from_utf8(out.stdout).unwrap();
    let files: Vec<&str> = list.lines().map(str::trim).filter(|l| !l.is_empty()).collect();

    for required in
        ["Cargo.toml", "Cargo.lock", "README.md", "LICENSE", "src/main.rs", "src/lib.rs", "src/auth/store.rs"]
    {
        assert!(files.contains(&required), "{required} is not in the package: {files:?}");
    }
    let mut total = 0;
    for f in &files {
        for dir in ["target/", "dist/", "powershell/", "packaging/", ".github/", ".ci/", "benches/", "examples/"] {
            assert!(!f.starts_with(dir), "{f}: {dir} does not belong in the crate");
        }
        let name = f.rsplit('/').next().unwrap().to_ascii_lowercase();
        assert!(!["authkey.txt", ".env", "secret.txt", "token.txt"].contains(&name.as_str()), "{f}: a secret file");
        for ext in [".pem", ".pfx", ".p12", ".key", ".csv", ".jsonl", ".zip"] {
            assert!(!name.ends_with(ext), "{f}: no {ext} in the crate");
        }
        // Cargo writes Cargo.toml.orig and .cargo_vcs_info.json itself; the rest are ours.
        if let Ok(meta) = std::fs::metadata(root.join(f)) {
            assert!(meta.len() <= MAX_FILE_BYTES, "{f} is {} bytes", meta.len());
            total += meta.len();
        }
    }
    assert!(total <= MAX_TOTAL_BYTES, "the crate is {total} bytes");
}
