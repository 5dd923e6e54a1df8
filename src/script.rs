//! The sandboxed rhai engine for `--where`, `--order-by` and `--script`:
//! compiled once, run per row. (Interface stub: the full sandbox lands with its tests.)

use crate::inventory::{Row, RowError};
use std::cmp::Ordering;
use std::path::PathBuf;

/// What the user asked for on the command line.
#[derive(Debug, Clone, Default)]
pub struct ScriptOptions {
    pub where_expr: Option<String>,
    pub order_by: Option<String>,
    pub script_file: Option<PathBuf>,
    /// Scripts see `row.secret` only when this is set.
    pub reveal_secrets: bool,
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

/// A compiled set of row scripts.
pub struct RowScript {
    _private: (),
}

impl RowScript {
    /// Compile everything once. `Ok(None)` when no script option was given.
    /// Compile errors are fatal (exit 2) and name the line and column.
    pub fn compile(options: &ScriptOptions) -> anyhow::Result<Option<Self>> {
        if options.where_expr.is_none() && options.order_by.is_none() && options.script_file.is_none() {
            return Ok(None);
        }
        anyhow::bail!("rhai scripts are not available yet")
    }

    /// Whether rows must be collected and sorted (no streaming).
    pub fn orders(&self) -> bool {
        false
    }

    /// filter → map → key for one row. `Ok(None)`: filtered out.
    /// A runtime error becomes a `script_error` row error naming the script position.
    pub fn apply(&self, row: Row) -> Result<Option<(Row, Option<SortKey>)>, RowError> {
        Ok(Some((row, None)))
    }
}
