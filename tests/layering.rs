//! The layering holds (docs/architecture.md): every module of `src/` has a place in one
//! ordered list, and imports only modules below its own place — so there is no cycle, and a
//! new module cannot join without being placed. On top of the order, each "knows nothing of"
//! of docs/architecture.md is a rule checked *transitively*: a module may not reach what it
//! knows nothing of through any chain of imports.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

#[path = "common/source.rs"]
mod source;
use source::{rust_files, src};

/// Bottom first. A module may import only modules listed before it.
#[rustfmt::skip]
const ORDER: &[&str] = &[
    // Leaves: they import nothing from the crate.
    "stop", "clock", "otp", "proxy", "api_error", "text", "limits", "throttle_hint",
    // Secrets kept out of every printed line; the wire format; the rows.
    "redact", "record", "inventory", "jsonl", "journal",
    // What people see.
    "human", "table", "diag", "output",
    // Seed files as vendors ship them; rows through scripts.
    "vendor", "script", "pipeline",
    // When requests go, and how they are sent.
    "engine", "http_guard", "auth", "http", "backend",
    // What a planner holds: the API, the engine, the clock.
    "context",
    // Where results go; the planners; what a helpdesk and a run report read.
    "sink", "activate", "lifecycle", "status", "report",
    // The fake tenant; the command line (clap, and its arguments resolved into settings);
    // what each subcommand does, on top of everything.
    "simulate", "cli", "commands",
];

/// `module` reaches none of `unknown`, by any chain of imports.
const KNOWS_NOTHING_OF: &[(&str, &[&str], &str)] = &[
    (
        "engine",
        &[
            "inventory",
            "pipeline",
            "script",
            "http",
            "backend",
            "context",
            "sink",
            "activate",
            "lifecycle",
            "cli",
            "commands",
        ],
        "the engine knows no rows, CSV, APIs or which command planned the step",
    ),
    (
        "http",
        &["inventory", "pipeline", "backend", "sink", "activate", "lifecycle", "cli", "commands"],
        "http sends: it knows no rows, no API and no planner",
    ),
    ("http_guard", &["inventory", "backend", "http"], "what http refuses is decided without rows or APIs"),
    ("inventory", &["http", "http_guard", "backend", "engine", "auth", "proxy"], "the CSV reader knows no network"),
    (
        "record",
        &["inventory", "backend", "engine", "sink", "activate", "lifecycle", "cli", "commands"],
        "the wire format knows nobody who produces records",
    ),
    ("journal", &["activate", "lifecycle", "backend", "engine"], "the journal format knows no meaning of its records"),
    (
        "output",
        &["activate", "lifecycle", "backend", "engine", "sink", "http"],
        "stdout knows no meaning of the records",
    ),
    ("diag", &["activate", "lifecycle", "backend", "engine", "sink", "http"], "stderr knows no meaning of the records"),
    (
        "pipeline",
        &["activate", "lifecycle", "backend", "engine", "http", "sink"],
        "the row source knows not what rows are for",
    ),
    ("script", &["output", "http", "backend", "engine"], "scripts reach neither output nor the network"),
    ("auth", &["backend", "inventory", "engine", "activate", "lifecycle", "sink"], "sign-in knows nothing else"),
    (
        "backend",
        &["script", "pipeline", "output", "sink", "activate", "lifecycle", "cli", "commands"],
        "the APIs know no scripts, output or planners",
    ),
    ("sink", &["activate", "lifecycle", "cli", "commands"], "the sink knows not which command made a record"),
    (
        "simulate",
        &["http", "http_guard", "backend", "auth", "engine"],
        "the simulator shares no client code, so a client bug cannot hide behind a matching one",
    ),
    ("cli", &["commands"], "the command line parses and resolves settings; it knows not what the commands do"),
];

/// Source lines that are code (comments and doc comments dropped).
fn code_of(path: &Path) -> String {
    fs::read_to_string(path)
        .unwrap()
        .lines()
        .filter(|l| !l.trim_start().starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The crate's top-level modules: `src/X.rs` and `src/X/`, but the two roots.
fn modules() -> BTreeMap<String, Vec<PathBuf>> {
    let mut out = BTreeMap::new();
    for entry in fs::read_dir(src()).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_stem().unwrap().to_string_lossy().into_owned();
        if name == "main" || name == "lib" {
            continue;
        }
        let mut files = Vec::new();
        if path.is_dir() {
            rust_files(&path, &mut files);
        } else {
            files.push(path);
        }
        out.insert(name, files);
    }
    out
}

/// The identifiers right after `crate::` (and inside `use crate::{…}` groups).
fn imported(code: &str) -> BTreeSet<String> {
    let ident = |s: &str| s.chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect::<String>();
    let mut out = BTreeSet::new();
    for (i, _) in code.match_indices("crate::") {
        let rest = &code[i + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            let group = &group[..group.find('}').unwrap_or(group.len())];
            out.extend(group.split(',').map(|item| ident(item.trim())).filter(|s| !s.is_empty()));
        } else {
            out.insert(ident(rest));
        }
    }
    out
}

/// Each module's direct imports of other top-level modules.
fn graph() -> BTreeMap<String, BTreeSet<String>> {
    let modules = modules();
    let mut graph = BTreeMap::new();
    for (name, files) in &modules {
        let deps: BTreeSet<String> =
            files.iter().flat_map(|f| imported(&code_of(f))).filter(|d| d != name && modules.contains_key(d)).collect();
        graph.insert(name.clone(), deps);
    }
    graph
}

fn reach(graph: &BTreeMap<String, BTreeSet<String>>, from: &str) -> BTreeSet<String> {
    let mut seen = BTreeSet::new();
    let mut stack = vec![from.to_string()];
    while let Some(m) = stack.pop() {
        for d in &graph[&m] {
            if seen.insert(d.clone()) {
                stack.push(d.clone());
            }
        }
    }
    seen
}

#[test]
fn every_module_has_a_place_in_the_order() {
    let graph = graph();
    assert!(graph.len() > 20, "the scan found the sources");
    let listed: BTreeSet<String> = ORDER.iter().map(|s| s.to_string()).collect();
    let unplaced: Vec<&String> = graph.keys().filter(|m| !listed.contains(*m)).collect();
    let gone: Vec<&String> = listed.iter().filter(|m| !graph.contains_key(*m)).collect();
    assert!(unplaced.is_empty(), "modules with no place in ORDER (add them where they belong): {unplaced:?}");
    assert!(gone.is_empty(), "ORDER names modules that no longer exist: {gone:?}");
}

#[test]
fn every_import_points_down() {
    let graph = graph();
    let place = |m: &str| ORDER.iter().position(|o| *o == m);
    let mut upward = Vec::new();
    for (module, deps) in &graph {
        let Some(mine) = place(module) else { continue };
        for d in deps {
            if place(d).is_some_and(|theirs| theirs >= mine) {
                upward.push(format!("{module} imports {d}, which is not below it"));
            }
        }
    }
    assert!(upward.is_empty(), "imports that point up or sideways (a cycle waiting to happen):\n{}", upward.join("\n"));
}

#[test]
fn no_module_reaches_what_it_knows_nothing_of() {
    let graph = graph();
    let mut broken = Vec::new();
    for (module, unknown, why) in KNOWS_NOTHING_OF {
        let reached = reach(&graph, module);
        for u in unknown.iter().filter(|u| reached.contains(**u)) {
            broken.push(format!("{module} reaches {u} ({why})"));
        }
    }
    assert!(broken.is_empty(), "{}", broken.join("\n"));
}

#[test]
fn the_scanner_sees_every_form_of_import() {
    let code = "use crate::{a, b::c};\nlet x = crate::d::e();\nuse crate::f;";
    let found: Vec<String> = imported(code).into_iter().collect();
    assert_eq!(found, ["a", "b", "d", "f"]);
}

#[test]
fn exit_codes_are_a_leaf() {
    assert!(graph()["stop"].is_empty(), "stop.rs must import nothing from the crate");
}
