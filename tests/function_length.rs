//! No function in `src/` is longer than one screenful and a half (issue 26): a function a
//! newcomer can read at once. Lines are counted from the line of `fn` to the line of the body's
//! closing brace, comments and blank lines included (they are read too). The scan is a brace
//! counter over the source with comments, strings and character literals blanked out — enough
//! for Rust as this crate writes it, and checked below on the forms that would fool it.

use std::fs;
use std::path::{Path, PathBuf};

#[path = "common/source.rs"]
mod source;
use source::rust_files;

const MAX_LINES: usize = 120;

/// Functions allowed over the limit, each with the reason it still is. Matched by file name
/// (not directory, so a move keeps the entry) and function name. An entry that is no longer
/// over the limit fails the test: the list only shrinks.
const ALLOWED: &[(&str, &str, &str)] = &[];

struct Function {
    file: PathBuf,
    name: String,
    first_line: usize,
    lines: usize,
}

/// The source with the text of comments, strings and character literals replaced by spaces,
/// newlines kept, so braces inside them are not counted and line numbers stay true.
fn blank_out(src: &str) -> String {
    let s: Vec<char> = src.chars().collect();
    let mut out = String::with_capacity(src.len());
    let blank = |c: char| if c == '\n' { '\n' } else { ' ' };
    let mut i = 0;
    while i < s.len() {
        let c = s[i];
        let next = s.get(i + 1).copied();
        if c == '/' && next == Some('/') {
            while i < s.len() && s[i] != '\n' {
                out.push(' ');
                i += 1;
            }
        } else if c == '/' && next == Some('*') {
            let mut depth = 0;
            loop {
                if i >= s.len() {
                    break;
                }
                if s[i] == '/' && s.get(i + 1) == Some(&'*') {
                    depth += 1;
                    out.push_str("  ");
                    i += 2;
                } else if s[i] == '*' && s.get(i + 1) == Some(&'/') {
                    depth -= 1;
                    out.push_str("  ");
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    out.push(blank(s[i]));
                    i += 1;
                }
            }
        } else if let Some(hashes) = raw_string_start(&s, i) {
            // r"…", r#"…"#, br"…": no escapes; ends at the quote followed by as many hashes.
            let open = i + hashes.1;
            out.extend(std::iter::repeat_n(' ', open + 1 - i));
            i = open + 1;
            while i < s.len() {
                if s[i] == '"' && (0..hashes.0).all(|k| s.get(i + 1 + k) == Some(&'#')) {
                    out.extend(std::iter::repeat_n(' ', hashes.0 + 1));
                    i += hashes.0 + 1;
                    break;
                }
                out.push(blank(s[i]));
                i += 1;
            }
        } else if c == '"' {
            out.push(' ');
            i += 1;
            while i < s.len() && s[i] != '"' {
                let step = if s[i] == '\\' { 2 } else { 1 };
                for k in 0..step {
                    if let Some(&ch) = s.get(i + k) {
                        out.push(blank(ch));
                    }
                }
                i += step;
            }
            out.push(' ');
            i += 1;
        } else if c == '\'' && is_char_literal(&s, i) {
            out.push(' ');
            i += 1;
            while i < s.len() && s[i] != '\'' {
                let step = if s[i] == '\\' { 2 } else { 1 };
                out.extend(std::iter::repeat_n(' ', step));
                i += step;
            }
            out.push(' ');
            i += 1;
        } else {
            out.push(c);
            i += 1;
        }
    }
    out
}

/// At `i`, a raw string opens: (number of hashes, offset of its opening quote).
fn raw_string_start(s: &[char], i: usize) -> Option<(usize, usize)> {
    let prev_is_ident = i > 0 && (s[i - 1].is_alphanumeric() || s[i - 1] == '_');
    if prev_is_ident {
        return None;
    }
    let mut j = i;
    if s.get(j) == Some(&'b') {
        j += 1;
    }
    if s.get(j) != Some(&'r') {
        return None;
    }
    j += 1;
    let hashes = s[j..].iter().take_while(|c| **c == '#').count();
    (s.get(j + hashes) == Some(&'"')).then_some((hashes, j + hashes - i))
}

/// `'x'`, `'\n'`, `'\u{1F600}'` are character literals; `'a` in `&'a str` is a lifetime.
fn is_char_literal(s: &[char], i: usize) -> bool {
    match s.get(i + 1) {
        Some('\\') => true,
        Some(_) => s.get(i + 2) == Some(&'\''),
        None => false,
    }
}

fn is_ident(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// Every function with a body in one file's blanked source.
fn functions_in(file: &Path, code: &str) -> Vec<Function> {
    let s: Vec<char> = code.chars().collect();
    let line_of = |at: usize| s[..at].iter().filter(|c| **c == '\n').count() + 1;
    let mut found = Vec::new();
    for i in 0..s.len().saturating_sub(2) {
        let is_fn_keyword = s[i] == 'f'
            && s[i + 1] == 'n'
            && (i == 0 || !is_ident(s[i - 1]))
            && s.get(i + 2).is_some_and(|c| c.is_whitespace());
        if !is_fn_keyword {
            continue;
        }
        let name_start = i + 2 + s[i + 2..].iter().take_while(|c| c.is_whitespace()).count();
        let name: String = s[name_start..].iter().take_while(|c| is_ident(**c)).collect();
        if name.is_empty() {
            continue; // `fn(u32) -> u32`, a pointer type
        }
        if let Some(close) = body_end(&s, name_start) {
            let first_line = line_of(i);
            let lines = line_of(close) - first_line + 1;
            found.push(Function { file: file.to_path_buf(), name, first_line, lines });
        }
    }
    found
}

/// The index of the closing brace of the body that follows a signature starting at `from`, or
/// `None` for a declaration without a body (`fn f();` in a trait).
fn body_end(s: &[char], from: usize) -> Option<usize> {
    let mut parens = 0i32;
    let mut j = from;
    while j < s.len() {
        match s[j] {
            '(' | '[' => parens += 1,
            ')' | ']' => parens -= 1,
            ';' if parens == 0 => return None,
            '{' if parens == 0 => break,
            _ => {}
        }
        j += 1;
    }
    let mut depth = 0i32;
    for (k, c) in s.iter().enumerate().skip(j) {
        match c {
            '{' => depth += 1,
            '}' => {
                depth -= 1;
                if depth == 0 {
                    return Some(k);
                }
            }
            _ => {}
        }
    }
    None
}

fn all_functions() -> Vec<Function> {
    let src = source::src();
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    files.sort();
    files
        .iter()
        .flat_map(|f| {
            let relative = f.strip_prefix(&src).unwrap().to_path_buf();
            functions_in(&relative, &blank_out(&fs::read_to_string(f).unwrap()))
        })
        .collect()
}

fn allowed(f: &Function) -> bool {
    ALLOWED.iter().any(|(file, name, _)| f.file.ends_with(file) && f.name == *name)
}

#[test]
fn no_function_in_src_is_over_the_limit() {
    let functions = all_functions();
    assert!(functions.len() > 500, "the scan found the functions ({})", functions.len());
    let long: Vec<String> = functions
        .iter()
        .filter(|f| f.lines > MAX_LINES && !allowed(f))
        .map(|f| format!("{}:{} {} is {} lines", f.file.display(), f.first_line, f.name, f.lines))
        .collect();
    assert!(
        long.is_empty(),
        "functions over {MAX_LINES} lines (split them into named steps with one job each):\n{}",
        long.join("\n")
    );
}

#[test]
fn every_allowed_function_is_still_over_the_limit() {
    let functions = all_functions();
    for (file, name, why) in ALLOWED {
        let over = functions.iter().any(|f| f.file.ends_with(file) && f.name == *name && f.lines > MAX_LINES);
        assert!(over, "{file}::{name} is no longer over {MAX_LINES} lines (or gone): remove it from ALLOWED ({why})");
    }
}

#[test]
fn the_scanner_is_not_fooled_by_braces_in_text_or_by_declarations() {
    let code = r##"
trait T { fn declared(&self) -> u8; }
fn outer<'a>(x: &'a str) -> u8 {
    let brace = '{';
    let escaped = '\'';
    let s = "}}} \" {";
    let raw = r#"}"#;
    // }
    /* } /* nested } */ */
    let f: fn(u8) -> u8 = inner;
    fn inner(x: u8) -> u8 {
        x
    }
    0
}
"##;
    let found = functions_in(Path::new("t.rs"), &blank_out(code));
    let summary: Vec<(String, usize, usize)> = found.iter().map(|f| (f.name.clone(), f.first_line, f.lines)).collect();
    assert_eq!(summary, [("outer".to_string(), 3, 13), ("inner".to_string(), 11, 3)]);
}
