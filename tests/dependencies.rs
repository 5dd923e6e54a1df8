//! Every crate Cargo.toml declares is used (issue 26: `governor` and `fs4` sat unused). What
//! `cargo machete` checks, without installing it (so it runs wherever `bash .ci/test` and
//! nextest run, on every CI platform, with no tool to fetch): a crate of any
//! `[…dependencies]` section, for any target, must be named in code (`name::`, `use name`,
//! `name!`; comments do not count) under src/, a `[…dev-dependencies]` crate under src/,
//! tests/ or benches/, a `[build-dependencies]` crate in build.rs. A crate used only
//! through a macro or a feature can be listed below, with why.

use std::path::Path;

/// Crates used without being named in code, and why.
const NOT_NAMED: &[(&str, &str)] = &[];
/// Crates whose library has another name than the package.
const LIBRARY_NAME: &[(&str, &str)] = &[("rustls_webpki", "webpki")];

fn sources(dir: &Path, out: &mut String) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for entry in entries {
        let path = entry.unwrap().path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            // Code only: a crate named in a comment is not used.
            for line in std::fs::read_to_string(&path).unwrap().lines() {
                if !line.trim_start().starts_with("//") {
                    out.push_str(line);
                    out.push('\n');
                }
            }
        }
    }
}

/// Which kind of dependency a `[section]` header declares: `dependencies`,
/// `dev-dependencies` or `build-dependencies`, for every target (`[target.'cfg(…)'.…]`).
fn kind(header: &str) -> Option<&'static str> {
    let header = header.trim_end_matches(']');
    ["dev-dependencies", "build-dependencies", "dependencies"]
        .into_iter()
        .find(|k| header == format!("[{k}") || header.ends_with(&format!(".{k}")))
}

/// The crate names of every section of one kind of Cargo.toml.
fn declared(manifest: &str, section: &str) -> Vec<String> {
    let mut names = Vec::new();
    let mut inside = false;
    for line in manifest.lines() {
        let line = line.trim();
        if line.starts_with('[') {
            inside = kind(line) == Some(section);
        } else if inside && !line.is_empty() && !line.starts_with('#') {
            if let Some((name, _)) = line.split_once('=') {
                names.push(name.trim().replace('-', "_"));
            }
        }
    }
    names
}

/// `name` is named as a crate: `name::`, `use name` or `name!`, where `name` is a whole
/// path segment (not the end of `std::time::` for `time`, nor `crate::http::` for `http`).
fn used(code: &str, name: &str) -> bool {
    code.match_indices(name).any(|(at, _)| {
        let before = code[..at].chars().next_back();
        let after = &code[at + name.len()..];
        let starts_path = !before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == ':');
        let named = after.starts_with("::") || after.starts_with('!') || code[..at].ends_with("use ");
        let whole = !after.chars().next().is_some_and(|c| c.is_alphanumeric() || c == '_');
        starts_path && whole && named
    })
}

#[test]
fn every_declared_crate_is_used() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let manifest = std::fs::read_to_string(root.join("Cargo.toml")).unwrap();
    let mut src = String::new();
    sources(&root.join("src"), &mut src);
    let mut all = src.clone();
    sources(&root.join("tests"), &mut all);
    sources(&root.join("benches"), &mut all);
    let deps = declared(&manifest, "dependencies");
    assert!(deps.len() > 10 && deps.iter().any(|d| d == "libc"), "the manifest was read, targets too: {deps:?}");
    let mut build = String::new();
    if let Ok(script) = std::fs::read_to_string(root.join("build.rs")) {
        build.push_str(&script);
    }
    let mut unused = Vec::new();
    for (section, code, names) in [
        ("[dependencies]", &src, deps),
        ("[dev-dependencies]", &all, declared(&manifest, "dev-dependencies")),
        ("[build-dependencies]", &build, declared(&manifest, "build-dependencies")),
    ] {
        for name in names {
            let lib = LIBRARY_NAME.iter().find(|(n, _)| *n == name).map_or(name.as_str(), |(_, lib)| lib);
            if !used(code, lib) && !NOT_NAMED.iter().any(|(n, _)| *n == name) {
                unused.push(format!("{section} {name}"));
            }
        }
    }
    assert!(
        unused.is_empty(),
        "declared but used nowhere (remove them, or list them in NOT_NAMED with why): {unused:?}"
    );
}

#[test]
fn a_crate_is_seen_by_its_own_name_only() {
    // What a substring search would take for a use of `time`, `http` or `url`.
    assert!(!used("let t = std::time::Instant::now();", "time"));
    assert!(!used("crate::http::send(x)", "http"));
    assert!(!used("let x = base_url::join(y);", "url"));
    assert!(!used("serde_json::json!({})", "serde"));
    assert!(!used("use urlencoding;", "url"));
    // The ways code names a crate.
    assert!(used("use url::Url;", "url"));
    assert!(used("let u = url::Url::parse(s);", "url"));
    assert!(used("#[tokio::main]", "tokio"));
    assert!(used("use anyhow;", "anyhow"));
    assert!(used("(anyhow!(\"x\"))", "anyhow"));
}

#[test]
fn every_section_kind_is_read_for_every_target() {
    let manifest = "[dependencies]\na = \"1\"\n[target.'cfg(windows)'.dependencies]\nb = \"1\"\n\
                    [dev-dependencies]\nc = \"1\"\n[target.'cfg(unix)'.dev-dependencies]\nd = \"1\"\n\
                    [build-dependencies]\ne = \"1\"\n[profile.release]\nlto = true\n";
    assert_eq!(declared(manifest, "dependencies"), ["a", "b"]);
    assert_eq!(declared(manifest, "dev-dependencies"), ["c", "d"]);
    assert_eq!(declared(manifest, "build-dependencies"), ["e"]);
}
