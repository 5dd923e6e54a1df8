//! The layering holds (docs/architecture.md): dependencies point down only. A module below
//! `cli` never imports `cli`; `http` only sends (it knows no backend and no planner); the
//! request engine knows no rows, backends or commands; the exit-code list is a leaf.

use std::fs;
use std::path::{Path, PathBuf};

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// Source lines that are code (comments and doc comments dropped).
fn code_of(path: &Path) -> String {
    fs::read_to_string(path)
        .unwrap()
        .lines()
        .filter(|l| !l.trim_start().starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n")
}

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

fn files_under(rel: &str) -> Vec<PathBuf> {
    let root = src().join(rel);
    let mut out = Vec::new();
    if root.is_dir() {
        rust_files(&root, &mut out);
    } else {
        out.push(root.with_extension("rs"));
    }
    out
}

fn assert_no_import(files: &[PathBuf], forbidden: &[&str], why: &str) {
    let mut offenders = Vec::new();
    for f in files {
        let code = code_of(f);
        for module in forbidden {
            if code.contains(&format!("crate::{module}::")) || code.contains(&format!("crate::{module};")) {
                offenders.push(format!("{} imports crate::{module}", f.strip_prefix(src()).unwrap().display()));
            }
        }
    }
    assert!(offenders.is_empty(), "{why}:\n{}", offenders.join("\n"));
}

#[test]
fn nothing_below_cli_imports_cli() {
    let mut files = Vec::new();
    rust_files(&src(), &mut files);
    files.retain(|f| !f.starts_with(src().join("cli")) && !f.ends_with("main.rs") && !f.ends_with("lib.rs"));
    assert!(files.len() > 20, "the scan found the sources");
    assert_no_import(&files, &["cli"], "modules below cli must not import it");
}

#[test]
fn http_only_sends() {
    assert_no_import(
        &files_under("http"),
        &["backend", "activate", "lifecycle", "cli"],
        "http knows no backend, planner or command",
    );
}

#[test]
fn the_engine_knows_no_rows_backends_or_commands() {
    assert_no_import(
        &files_under("engine"),
        &["backend", "activate", "lifecycle", "cli", "inventory", "pipeline", "http"],
        "the engine knows nothing of rows, APIs or which command planned the step",
    );
}

#[test]
fn exit_codes_are_a_leaf() {
    let code = code_of(&src().join("stop.rs"));
    assert!(!code.contains("crate::"), "stop.rs must import nothing from the crate");
}
