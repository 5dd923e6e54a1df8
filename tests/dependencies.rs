//! Every crate Cargo.toml declares is used (issue 26: `governor` and `fs4` sat unused). What
//! `cargo machete` checks, without installing it: a `[dependencies]` crate must be named
//! (`name::` or `use name`) somewhere under src/, a `[dev-dependencies]` crate under src/,
//! tests/ or benches/. A crate used only through a macro or a feature can be listed below,
//! with why.

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
            out.push_str(&std::fs::read_to_string(&path).unwrap());
        }
    }
}

/// The crate names of one `[section]` of Cargo.toml.
fn declared(manifest: &str, section: &str) -> Vec<String> {
    let mut names = Vec::new();
    let mut inside = false;
    for line in manifest.lines() {
        let line = line.trim();
        if line.starts_with('[') {
            inside = line == section;
        } else if inside && !line.is_empty() && !line.starts_with('#') {
            if let Some((name, _)) = line.split_once('=') {
                names.push(name.trim().replace('-', "_"));
            }
        }
    }
    names
}

fn used(code: &str, name: &str) -> bool {
    code.contains(&format!("{name}::")) || code.contains(&format!("use {name}")) || code.contains(&format!("{name}!"))
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
    let mut deps = declared(&manifest, "[dependencies]");
    deps.extend(declared(&manifest, "[target.'cfg(unix)'.dependencies]"));
    assert!(deps.len() > 10, "the manifest was read: {deps:?}");
    let mut unused = Vec::new();
    for (section, code, names) in
        [("[dependencies]", &src, deps), ("[dev-dependencies]", &all, declared(&manifest, "[dev-dependencies]"))]
    {
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
