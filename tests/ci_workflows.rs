//! README's "Where each platform is tested" is true of the workflows: every job it names
//! (`ci.yml` job `test` on `windows-latest`) exists in `.github/workflows/`, runs on the
//! platform named, and runs every command the same table row names. actionlint (in
//! `.ci/test`) checks that the workflows are valid; this checks that they are the ones the
//! README describes.

use std::path::Path;

fn repo_file(rel: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(rel);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// README's section under `heading`, up to the next heading of the same or a higher level.
fn section<'a>(readme: &'a str, heading: &str) -> &'a str {
    let start = readme.find(heading).unwrap_or_else(|| panic!("README has no {heading:?}"));
    let level = heading.chars().take_while(|&c| c == '#').count();
    let body = &readme[start + heading.len()..];
    let end = body
        .match_indices("\n#")
        .find(|(i, _)| body[i + 1..].chars().take_while(|&c| c == '#').count() <= level)
        .map_or(body.len(), |(i, _)| i);
    &body[..end]
}

/// The lines of job `name`'s block in a workflow: from `  name:` under `jobs:` up to the next
/// job (a line indented by exactly two spaces), `None` when there is no such job.
fn job_block<'a>(workflow: &'a str, name: &str) -> Option<Vec<&'a str>> {
    // trim_end: a checkout with CRLF line ends (Git's autocrlf on Windows) reads the same.
    let mut lines = workflow.lines().skip_while(|l| l.trim_end() != "jobs:").skip(1);
    let header = format!("  {name}:");
    lines.find(|l| l.trim_end() == header)?;
    let top_level = |l: &&str| l.starts_with("  ") && !l.starts_with("   ") && !l.trim().starts_with('#');
    Some(lines.take_while(|l| !top_level(l) && !(l.starts_with(|c: char| !c.is_whitespace()))).collect())
}

/// One reference: `WORKFLOW` job `JOB` on `RUNNER`, and the commands named after it in the
/// same table row.
#[derive(Debug)]
struct JobRef {
    workflow: String,
    job: String,
    runner: String,
    commands: Vec<String>,
}

/// Code spans that read as commands: what a job must run verbatim.
fn is_command(span: &str) -> bool {
    ["bash ", "cargo ", "Invoke-Pester "].iter().any(|p| span.starts_with(p))
}

/// Every `X.yml` job `J` on `R` in a table cell, with the commands in that cell.
fn job_refs(section: &str) -> Vec<JobRef> {
    let mut refs = Vec::new();
    for cell in section.lines().filter(|l| l.starts_with('|')).flat_map(|l| l.split('|')) {
        // Split on backticks: odd parts are code spans, even parts the text between them.
        let parts: Vec<&str> = cell.split('`').collect();
        let mut i = 1;
        while i + 4 < parts.len() {
            if parts[i].ends_with(".yml") && parts[i + 1] == " job " && parts[i + 3] == " on " {
                refs.push(JobRef {
                    workflow: parts[i].to_string(),
                    job: parts[i + 2].to_string(),
                    runner: parts[i + 4].to_string(),
                    commands: parts
                        .iter()
                        .skip(i + 6)
                        .step_by(2)
                        .filter(|s| is_command(s))
                        .map(|s| s.to_string())
                        .collect(),
                });
                i += 6;
            } else {
                i += 2;
            }
        }
    }
    refs
}

#[test]
fn every_job_the_readme_names_exists_on_its_platform_and_runs_its_commands() {
    let readme = repo_file("README.md");
    let refs = job_refs(section(&readme, "### Where each platform is tested"));
    // The three CI platforms and the release's package tests, at least: a table that lost its
    // rows would otherwise pass.
    for runner in ["ubuntu-latest", "macos-latest", "windows-latest"] {
        assert!(
            refs.iter().any(|r| r.workflow == "ci.yml" && r.runner == runner),
            "README names no ci.yml job on {runner}: {refs:#?}"
        );
    }
    assert!(refs.iter().filter(|r| r.workflow == "release.yml").count() >= 4, "{refs:#?}");
    for r in &refs {
        let workflow = repo_file(&format!(".github/workflows/{}", r.workflow));
        let block = job_block(&workflow, &r.job)
            .unwrap_or_else(|| panic!("README names job {:?} of {}, which has no such job", r.job, r.workflow));
        let text = block.join("\n");
        let runner_named = block.iter().any(|l| {
            let l = l.trim();
            (l.starts_with("runs-on:") || l.starts_with("os:") || l.starts_with("- {") || l.starts_with('['))
                && l.contains(&r.runner)
        });
        assert!(runner_named, "job {} of {} does not run on {} (README says it does)", r.job, r.workflow, r.runner);
        for c in &r.commands {
            assert!(
                text.contains(c.as_str()),
                "job {} of {} does not run `{c}` (README says it does)",
                r.job,
                r.workflow
            );
        }
    }
}

#[test]
fn the_job_reader_finds_jobs_and_only_their_own_lines() {
    let wf = "on: push\njobs:\n  a:\n    runs-on: x\n    steps:\n      - run: one\n\n  b:\n    runs-on: y\n";
    assert_eq!(job_block(wf, "a").unwrap().join("\n"), "    runs-on: x\n    steps:\n      - run: one\n");
    assert_eq!(job_block(wf, "b").unwrap(), vec!["    runs-on: y"]);
    assert!(job_block(wf, "runs-on").is_none());
    assert!(job_block(wf, "c").is_none());
    let row = "| x | `ci.yml` job `test` on `macos-latest`: `cargo nextest run`, `other` | `r.yml` job `p` on `m` |";
    let refs = job_refs(row);
    assert_eq!(refs.len(), 2, "{refs:#?}");
    assert_eq!((refs[0].job.as_str(), refs[0].runner.as_str()), ("test", "macos-latest"));
    assert_eq!(refs[0].commands, vec!["cargo nextest run"]);
    assert_eq!((refs[1].workflow.as_str(), refs[1].job.as_str(), refs[1].runner.as_str()), ("r.yml", "p", "m"));
}
