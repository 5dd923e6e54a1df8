//! oathbulk: activate hardware OATH TOTP tokens in Microsoft Entra ID in bulk.
//!
//! Layers (docs/architecture.md): `inventory` parses the vendor CSV, `otp` computes codes,
//! `script` runs the users' rhai, `pipeline` chains them, `record` is the wire format,
//! `output` prints it (a table on a terminal, JSON lines elsewhere), `human` says how a run went, `sink` settles every row result (journal, error log, stdout, summary),
//! `engine` sends every request (pace, retries, stop), `stop` is the one list
//! of exit codes, `cli` is the command line (clap), `commands` what each subcommand does.

pub mod activate;
pub mod api_error;
pub mod auth;
pub mod backend;
pub mod cli;
pub mod clock;
pub mod commands;
pub mod context;
pub mod diag;
pub mod engine;
pub mod http;
pub mod http_guard;
pub mod human;
pub mod inventory;
pub mod journal;
pub mod jsonl;
pub mod lifecycle;
pub mod limits;
pub mod otp;
pub mod output;
pub mod pipeline;
pub mod proxy;
pub mod record;
pub mod redact;
pub mod report;
pub mod script;
pub mod simulate;
pub mod sink;
pub mod status;
pub mod stop;
pub mod table;
pub mod text;
pub mod throttle_hint;
pub mod vendor;
