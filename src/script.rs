//! The sandboxed rhai engine for `--where`, `--order-by` and `--script`:
//! compiled once, run per row.
//!
//! # The row
//!
//! Every script sees one CSV row as a rhai object map (`row`):
//!
//! | field           | type              | notes                                             |
//! |-----------------|-------------------|---------------------------------------------------|
//! | `line`          | int               | CSV line the row starts on (header = 1); read-only |
//! | `upn`           | string            |                                                   |
//! | `serial`        | string            |                                                   |
//! | `manufacturer`  | string            | `""` when absent                                  |
//! | `model`         | string            | `""` when absent                                  |
//! | `time_interval` | int               | 30 or 60                                          |
//! | `hash`          | string            | `"sha1"` or `"sha256"`                            |
//! | `display_name`  | string or `()`    |                                                   |
//! | `secret_bits`   | int or `()`       | `()` when the CSV has no secret column; read-only |
//! | `extra`         | map               | columns the tool does not know, by original header: `row.extra["Cost Center"]` |
//! | `secret`        | string or `()`    | canonical Base32, **only** with `--reveal-secrets`; read-only |
//!
//! Extra columns live under `row.extra` (never at the top level) so a vendor column
//! called `line` or `extra` can never shadow a field. Reading a field that does not
//! exist (`row.uppn`) is an error rather than `()`, so a typo cannot silently filter
//! every row out; test optional keys with `"Cost Center" in row.extra`.
//!
//! # Stages
//!
//! Per row, in this order: `fn filter(row)` → `fn map(row)` → `--where` → sort key
//! (`--order-by`, else `fn key(row)`). `--where` and `--order-by` therefore see the row
//! exactly as it will be printed (after `map`). `--order-by` replaces a script's
//! `fn key`. Each stage gets its own copy of the row: only `map`'s return value
//! changes it.
//!
//! # Sandbox
//!
//! No modules (`no_module`), no `eval`, no file or network access (rhai has none and
//! none is registered). `print`/`debug` go to stderr as `script: line N: …`, never to
//! stdout (the JSON stream). Each stage run gets its own budget ([`MAX_OPERATIONS`]
//! operations, [`MAX_STRING_SIZE`] bytes per string, …); exceeding one is a
//! `script_limit` row error, and the other rows go on.

use crate::inventory::{is_upn, Row, RowError};
use crate::otp::HashFunction;
use anyhow::{bail, Context};
use rhai::{
    CallFnOptions, Dynamic, Engine, EvalAltResult, ImmutableString, Map, NativeCallContext, ParseError, ParseErrorType,
    Position, Scope, AST,
};
use std::cmp::Ordering;
use std::collections::HashMap;
use std::io::Write;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering as AtomicOrdering};
use std::sync::Arc;

/// Operations one stage may run for one row (a `loop {}` ends here, in milliseconds).
pub const MAX_OPERATIONS: u64 = 100_000;
/// Bytes in any one string a script builds.
pub const MAX_STRING_SIZE: usize = 64 * 1024;
/// Elements in any one array a script builds.
pub const MAX_ARRAY_SIZE: usize = 10_000;
/// Entries in any one object map a script builds.
pub const MAX_MAP_SIZE: usize = 10_000;
/// Nested function calls (endless recursion ends here).
pub const MAX_CALL_LEVELS: usize = 32;
/// Nesting of expressions at top level and inside functions (checked when compiling).
pub const MAX_EXPR_DEPTH: (usize, usize) = (64, 32);
/// Variables alive at once.
pub const MAX_VARIABLES: usize = 1_000;

/// Row error code for a script that failed (runtime error, wrong return type, `throw`).
pub const SCRIPT_ERROR: &str = "script_error";
/// Row error code for a script that ran out of a budget (operations, sizes, call depth).
pub const SCRIPT_LIMIT: &str = "script_limit";

/// The fields `fn map` may not change.
const READ_ONLY: [&str; 3] = ["line", "secret_bits", "secret"];
/// Every top-level key of the row map, for error hints.
const FIELDS: &str =
    "line, upn, serial, manufacturer, model, time_interval, hash, display_name, secret_bits, extra, and secret with --reveal-secrets";

/// What the user asked for on the command line.
#[derive(Debug, Clone, Default)]
pub struct ScriptOptions {
    pub where_expr: Option<String>,
    pub order_by: Option<String>,
    pub script_file: Option<PathBuf>,
    /// Scripts see `row.secret` only when this is set.
    pub reveal_secrets: bool,
    /// `--lines FILE`: keep only these CSV lines (applied before any script).
    pub lines_file: Option<PathBuf>,
}

/// A sort key computed once per row by `--order-by` or `fn key(row)`.
#[derive(Debug, Clone, PartialEq)]
pub enum SortKey {
    Unit,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    List(Vec<SortKey>),
}

impl Eq for SortKey {}
impl PartialOrd for SortKey {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for SortKey {
    fn cmp(&self, other: &Self) -> Ordering {
        use SortKey::*;
        fn rank(k: &SortKey) -> u8 {
            match k {
                Unit => 0,
                Bool(_) => 1,
                Int(_) | Float(_) => 2,
                Str(_) => 3,
                List(_) => 4,
            }
        }
        match (self, other) {
            (Bool(a), Bool(b)) => a.cmp(b),
            (Int(a), Int(b)) => a.cmp(b),
            (Float(a), Float(b)) => a.total_cmp(b),
            (Int(a), Float(b)) => (*a as f64).total_cmp(b),
            (Float(a), Int(b)) => a.total_cmp(&(*b as f64)),
            (Str(a), Str(b)) => a.cmp(b),
            (List(a), List(b)) => a.cmp(b),
            _ => rank(self).cmp(&rank(other)),
        }
    }
}

impl SortKey {
    /// Memory this key holds, roughly (what the bound on all keys counts).
    pub fn size(&self) -> u64 {
        let own = std::mem::size_of::<SortKey>() as u64;
        match self {
            SortKey::Str(s) => own + s.len() as u64,
            SortKey::List(l) => own + l.iter().map(SortKey::size).sum::<u64>(),
            _ => own,
        }
    }

    /// Convert a script's key. Chars sort as one-character strings; maps, function
    /// pointers and the like cannot be ordered.
    pub fn from_dynamic(value: &Dynamic) -> Result<Self, String> {
        if value.is_unit() {
            Ok(SortKey::Unit)
        } else if let Ok(b) = value.as_bool() {
            Ok(SortKey::Bool(b))
        } else if let Ok(i) = value.as_int() {
            Ok(SortKey::Int(i))
        } else if let Ok(f) = value.as_float() {
            Ok(SortKey::Float(f))
        } else if let Ok(c) = value.as_char() {
            Ok(SortKey::Str(c.to_string()))
        } else if value.is_string() {
            Ok(SortKey::Str(value.clone().into_string().unwrap_or_default()))
        } else if value.is_array() {
            let array = value.read_lock::<rhai::Array>().ok_or("the key array is locked")?;
            array.iter().map(SortKey::from_dynamic).collect::<Result<_, _>>().map(SortKey::List)
        } else {
            Err(format!(
                "a sort key must be an int, float, string, bool, () or an array of those, not {}",
                value.type_name()
            ))
        }
    }
}

/// One compiled piece of script and the name errors call it by.
struct Source {
    ast: AST,
    /// `--where`, `--order-by`, or the script file's path.
    label: String,
}

/// The compiled `--script` file.
struct ScriptFile {
    source: Source,
    filter: bool,
    key: bool,
    map: bool,
    /// Where each `fn` is defined (line, column), for errors rhai reports without one.
    fn_positions: HashMap<String, (usize, usize)>,
}

/// A compiled set of row scripts.
pub struct RowScript {
    engine: Engine,
    where_expr: Option<Source>,
    order_by: Option<Source>,
    file: Option<ScriptFile>,
    reveal_secrets: bool,
    /// The CSV line being processed, for `print`/`debug` (0 while compiling).
    current_line: Arc<AtomicU64>,
    /// Bytes of sort keys handed out so far: `--order-by` holds them all until the sort.
    key_bytes: AtomicU64,
}

/// The most memory all sort keys of a run may take (`--order-by`, `fn key`): far above any
/// sensible key (a UPN is ~30 bytes), far below what a key of 64 KB per row costs.
pub const MAX_TOTAL_KEY_BYTES: u64 = 128 * 1024 * 1024;

/// The stage that produced an error, for messages.
#[derive(Clone, Copy)]
enum Stage<'a> {
    Function(&'a str),
    Where,
    OrderBy,
}

impl RowScript {
    /// Compile everything once. `Ok(None)` when no script option was given.
    /// Compile errors are fatal (exit 2) and name the line and column.
    pub fn compile(options: &ScriptOptions) -> anyhow::Result<Option<Self>> {
        if options.where_expr.is_none() && options.order_by.is_none() && options.script_file.is_none() {
            return Ok(None);
        }
        let current_line = Arc::new(AtomicU64::new(0));
        let engine = sandboxed_engine(current_line.clone());

        // `row` is declared so strict-variables mode rejects a typo such as `rwo.upn`
        // when compiling, not on every row.
        let mut declared = Scope::new();
        declared.push("row", Map::new());
        let expression = |text: &str, label: &str| -> anyhow::Result<Source> {
            let ast = engine
                .compile_expression_with_scope(&declared, text)
                .map_err(|e| compile_error(label, text, &e, EXPR_HINT))?;
            Ok(Source { ast, label: label.to_string() })
        };
        let where_expr = options.where_expr.as_deref().map(|t| expression(t, "--where")).transpose()?;
        let order_by = options.order_by.as_deref().map(|t| expression(t, "--order-by")).transpose()?;

        let file = match &options.script_file {
            None => None,
            Some(path) => {
                let label = path.display().to_string();
                let text = std::fs::read_to_string(path).with_context(|| format!("cannot read script file {label}"))?;
                let mut ast = engine.compile(&text).map_err(|e| compile_error(&label, &text, &e, FILE_HINT))?;
                ast.set_source(label.as_str());
                let has = |name: &str| -> anyhow::Result<bool> {
                    let arities: Vec<usize> =
                        ast.iter_functions().filter(|f| f.name == name).map(|f| f.params.len()).collect();
                    if !arities.is_empty() && !arities.contains(&1) {
                        bail!("{label}: fn {name} must take exactly one parameter: fn {name}(row)");
                    }
                    Ok(!arities.is_empty())
                };
                let (filter, key, map) = (has("filter")?, has("key")?, has("map")?);
                if !(filter || key || map) {
                    bail!("{label}: the script defines none of fn filter(row), fn key(row), fn map(row)");
                }
                // Top-level statements run once, now: their variables are not visible
                // inside functions (rhai functions see only their parameters).
                engine.run_ast(&ast).map_err(|e| {
                    let (pos, message, _) = describe(&e, false, None);
                    anyhow::anyhow!("{}: {message} (in the script's top level)", at(&label, pos, None))
                })?;
                let fn_positions = fn_positions(&text);
                Some(ScriptFile { source: Source { ast, label }, filter, key, map, fn_positions })
            }
        };
        Ok(Some(Self {
            engine,
            where_expr,
            order_by,
            file,
            reveal_secrets: options.reveal_secrets,
            current_line,
            key_bytes: AtomicU64::new(0),
        }))
    }

    /// Whether the sort keys so far went past [`MAX_TOTAL_KEY_BYTES`]: the row that crossed
    /// it got a `script_limit` error, and no further row may be read.
    pub fn keys_over_budget(&self) -> bool {
        self.key_bytes.load(AtomicOrdering::Relaxed) > MAX_TOTAL_KEY_BYTES
    }

    /// Whether the script file has `fn map(row)`, which may give a row its user.
    pub fn maps(&self) -> bool {
        self.file.as_ref().is_some_and(|f| f.map)
    }

    /// Whether rows must be collected and sorted (no streaming).
    pub fn orders(&self) -> bool {
        self.order_by.is_some() || self.file.as_ref().is_some_and(|f| f.key)
    }

    /// filter → map → where → key for one row. `Ok(None)`: filtered out.
    /// A runtime error becomes a `script_error` (or `script_limit`) row error naming
    /// the script position; `RowError.line` is the CSV line.
    pub fn apply(&self, row: Row) -> Result<Option<(Row, Option<SortKey>)>, RowError> {
        self.current_line.store(row.line, AtomicOrdering::Relaxed);
        let mut row = row;
        if let Some(file) = self.file.as_ref().filter(|f| f.filter) {
            let keep = self.call(file, "filter", &row)?;
            if !self.expect_bool(&keep, Stage::Function("filter"), &file.source.label, &row)? {
                return Ok(None);
            }
        }
        if let Some(file) = self.file.as_ref().filter(|f| f.map) {
            let mapped = self.call(file, "map", &row)?;
            row = self.apply_map(row, mapped, &file.source.label)?;
        }
        if let Some(source) = &self.where_expr {
            let keep = self.eval(source, Stage::Where, &row)?;
            if !self.expect_bool(&keep, Stage::Where, &source.label, &row)? {
                return Ok(None);
            }
        }
        let key = if let Some(source) = &self.order_by {
            Some((self.eval(source, Stage::OrderBy, &row)?, source.label.as_str()))
        } else if let Some(file) = self.file.as_ref().filter(|f| f.key) {
            Some((self.call(file, "key", &row)?, file.source.label.as_str()))
        } else {
            None
        };
        let key = match key {
            None => None,
            Some((value, label)) => {
                let key = SortKey::from_dynamic(&value)
                    .map_err(|m| row_error(&row, SCRIPT_ERROR, None, format!("{label}: {m}")))?;
                self.key_bytes.fetch_add(key.size(), AtomicOrdering::Relaxed);
                if self.keys_over_budget() {
                    return Err(row_error(
                        &row,
                        SCRIPT_LIMIT,
                        None,
                        format!(
                            "{label}: the sort keys of the rows so far take more than {} MB; the run stops here \
                             (use a shorter key)",
                            MAX_TOTAL_KEY_BYTES >> 20
                        ),
                    ));
                }
                Some(key)
            }
        };
        Ok(Some((row, key)))
    }

    /// Run `fn name(row)` from the script file.
    fn call(&self, file: &ScriptFile, name: &str, row: &Row) -> Result<Dynamic, RowError> {
        let mut scope = Scope::new();
        let options = CallFnOptions::new().eval_ast(false).rewind_scope(true);
        self.engine
            .call_fn_with_options::<Dynamic>(options, &mut scope, &file.source.ast, name, (self.row_map(row),))
            .map_err(|e| self.runtime_error(&e, &file.source.label, Stage::Function(name), Some(file), row))
    }

    /// Evaluate a `--where` / `--order-by` expression with `row` in scope.
    fn eval(&self, source: &Source, stage: Stage, row: &Row) -> Result<Dynamic, RowError> {
        let mut scope = Scope::with_capacity(1);
        scope.push_dynamic("row", self.row_map(row));
        self.engine
            .eval_ast_with_scope::<Dynamic>(&mut scope, &source.ast)
            .map_err(|e| self.runtime_error(&e, &source.label, stage, None, row))
    }

    fn expect_bool(&self, value: &Dynamic, stage: Stage, label: &str, row: &Row) -> Result<bool, RowError> {
        value.as_bool().map_err(|_| {
            let what = match stage {
                Stage::Function(name) => format!("fn {name}(row) must return true or false"),
                Stage::Where | Stage::OrderBy => "the expression must be true or false".to_string(),
            };
            row_error(row, SCRIPT_ERROR, None, format!("{label}: {what}, not {}", describe_value(value)))
        })
    }

    /// The row as scripts see it (see the module docs).
    fn row_map(&self, row: &Row) -> Dynamic {
        let mut map = Map::new();
        let text = |s: &str| Dynamic::from(ImmutableString::from(s));
        map.insert("line".into(), Dynamic::from_int(row.line as i64));
        map.insert("upn".into(), text(&row.upn));
        map.insert("serial".into(), text(&row.serial));
        map.insert("manufacturer".into(), text(&row.manufacturer));
        map.insert("model".into(), text(&row.model));
        map.insert("time_interval".into(), Dynamic::from_int(row.time_interval as i64));
        map.insert("hash".into(), text(row.hash.as_str()));
        map.insert("display_name".into(), row.display_name.as_deref().map_or(Dynamic::UNIT, text));
        map.insert(
            "secret_bits".into(),
            row.secret.as_ref().map_or(Dynamic::UNIT, |s| Dynamic::from_int(s.bits() as i64)),
        );
        let mut extra = Map::new();
        for (name, value) in &row.extra {
            extra.insert(name.as_ref().into(), text(value));
        }
        map.insert("extra".into(), Dynamic::from_map(extra));
        if self.reveal_secrets {
            map.insert("secret".into(), row.secret.as_ref().map_or(Dynamic::UNIT, |s| text(&s.to_base32())));
        }
        Dynamic::from_map(map)
    }

    /// Write `fn map`'s result back into the row, then re-validate what the reader
    /// validates. Keys left out of the returned map keep their value.
    fn apply_map(&self, row: Row, mapped: Dynamic, label: &str) -> Result<Row, RowError> {
        let script_err = |field: Option<&str>, message: String| {
            row_error(&row, SCRIPT_ERROR, field, format!("{label}: fn map(row): {message}"))
        };
        if !mapped.is_map() {
            return Err(script_err(
                None,
                format!("must return the row map (end the function with `row`), not {}", describe_value(&mapped)),
            ));
        }
        let map = mapped.cast::<Map>();
        let mut new = row.clone();
        for (key, value) in map {
            let key = key.as_str();
            let string = |value: &Dynamic| -> Result<String, RowError> {
                value.clone().into_string().map_err(|t| {
                    // `row.upn = row.upn.replace(…)`: rhai's replace, trim, … work in place.
                    let hint = if t == "()" {
                        " (replace, trim and friends change a string in place and return ())"
                    } else {
                        ""
                    };
                    script_err(Some(key), format!("row.{key} must be a string, not {t}{hint}"))
                })
            };
            match key {
                _ if READ_ONLY.contains(&key) => {
                    if !self.unchanged(key, &value, &row) {
                        return Err(script_err(Some(key), format!("row.{key} is read-only")));
                    }
                }
                "upn" => new.upn = string(&value)?,
                "serial" => new.serial = string(&value)?,
                "manufacturer" => new.manufacturer = string(&value)?,
                "model" => new.model = string(&value)?,
                "display_name" => {
                    new.display_name =
                        if value.is_unit() { None } else { Some(string(&value)?) }.filter(|s| !s.is_empty())
                }
                "time_interval" => {
                    let seconds = value.as_int().map_err(|t| {
                        script_err(Some(key), format!("row.time_interval must be an int (30 or 60), not {t}"))
                    })?;
                    new.time_interval = match seconds {
                        30 | 60 => seconds as u32,
                        _ => {
                            return Err(row_error(
                                &row,
                                "invalid_time_interval",
                                Some(key),
                                format!("{label}: fn map(row) set time interval {seconds}, not 30 or 60 seconds"),
                            ))
                        }
                    };
                }
                "hash" => {
                    let text = string(&value)?;
                    new.hash = HashFunction::parse(&text).ok_or_else(|| {
                        row_error(
                            &row,
                            "invalid_hash",
                            Some(key),
                            format!("{label}: fn map(row) set hash '{text}', not sha1 or sha256"),
                        )
                    })?;
                }
                "extra" => {
                    if !value.is_map() {
                        return Err(script_err(
                            Some(key),
                            format!("row.extra must be a map, not {}", value.type_name()),
                        ));
                    }
                    new.extra = extra_columns(&row, value.cast::<Map>()).map_err(|(column, t)| {
                        script_err(Some("extra"), format!("row.extra[\"{column}\"] must be a string, not {t}"))
                    })?;
                }
                _ => {
                    return Err(script_err(
                        Some(key),
                        format!("unknown field '{key}' (fields: {FIELDS}; extra columns go in row.extra[\"{key}\"])"),
                    ))
                }
            }
        }
        let invalid = |field: &str, code: &'static str, message: String| {
            row_error(&row, code, Some(field), format!("{label}: fn map(row) {message}"))
        };
        // A row read without a user (PSKC, a file without a upn column) may stay without one:
        // the command decides whether it needs one. A user the file gave may not be erased.
        if new.upn.is_empty() && !row.upn.is_empty() {
            return Err(invalid("upn", "missing_upn", "left the upn empty".into()));
        }
        if let Some(c) = crate::text::hidden_char(&new.upn) {
            return Err(invalid(
                "upn",
                "invalid_upn",
                format!("set a upn that {}", crate::inventory::hidden_char_message(c)),
            ));
        }
        if !new.upn.is_empty() && !is_upn(&new.upn) {
            return Err(invalid("upn", "invalid_upn", format!("set upn '{}', not a user@domain address", new.upn)));
        }
        if new.serial.trim().is_empty() {
            return Err(invalid("serial", "missing_serial", "left the serial number empty".into()));
        }
        Ok(new)
    }

    /// Whether `fn map` gave a read-only field back as it was.
    fn unchanged(&self, key: &str, value: &Dynamic, row: &Row) -> bool {
        match key {
            "line" => value.as_int().is_ok_and(|v| v as u64 == row.line),
            "secret_bits" => match &row.secret {
                None => value.is_unit(),
                Some(s) => value.as_int().is_ok_and(|v| v as usize == s.bits()),
            },
            "secret" => match &row.secret {
                // Without --reveal-secrets the script never saw it: any value is a change.
                _ if !self.reveal_secrets => false,
                None => value.is_unit(),
                Some(s) => value.read_lock::<ImmutableString>().is_some_and(|v| v.as_str() == s.to_base32()),
            },
            _ => false,
        }
    }

    /// Turn a rhai runtime error into a row error: `label:line:col: message (in fn …)`.
    fn runtime_error(
        &self,
        error: &EvalAltResult,
        label: &str,
        stage: Stage,
        file: Option<&ScriptFile>,
        row: &Row,
    ) -> RowError {
        let (pos, mut message, limit) = describe(error, self.reveal_secrets, Some(row));
        let mut chain = function_chain(error);
        let mut fallback = None;
        if let Stage::Function(name) = stage {
            chain.push(name.to_string());
            // rhai reports some limits without a position: point at the function instead.
            fallback = file.and_then(|f| f.fn_positions.get(chain[0].as_str()).copied());
        }
        if !chain.is_empty() {
            let calls: Vec<String> = chain.iter().map(|f| format!("fn {f}")).collect();
            message = format!("{message} (in {})", calls.join(", called from "));
        }
        row_error(
            row,
            if limit { SCRIPT_LIMIT } else { SCRIPT_ERROR },
            None,
            format!("{}: {message}", at(label, pos, fallback)),
        )
    }
}

/// The engine every script runs in: standard library only, no `eval`, strict variables,
/// budgets on everything, `print`/`debug` to stderr.
fn sandboxed_engine(current_line: Arc<AtomicU64>) -> Engine {
    let mut engine = Engine::new();
    engine.disable_symbol("eval");
    engine.set_strict_variables(true);
    engine.set_fail_on_invalid_map_property(true);
    engine.set_max_operations(MAX_OPERATIONS);
    engine.set_max_string_size(MAX_STRING_SIZE);
    engine.set_max_array_size(MAX_ARRAY_SIZE);
    engine.set_max_map_size(MAX_MAP_SIZE);
    engine.set_max_call_levels(MAX_CALL_LEVELS);
    engine.set_max_expr_depths(MAX_EXPR_DEPTH.0, MAX_EXPR_DEPTH.1);
    engine.set_max_variables(MAX_VARIABLES);
    // rhai checks a string's size after each operation: `s.replace("", r)` would first build
    // len(s) × len(r) bytes (3 GB for two 40k strings). These replace the built-ins with
    // ones that refuse, before allocating, a result over the string budget.
    engine.register_fn("replace", |ctx: NativeCallContext, s: &mut ImmutableString, find: &str, sub: &str| {
        checked_replace(&ctx, s, find, sub)
    });
    engine.register_fn("replace", |ctx: NativeCallContext, s: &mut ImmutableString, find: char, sub: &str| {
        checked_replace(&ctx, s, find.encode_utf8(&mut [0; 4]), sub)
    });
    engine.register_fn("replace", |ctx: NativeCallContext, s: &mut ImmutableString, find: &str, sub: char| {
        checked_replace(&ctx, s, find, sub.encode_utf8(&mut [0; 4]))
    });
    engine.register_fn("replace", |ctx: NativeCallContext, s: &mut ImmutableString, find: char, sub: char| {
        checked_replace(&ctx, s, find.encode_utf8(&mut [0; 4]), sub.encode_utf8(&mut [0; 4]))
    });
    let print_line = current_line.clone();
    engine.on_print(move |text| stderr_line(print_line.load(AtomicOrdering::Relaxed), text));
    engine.on_debug(move |text, _source, pos| {
        let line = current_line.load(AtomicOrdering::Relaxed);
        match (pos.line(), pos.position()) {
            (Some(l), Some(c)) => stderr_line(line, &format!("debug at {l}:{c}: {text}")),
            _ => stderr_line(line, &format!("debug: {text}")),
        }
    });
    engine
}

/// `s.replace(find, sub)` in place, refused before any allocation when the result would be
/// over the engine's string budget.
fn checked_replace(
    ctx: &NativeCallContext,
    s: &mut ImmutableString,
    find: &str,
    sub: &str,
) -> Result<(), Box<EvalAltResult>> {
    // `str::replace` with an empty pattern inserts `sub` at every char boundary.
    let (count, removed) =
        if find.is_empty() { (s.chars().count() + 1, 0) } else { (s.matches(find).count(), find.len()) };
    let len = (s.len() - count * removed).saturating_add(count.saturating_mul(sub.len()));
    let max = ctx.engine().max_string_size();
    if max > 0 && len > max {
        return Err(EvalAltResult::ErrorDataTooLarge("Length of string".into(), ctx.call_position()).into());
    }
    if count > 0 {
        *s = s.replace(find, sub).into();
    }
    Ok(())
}

/// One `script: …` line on stderr. A closed stderr is not worth a panic.
/// `print`/`debug` text comes from CSV cells: every control (line breaks too, which would
/// forge `script:` lines) and bidi character is shown escaped, never written raw.
fn stderr_line(csv_line: u64, text: &str) {
    let text = crate::text::escape_all_controls(text);
    let mut err = std::io::stderr().lock();
    let _ =
        if csv_line == 0 { writeln!(err, "script: {text}") } else { writeln!(err, "script: line {csv_line}: {text}") };
}

/// `label:line:col` (or just `label` when rhai gave no position).
fn at(label: &str, pos: Position, fallback: Option<(usize, usize)>) -> String {
    match (pos.line(), pos.position(), fallback) {
        (Some(l), Some(c), _) => format!("{label}:{l}:{c}"),
        (Some(l), None, _) => format!("{label}:{l}"),
        (None, _, Some((l, c))) => format!("{label}:{l}:{c}"),
        _ => label.to_string(),
    }
}

/// The innermost error's position, its message without rhai's position suffix (plus
/// a hint where one helps), and whether it is a budget (`script_limit`).
fn describe(error: &EvalAltResult, reveal: bool, row: Option<&Row>) -> (Position, String, bool) {
    let inner = error.unwrap_inner();
    let pos = inner.position();
    let mut limit = false;
    let message = match inner {
        EvalAltResult::ErrorTooManyOperations(_) => {
            limit = true;
            format!("Too many operations: the budget of {MAX_OPERATIONS} operations per row ran out (an endless loop?)")
        }
        EvalAltResult::ErrorDataTooLarge(what, _) => {
            limit = true;
            let max = match what.as_str() {
                w if w.contains("string") => format!("{MAX_STRING_SIZE} bytes"),
                w if w.contains("array") => format!("{MAX_ARRAY_SIZE} elements"),
                w if w.contains("map") => format!("{MAX_MAP_SIZE} entries"),
                _ => "the limit".to_string(),
            };
            format!("{what} too large (at most {max})")
        }
        EvalAltResult::ErrorStackOverflow(_) => {
            limit = true;
            format!("Stack overflow: more than {MAX_CALL_LEVELS} nested function calls (endless recursion?)")
        }
        EvalAltResult::ErrorTooManyVariables(_) => {
            limit = true;
            format!("Too many variables defined (at most {MAX_VARIABLES})")
        }
        EvalAltResult::ErrorFunctionNotFound(signature, _) => {
            // rhai spells parameter types the Rust way: `foo (&str | ImmutableString | String)`.
            let signature = signature
                .replace("&str | ImmutableString | String", "string")
                .replace("ImmutableString", "string")
                .replace("i64", "int")
                .replace("f64", "float");
            format!("Function not found: {signature}")
        }
        EvalAltResult::ErrorPropertyNotFound(name, _) if name == "secret" && !reveal => {
            "Property not found: secret (scripts see row.secret only with --reveal-secrets)".to_string()
        }
        EvalAltResult::ErrorPropertyNotFound(name, _) => {
            // `row.uppn` and `row.extra["Cost Centre"]` both land here: show what exists.
            let columns = row.map_or(String::new(), |r| {
                let names: Vec<String> = r.extra.iter().map(|(h, _)| format!("{h:?}")).collect();
                format!("; row.extra has: {}", if names.is_empty() { "nothing".to_string() } else { names.join(", ") })
            });
            format!("Property not found: {name} (row has: {FIELDS}{columns})")
        }
        other => {
            // rhai's Display ends with " (line 3, position 14)": we print `:3:14` instead.
            let text = other.to_string();
            let suffix = format!(" ({pos})");
            match text.strip_suffix(&suffix) {
                Some(bare) if !pos.is_none() => bare.to_string(),
                _ => text,
            }
        }
    };
    (pos, message, limit)
}

/// The functions an error passed through, innermost first (`ErrorInFunctionCall`s).
fn function_chain(error: &EvalAltResult) -> Vec<String> {
    let mut chain = Vec::new();
    let mut current = error;
    while let EvalAltResult::ErrorInFunctionCall(name, _, inner, _) = current {
        chain.push(name.clone());
        current = inner;
    }
    chain.reverse();
    chain
}

/// Hints for an undefined variable, by where it was compiled.
const EXPR_HINT: &str = " (the row is `row`, e.g. row.upn; an expression cannot declare variables)";
const FILE_HINT: &str = " (rhai functions see only their parameters: use `row`, or move a constant into a helper fn)";

/// A fatal compile error: `label:line:col: message`, then the line and a caret.
fn compile_error(label: &str, text: &str, error: &ParseError, hint: &str) -> anyhow::Error {
    let ParseError(kind, pos) = error;
    let mut message = format!("{}: {kind}", at(label, *pos, None));
    if matches!(**kind, ParseErrorType::VariableUndefined(_)) {
        message.push_str(hint);
    }
    if let (Some(l), Some(c)) = (pos.line(), pos.position()) {
        if let Some(source_line) = text.lines().nth(l - 1) {
            message.push_str(&format!("\n  {source_line}\n  {}^", " ".repeat(c.saturating_sub(1))));
        }
    }
    anyhow::anyhow!(message)
}

/// Line and column of every `fn name(` at the start of a line.
fn fn_positions(text: &str) -> HashMap<String, (usize, usize)> {
    let mut positions = HashMap::new();
    for (i, line) in text.lines().enumerate() {
        let trimmed = line.trim_start();
        let column = line.len() - trimmed.len() + 1;
        let rest = trimmed.strip_prefix("private ").map(str::trim_start).unwrap_or(trimmed);
        let Some(rest) = rest.strip_prefix("fn ") else { continue };
        let name: String = rest.trim_start().chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
        if !name.is_empty() {
            positions.entry(name).or_insert((i + 1, column));
        }
    }
    positions
}

/// `fn map`'s `row.extra`, back into file order: existing columns keep their place,
/// new ones follow (sorted), removed ones are gone.
/// A bad cell: the column and the type found there.
type BadCell = (String, String);

fn extra_columns(row: &Row, mut map: Map) -> Result<Vec<(Arc<str>, String)>, BadCell> {
    fn cell(name: &str, value: Dynamic) -> Result<String, BadCell> {
        if value.is_string() {
            Ok(value.into_string().unwrap_or_default())
        } else if value.is_int() || value.is_float() || value.is_bool() || value.is_char() {
            Ok(value.to_string())
        } else {
            Err((name.to_string(), value.type_name().to_string()))
        }
    }
    let mut columns = Vec::with_capacity(map.len());
    for (name, _) in &row.extra {
        if let Some(value) = map.remove(name.as_ref()) {
            columns.push((name.clone(), cell(name, value)?));
        }
    }
    for (name, value) in map {
        let value = cell(&name, value)?;
        columns.push((Arc::from(name.as_str()), value));
    }
    Ok(columns)
}

/// `string "abc"`, `int 3`, `()`: for "must return X, not Y" messages.
fn describe_value(value: &Dynamic) -> String {
    if value.is_unit() {
        "()".to_string()
    } else if value.is_string() {
        format!("string {:?}", value.to_string())
    } else {
        let shown = value.to_string();
        if shown.len() > 40 {
            value.type_name().to_string()
        } else {
            format!("{} {shown}", value.type_name())
        }
    }
}

fn row_error(row: &Row, code: &'static str, field: Option<&str>, message: String) -> RowError {
    RowError {
        line: row.line,
        field: field.map(str::to_string),
        code,
        message,
        upn: Some(row.upn.clone()),
        serial: Some(row.serial.clone()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inventory::{SecretFormat, SecretKey};

    fn row(line: u64, upn: &str, serial: &str) -> Row {
        Row {
            line,
            upn: upn.into(),
            serial: serial.into(),
            secret: Some(SecretKey::decode("GEZDGNBVGY3TQOJQ", SecretFormat::Base32).unwrap()),
            time_interval: 30,
            hash: HashFunction::Sha1,
            manufacturer: "Acme".into(),
            model: "X1".into(),
            display_name: None,
            extra: vec![(Arc::from("Cost Center"), "42".into()), (Arc::from("line"), "shadow".into())],
        }
    }

    fn with(where_expr: Option<&str>, order_by: Option<&str>) -> RowScript {
        let options = ScriptOptions {
            where_expr: where_expr.map(str::to_string),
            order_by: order_by.map(str::to_string),
            ..Default::default()
        };
        RowScript::compile(&options).unwrap().unwrap()
    }

    /// A script file in a temp dir, compiled. The file lives as long as the returned guard.
    fn file(text: &str, reveal: bool) -> (anyhow::Result<Option<RowScript>>, tempfile::TempPath) {
        let mut f = tempfile::Builder::new().suffix(".rhai").tempfile().unwrap();
        f.write_all(text.as_bytes()).unwrap();
        let path = f.into_temp_path();
        let options =
            ScriptOptions { script_file: Some(path.to_path_buf()), reveal_secrets: reveal, ..Default::default() };
        (RowScript::compile(&options), path)
    }

    fn compiled(text: &str) -> (RowScript, tempfile::TempPath) {
        let (script, path) = file(text, false);
        (script.unwrap().unwrap(), path)
    }

    fn key(script: &RowScript, r: Row) -> SortKey {
        script.apply(r).unwrap().unwrap().1.unwrap()
    }

    #[test]
    fn sort_keys_have_a_memory_bound() {
        // 60 KB keys: the bound is crossed after ~2,200 rows, long before 1.3 GB.
        let (s, _p) = compiled("fn key(row) { let k = \"\"; k.pad(60000, 'x'); k }");
        let mut stopped_at = None;
        for i in 0..5_000u64 {
            match s.apply(row(i + 2, "a@contoso.com", "S1")) {
                Ok(_) => assert!(!s.keys_over_budget()),
                Err(e) => {
                    assert_eq!(e.code, SCRIPT_LIMIT);
                    assert!(s.keys_over_budget());
                    stopped_at = Some(i);
                    break;
                }
            }
        }
        let n = stopped_at.expect("the bound stops the keys");
        assert_eq!(n, MAX_TOTAL_KEY_BYTES / (60_000 + std::mem::size_of::<SortKey>() as u64));
    }

    #[test]
    fn nothing_asked_nothing_compiled() {
        assert!(RowScript::compile(&ScriptOptions::default()).unwrap().is_none());
    }

    #[test]
    fn where_keeps_and_drops() {
        let s = with(Some(r#"row.upn.ends_with("@contoso.com") && row.extra["Cost Center"] == "42""#), None);
        assert!(!s.orders());
        assert!(s.apply(row(2, "a@contoso.com", "S1")).unwrap().is_some());
        assert!(s.apply(row(3, "b@fabrikam.com", "S2")).unwrap().is_none());
    }

    #[test]
    fn where_must_be_bool() {
        let s = with(Some("row.serial"), None);
        let e = s.apply(row(7, "a@contoso.com", "S1")).unwrap_err();
        assert_eq!((e.line, e.code), (7, SCRIPT_ERROR));
        assert!(e.message.starts_with("--where: ") && e.message.contains(r#"string "S1""#), "{}", e.message);
    }

    #[test]
    fn row_fields_have_their_types() {
        let s = with(
            Some(
                r#"row.line == 9 && row.time_interval == 30 && row.hash == "sha1" && row.display_name == ()
                   && row.secret_bits == 80 && row.manufacturer == "Acme" && row.model == "X1"
                   && row.extra.line == "shadow" && !("secret" in row)"#,
            ),
            None,
        );
        assert!(s.apply(row(9, "a@contoso.com", "S1")).unwrap().is_some());
    }

    #[test]
    fn unknown_property_is_an_error_not_unit() {
        let s = with(Some(r#"row.modle == "X1""#), None);
        let e = s.apply(row(2, "a@contoso.com", "S1")).unwrap_err();
        assert_eq!(e.code, SCRIPT_ERROR);
        assert!(e.message.starts_with("--where:1:5: Property not found: modle"), "{}", e.message);
        let s = with(Some(r#"row.extra["Cost Centre"] == "42""#), None);
        let e = s.apply(row(2, "a@contoso.com", "S1")).unwrap_err();
        assert!(e.message.contains(r#"row.extra has: "Cost Center", "line""#), "{}", e.message);
        let s = with(Some(r#""Cost Centre" in row.extra"#), None);
        assert!(s.apply(row(2, "a@contoso.com", "S1")).unwrap().is_none(), "`in` tests optional columns");
    }

    #[test]
    fn compiled_scripts_can_cross_threads() {
        fn send_sync<T: Send + Sync>() {}
        send_sync::<RowScript>();
    }

    #[test]
    fn secret_only_when_revealed() {
        let hidden = with(Some(r#"row.secret == "GEZDGNBVGY3TQOJQ""#), None);
        let e = hidden.apply(row(2, "a@contoso.com", "S1")).unwrap_err();
        assert!(e.message.contains("--reveal-secrets"), "{}", e.message);
        assert!(!e.message.contains("GEZD"), "{}", e.message);
        let options = ScriptOptions {
            where_expr: Some(r#"row.secret == "GEZDGNBVGY3TQOJQ""#.into()),
            reveal_secrets: true,
            ..Default::default()
        };
        let shown = RowScript::compile(&options).unwrap().unwrap();
        assert!(shown.apply(row(2, "a@contoso.com", "S1")).unwrap().is_some());
    }

    #[test]
    fn order_by_keys_of_every_type() {
        let s = with(None, Some("row.serial.parse_int()"));
        assert!(s.orders());
        assert_eq!(key(&s, row(2, "a@contoso.com", "10")), SortKey::Int(10));
        let s = with(None, Some("row.serial"));
        assert_eq!(key(&s, row(2, "a@contoso.com", "10")), SortKey::Str("10".into()));
        let s = with(None, Some("[row.upn.len(), row.serial, 1.5, (), true]"));
        assert_eq!(
            key(&s, row(2, "a@contoso.com", "S1")),
            SortKey::List(vec![
                SortKey::Int(13),
                SortKey::Str("S1".into()),
                SortKey::Float(1.5),
                SortKey::Unit,
                SortKey::Bool(true)
            ])
        );
        let s = with(None, Some("#{a: 1}"));
        let e = s.apply(row(4, "a@contoso.com", "S1")).unwrap_err();
        assert_eq!((e.line, e.code), (4, SCRIPT_ERROR));
        assert!(e.message.starts_with("--order-by: a sort key must be"), "{}", e.message);
    }

    #[test]
    fn sort_keys_order_numbers_numerically() {
        let mut keys =
            vec![SortKey::Str("9".into()), SortKey::Int(10), SortKey::Float(9.5), SortKey::Int(9), SortKey::Unit];
        keys.sort();
        assert_eq!(
            keys,
            vec![SortKey::Unit, SortKey::Int(9), SortKey::Float(9.5), SortKey::Int(10), SortKey::Str("9".into())]
        );
    }

    #[test]
    fn compile_errors_name_source_line_and_column() {
        let options = ScriptOptions { where_expr: Some("row.upn ==\n  (1 +".into()), ..Default::default() };
        let e = RowScript::compile(&options).err().unwrap().to_string();
        assert!(e.starts_with("--where:2:"), "{e}");
        let options = ScriptOptions { order_by: Some("rwo.upn".into()), ..Default::default() };
        let e = RowScript::compile(&options).err().unwrap().to_string();
        assert!(e.starts_with("--order-by:1:1: Undefined variable: rwo"), "{e}");
        assert!(e.contains("\n  rwo.upn\n  ^"), "{e}");
        let options = ScriptOptions { where_expr: Some(r#"eval("1")"#.into()), ..Default::default() };
        assert!(RowScript::compile(&options).is_err(), "eval must be disabled");
    }

    #[test]
    fn file_compile_errors() {
        let (r, path) = file("fn filter(row) {\n  row.upn ==\n}\n", false);
        let e = r.err().unwrap().to_string();
        assert!(e.starts_with(&format!("{}:3:1: ", path.display())), "{e}");
        let (r, _p) = file("fn helper(x) { x }\n", false);
        assert!(r.err().unwrap().to_string().contains("defines none of fn filter(row), fn key(row), fn map(row)"));
        let (r, _p) = file("fn map(a, b) { a }\n", false);
        assert!(r.err().unwrap().to_string().contains("fn map must take exactly one parameter"));
        let (r, _p) = file("const D = 1;\nfn filter(row) { row.line == D }\n", false);
        let e = r.err().unwrap().to_string();
        assert!(e.contains(":2:30: Undefined variable: D") && e.contains("helper fn"), "{e}");
        let (r, _p) = file("import \"x\" as y;\nfn filter(row) { true }\n", false);
        assert!(r.is_err(), "modules must be unavailable");
    }

    #[test]
    fn functions_run_in_order_and_map_writes_back() {
        let (s, _p) = compiled(
            r#"
            fn filter(row) { row.model == "X1" }
            fn map(row) {
                row.upn.replace("@contoso.local", "@contoso.com"); // in place
                row.hash = "SHA-256";
                row.time_interval = 60;
                row.display_name = "Desk " + row.serial;
                row.extra.remove("line");
                row.extra["Site"] = 7;
                row
            }
            fn key(row) { row.upn }
            "#,
        );
        assert!(s.orders());
        let (r, k) = s.apply(row(5, "a@contoso.local", "S1")).unwrap().unwrap();
        assert_eq!(r.upn, "a@contoso.com");
        assert_eq!(r.hash, HashFunction::Sha256);
        assert_eq!(r.time_interval, 60);
        assert_eq!(r.display_name.as_deref(), Some("Desk S1"));
        assert_eq!(r.extra, vec![(Arc::from("Cost Center"), "42".to_string()), (Arc::from("Site"), "7".to_string())]);
        assert_eq!(r.line, 5);
        assert_eq!(k, Some(SortKey::Str("a@contoso.com".into())), "key sees the mapped row");
        let mut other = row(6, "b@contoso.local", "S2");
        other.model = "Y".into();
        assert!(s.apply(other).unwrap().is_none());
    }

    #[test]
    fn where_sees_the_mapped_row_and_order_by_overrides_key() {
        let mut f = tempfile::Builder::new().suffix(".rhai").tempfile().unwrap();
        f.write_all(b"fn map(row) { row.upn = \"x@fixed.com\"; row }\nfn key(row) { 1 }\n").unwrap();
        let options = ScriptOptions {
            script_file: Some(f.path().to_path_buf()),
            where_expr: Some(r#"row.upn == "x@fixed.com""#.into()),
            order_by: Some("row.serial".into()),
            ..Default::default()
        };
        let s = RowScript::compile(&options).unwrap().unwrap();
        let (_, k) = s.apply(row(2, "a@contoso.com", "S9")).unwrap().unwrap();
        assert_eq!(k, Some(SortKey::Str("S9".into())));
    }

    #[test]
    fn a_row_read_without_a_user_gets_one_from_map_or_stays_without() {
        let (s, _p) = compiled("fn map(row) { if row.serial == \"S1\" { row.upn = \"a@contoso.com\"; } row }");
        let (given, _) = s.apply(row(2, "", "S1")).unwrap().unwrap();
        assert_eq!(given.upn, "a@contoso.com");
        let (left, _) = s.apply(row(3, "", "S2")).unwrap().unwrap();
        assert_eq!(left.upn, "", "the command, not the script, decides whether a user is needed");
        let (s, _p) = compiled("fn map(row) { row.upn = \"nobody\"; row }");
        assert_eq!(s.apply(row(4, "", "S3")).unwrap_err().code, "invalid_upn", "a user set is checked");
        assert!(s.maps());
    }

    #[test]
    fn map_results_are_validated() {
        let cases = [
            ("row.upn = \"nobody\"; row", "invalid_upn", Some("upn")),
            ("row.upn = \"\"; row", "missing_upn", Some("upn")),
            ("row.serial = \" \"; row", "missing_serial", Some("serial")),
            ("row.time_interval = 45; row", "invalid_time_interval", Some("time_interval")),
            ("row.hash = \"md5\"; row", "invalid_hash", Some("hash")),
            ("row.upn = 5; row", SCRIPT_ERROR, Some("upn")),
            ("row.line = 1; row", SCRIPT_ERROR, Some("line")),
            ("row.cost = 1; row", SCRIPT_ERROR, Some("cost")),
            ("row.upn = \"b@contoso.com\";", SCRIPT_ERROR, None),
            ("row.extra = #{ a: [1] }; row", SCRIPT_ERROR, Some("extra")),
        ];
        for (body, code, field) in cases {
            let (s, _p) = compiled(&format!("fn map(row) {{ {body} }}"));
            let e = s.apply(row(3, "a@contoso.com", "S1")).unwrap_err();
            assert_eq!((e.line, e.code, e.field.as_deref()), (3, code, field), "{body}: {}", e.message);
            assert_eq!(e.upn.as_deref(), Some("a@contoso.com"), "errors name the CSV row's upn");
        }
        // Unchanged read-only fields are fine, and a returned copy works.
        let (s, _p) = compiled("fn map(row) { let r = row; r.line = row.line; r }");
        assert!(s.apply(row(3, "a@contoso.com", "S1")).is_ok());
    }

    #[test]
    fn read_only_fields_may_come_back_only_unchanged() {
        let (r, _p) = file("fn map(row) { row.upn = \"b@contoso.com\"; row }", true);
        let s = r.unwrap().unwrap();
        let (mapped, _) = s.apply(row(3, "a@contoso.com", "S1")).unwrap().unwrap();
        assert_eq!(mapped.upn, "b@contoso.com", "line, secret_bits and secret came back as they were");
        for body in ["row.secret = \"MFRGGZDFMZTWQ2LK\"", "row.secret_bits = 160", "row.line += 1"] {
            let (r, _p) = file(&format!("fn map(row) {{ {body}; row }}"), true);
            let e = r.unwrap().unwrap().apply(row(3, "a@contoso.com", "S1")).unwrap_err();
            assert!(e.code == SCRIPT_ERROR && e.message.ends_with("is read-only"), "{body}: {}", e.message);
        }
    }

    #[test]
    fn runtime_errors_name_position_chain_and_csv_line() {
        let (s, path) = compiled("fn map(row) {\n  helper(row)\n}\nfn helper(r) {\n  r.upn + foo(1)\n}\n");
        let e = s.apply(row(12, "a@contoso.com", "S1")).unwrap_err();
        assert_eq!((e.line, e.code), (12, SCRIPT_ERROR));
        assert_eq!(
            e.message,
            format!("{}:5:11: Function not found: foo (int) (in fn helper, called from fn map)", path.display())
        );
        let (s, path) = compiled("fn filter(row) {\n  throw \"no Acme here\";\n}\n");
        let e = s.apply(row(4, "a@contoso.com", "S1")).unwrap_err();
        assert_eq!(e.message, format!("{}:2:3: Runtime error: no Acme here (in fn filter)", path.display()));
    }

    #[test]
    fn budgets_end_runaway_scripts() {
        let (s, path) = compiled("// endless\n  fn filter(row) { loop { } }\n");
        let e = s.apply(row(8, "a@contoso.com", "S1")).unwrap_err();
        assert_eq!((e.line, e.code), (8, SCRIPT_LIMIT));
        assert!(e.message.starts_with(&format!("{}:2:", path.display())), "{}", e.message);
        assert!(e.message.contains("Too many operations"), "{}", e.message);
        // The budget is per row: the next row gets a fresh one.
        let (s, _p) = compiled("fn filter(row) { let n = 0; while n < 5000 { n += 1; } true }");
        for line in 2..20 {
            assert!(s.apply(row(line, "a@contoso.com", "S1")).unwrap().is_some());
        }
        let (s, _p) = compiled("fn map(row) { let s = \"x\"; loop { s += s; } }");
        let e = s.apply(row(2, "a@contoso.com", "S1")).unwrap_err();
        assert_eq!(e.code, SCRIPT_LIMIT, "{}", e.message);
        assert!(e.message.contains("too large") && e.message.contains(&MAX_STRING_SIZE.to_string()), "{}", e.message);
        let (s, _p) = compiled("fn deep(n) { deep(n + 1) }\nfn key(row) { deep(0) }");
        let e = s.apply(row(2, "a@contoso.com", "S1")).unwrap_err();
        assert_eq!(e.code, SCRIPT_LIMIT, "{}", e.message);
        let (s, _p) = compiled("fn key(row) { let a = []; loop { a.push(1); } }");
        assert_eq!(s.apply(row(2, "a@contoso.com", "S1")).unwrap_err().code, SCRIPT_LIMIT);
    }

    #[test]
    fn fn_positions_are_found() {
        let p = fn_positions("// x\nfn filter(row) {}\n  private fn key (row) {}\nlet fnord = 1;\n");
        assert_eq!(p.get("filter"), Some(&(2, 1)));
        assert_eq!(p.get("key"), Some(&(3, 3)));
        assert_eq!(p.len(), 2);
    }
}
