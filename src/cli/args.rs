//! Argument groups shared by several subcommands, each under its own help heading.

use crate::diag::ProgressMode;
use crate::inventory::source::{InputFormat, PasswordFrom, VendorOptions};
use crate::inventory::{ReadOptions, SecretFormat};
use crate::otp::HashFunction;
use crate::output::Format;
use crate::script::ScriptOptions;
use clap::{Args, ValueEnum};
use std::path::PathBuf;

/// The vendor CSV and how to read it.
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Input")]
pub struct InputArgs {
    /// Vendor CSV (`upn,serial number,secret key,time interval,manufacturer,model`); `-` for stdin.
    #[arg(value_name = "CSV")]
    pub csv: String,
    #[command(flatten)]
    pub read: ReadArgs,
}

/// The vendor CSV where a command can also work without one (`activate --code`, `doctor`).
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Input")]
pub struct OptionalInputArgs {
    /// Vendor CSV (`-` for stdin).
    #[arg(value_name = "CSV")]
    pub csv: Option<String>,
    #[command(flatten)]
    pub read: ReadArgs,
}

/// How to read the vendor CSV, whether a command needs one or not.
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Input")]
pub struct ReadArgs {
    /// How the secret key column is encoded. Never guessed.
    #[arg(long, value_enum, default_value_t = SecretFormat::Base32)]
    pub secret_format: SecretFormat,
    /// Hash for rows without a hash column or with an empty cell.
    #[arg(long = "hash", value_enum, default_value_t = HashArg::Sha1)]
    pub default_hash: HashArg,
    /// The column holding the secret keys, when its header is not one the tool knows
    /// (`TOTP Seed`, `OTP Secret`, …).
    #[arg(long, value_name = "NAME")]
    pub secret_column: Option<String>,
    #[command(flatten)]
    pub vendor: VendorArgs,
}

impl ReadArgs {
    /// The one mapping from the input flags to [`ReadOptions`].
    pub fn options(&self, require_secret: bool) -> ReadOptions {
        let vendor = &self.vendor;
        ReadOptions {
            secret_format: self.secret_format,
            default_hash: self.default_hash.into(),
            require_secret,
            secret_column: self.secret_column.clone(),
            redact_seeds: false,
            upn_column_optional: false,
            any_holder: false,
            delimiter: vendor.delimiter,
            vendor: VendorOptions {
                format: vendor.input_format,
                pskc_key_file: vendor.pskc_key_file.clone(),
                passwords: PasswordFrom {
                    zip_stdin: vendor.zip_password_stdin,
                    pskc_stdin: vendor.pskc_password_stdin,
                },
                assign_csv: vendor.assign_csv.clone(),
            },
        }
    }
}

/// The rows of a vendor CSV, through the row scripts, and what goes to stdout: the row
/// commands that never show seeds (`check`, `users`, `import`).
#[derive(Debug, Clone, Args)]
pub struct RowsArgs {
    #[command(flatten)]
    pub input: InputArgs,
    #[command(flatten)]
    pub script: ScriptArgs,
    #[command(flatten)]
    pub output: OutputArgs,
}

/// Seed files as vendors ship them (README: "Files vendors ship"): another separator, PSKC,
/// password ZIPs, and the users of a file that names none.
#[derive(Debug, Clone, Args, Default)]
#[command(next_help_heading = "Input")]
pub struct VendorArgs {
    /// The cell separator: `,` (the default), `;` or `tab` (Excel writes `;` where the comma is
    /// the decimal mark).
    #[arg(long, value_name = "SEP", value_parser = parse_delimiter)]
    pub delimiter: Option<u8>,
    /// What the file is: `auto` reads PSKC (RFC 6030 XML) when it starts with `<`, CSV
    /// otherwise; a password ZIP holding either is opened in memory whatever this says.
    #[arg(long, value_enum, default_value_t = InputFormat::Auto)]
    pub input_format: InputFormat,
    /// The pre-shared key of an encrypted PSKC file: a file holding it in hex (or raw bytes).
    #[arg(long, value_name = "FILE")]
    pub pskc_key_file: Option<PathBuf>,
    /// Read a password-protected PSKC file's password from standard input (one line; after
    /// the ZIP's line with --zip-password-stdin) instead of asking on the terminal.
    #[arg(long)]
    pub pskc_password_stdin: bool,
    /// Read a password ZIP's password from standard input (one line) instead of asking on the
    /// terminal.
    #[arg(long)]
    pub zip_password_stdin: bool,
    /// The users of a file that names none (PSKC, Deepnet's CSV): a CSV of `serial,upn`.
    #[arg(long, value_name = "FILE")]
    pub assign_csv: Option<PathBuf>,
}

fn parse_delimiter(text: &str) -> Result<u8, String> {
    match text {
        "," | "comma" => Ok(b','),
        ";" | "semicolon" => Ok(b';'),
        "tab" | "\\t" | "\t" => Ok(b'\t'),
        "|" | "pipe" => Ok(b'|'),
        _ => Err("expected ',', ';', 'tab' or '|'".into()),
    }
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum HashArg {
    Sha1,
    Sha256,
}

impl From<HashArg> for HashFunction {
    fn from(h: HashArg) -> Self {
        match h {
            HashArg::Sha1 => HashFunction::Sha1,
            HashArg::Sha256 => HashFunction::Sha256,
        }
    }
}

/// rhai row scripts.
#[derive(Debug, Clone, Args, Default)]
#[command(next_help_heading = "Row scripts (rhai)")]
pub struct ScriptArgs {
    /// Keep rows for which this rhai expression is true, e.g. `row.upn.ends_with("@contoso.com")`.
    #[arg(long = "where", value_name = "EXPR", allow_hyphen_values = true)]
    pub where_expr: Option<String>,
    /// Sort rows by this rhai expression, computed once per row (reads the whole file first).
    #[arg(long, value_name = "EXPR", allow_hyphen_values = true)]
    pub order_by: Option<String>,
    /// A rhai file defining any of `fn filter(row)`, `fn key(row)`, `fn map(row)`.
    #[arg(long, value_name = "FILE")]
    pub script: Option<PathBuf>,
    /// Keep only the CSV lines listed in FILE (one line number per line; the header is line 1).
    /// For programs selecting rows (the PowerShell module); applied before the scripts.
    #[arg(long, value_name = "FILE")]
    pub lines: Option<PathBuf>,
}

impl ScriptArgs {
    pub fn options(&self, reveal_secrets: bool) -> ScriptOptions {
        ScriptOptions {
            where_expr: self.where_expr.clone(),
            order_by: self.order_by.clone(),
            script_file: self.script.clone(),
            reveal_secrets,
            lines_file: self.lines.clone(),
        }
    }
}

/// What goes to stdout.
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Output")]
pub struct OutputArgs {
    /// `auto` (default): a table when stdout is a terminal, JSON lines (docs/json-lines.md)
    /// when it is a pipe or a file; `json` or `table` forces either.
    #[arg(long, value_enum, default_value_t = Format::Auto)]
    pub format: Format,
}

/// What goes to stdout, and the progress on stderr: the commands that read a tenant and
/// write no row of their own (`tenant`, `status`, `doctor`).
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Output")]
pub struct OutputProgressArgs {
    #[command(flatten)]
    pub stdout: OutputArgs,
    /// Progress on stderr.
    #[arg(long, value_enum, default_value_t = ProgressMode::Auto)]
    pub progress: ProgressMode,
}

/// What goes to stdout, for the commands that can show seeds (`list`, `otp`): only they
/// take `--reveal-secrets`; elsewhere it would be accepted and do nothing, so it is a usage
/// error there.
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Output")]
pub struct RevealOutputArgs {
    /// `json`: one record per line (docs/json-lines.md); `table`: for people.
    #[arg(long, value_enum, default_value_t = Format::Json)]
    pub format: Format,
    /// Put token secrets in records and show them to scripts. Off by default.
    #[arg(long)]
    pub reveal_secrets: bool,
}

/// How fast a command that writes to the tenant may go, for `activate`, `import` and the
/// lifecycle commands alike.
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Pace")]
pub struct PaceArgs {
    /// Requests in flight at once.
    #[arg(long, value_name = "N", default_value_t = 16, value_parser = clap::value_parser!(u16).range(1..=64))]
    pub parallel: u16,
    /// A ceiling on write requests per second. Graph: the pace starts at it, steps back a
    /// little on a 429 and climbs back; without it the pace is found (started moderately,
    /// raised while writes succeed, cut on a 429). Portal: the pace itself [default: graph
    /// none, portal 0.667 (its documented 200 per 5 minutes)].
    #[arg(long, value_name = "PER_SECOND")]
    pub max_rate: Option<f64>,
    /// Send at exactly --max-rate, without searching for the tenant's pace.
    #[arg(long, requires = "max_rate")]
    pub fixed_rate: bool,
    /// The longest the tenant may make the run wait (one `Retry-After`, or one request's
    /// retries); beyond it the run stops (exit 4) and `--resume` picks it up later.
    #[arg(long, value_name = "SECONDS", default_value_t = 300, value_parser = clap::value_parser!(u64).range(1..=86_400))]
    pub max_wait: u64,
    /// For measuring only (benches/activate-bench.sh `WITHOUT=`): switch off mechanisms of
    /// the pace and of activation, each of which must earn its place in a measured table.
    #[arg(long, hide = true, value_enum, value_delimiter = ',')]
    pub without: Vec<Mechanism>,
}

/// A mechanism `--without` can switch off (hidden: a measuring tool, not a setting).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Mechanism {
    Closures,
    Forecast,
    OpenRate,
    Replay,
    CatchUp,
    RampWaits,
    /// Throttle hints on taken writes (`RateLimit`, `x-ms-throttle-limit-percentage`).
    Hints,
    /// Codes of the next step sent in a step's last margin (where the tenant takes them).
    NextStepCodes,
    /// The cap on writes in flight a concurrency limit's answers show.
    Inflight,
}

impl PaceArgs {
    /// The pacer's mechanisms `--without` leaves on.
    fn mechanisms(&self) -> crate::engine::pacer::Mechanisms {
        let off = |m| self.without.contains(&m);
        crate::engine::pacer::Mechanisms {
            closures: !off(Mechanism::Closures),
            forecast: !off(Mechanism::Forecast),
            open_rate: !off(Mechanism::OpenRate),
            replay: !off(Mechanism::Replay),
            catch_up: !off(Mechanism::CatchUp),
            ramp_waits: !off(Mechanism::RampWaits),
            hints: !off(Mechanism::Hints),
            inflight: !off(Mechanism::Inflight),
        }
    }

    /// Activation's own mechanisms `--without` leaves on.
    pub fn activation_features(&self) -> crate::activate::Features {
        crate::activate::Features { next_step_codes: !self.without.contains(&Mechanism::NextStepCodes) }
    }
}

impl PaceArgs {
    /// The engine's configuration for this backend.
    pub fn engine_config(&self, backend: crate::backend::BackendKind) -> anyhow::Result<crate::engine::EngineConfig> {
        if let Some(rate) = self.max_rate {
            if !(rate.is_finite() && rate > 0.0) {
                anyhow::bail!("--max-rate must be a positive number of requests per second");
            }
        }
        let pace = match (self.fixed_rate, self.max_rate) {
            (true, Some(rate)) => crate::engine::PaceMode::Fixed(rate),
            _ => backend.default_pace(self.max_rate),
        };
        Ok(crate::engine::EngineConfig {
            parallel: usize::from(self.parallel),
            pace,
            policy: crate::engine::RetryPolicy {
                max_wait: std::time::Duration::from_secs(self.max_wait),
                ..Default::default()
            },
            mechanisms: self.mechanisms(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        pace: PaceArgs,
    }

    #[test]
    fn without_switches_off_only_what_it_names_and_is_hidden() {
        let all = Cli::parse_from(["x"]).pace;
        assert_eq!(all.mechanisms(), crate::engine::pacer::Mechanisms::ALL);
        assert_eq!(all.activation_features(), crate::activate::Features::default());
        let some = Cli::parse_from(["x", "--without", "catch-up,next-step-codes"]).pace;
        let m = some.mechanisms();
        assert!(!m.catch_up && m.closures && m.forecast && m.open_rate && m.replay && m.ramp_waits && m.hints);
        assert!(!some.activation_features().next_step_codes);
        let help = <Cli as clap::CommandFactory>::command().render_long_help().to_string();
        assert!(!help.contains("--without"), "a measuring tool, not a setting: {help}");
    }
}
