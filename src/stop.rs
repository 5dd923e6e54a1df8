//! Why a command ended, and the process exit code for it: the one list.
//!
//! Every command maps its ending onto [`ExitCode`], and every early stop onto a
//! [`StopReason`] (the `fatal.code` of the `summary` record). `docs/json-lines.md` and README
//! document both tables; `tests/spec_consistency.rs` fails when they and these enums disagree.
//! This is a leaf module: it imports nothing from the crate, so every layer can use it.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// The process exit code, one variant per documented meaning.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ExitCode {
    /// The run finished and every row was fine (also: stdout's reader went away).
    Ok,
    /// The run finished; some rows had errors.
    RowErrors,
    /// Usage or input error, or a file oathbulk must write could not be written.
    Usage,
    /// Authentication rejected (401/403, refused sign-in).
    Auth,
    /// The service was unreachable, kept failing, or asked to wait too long.
    Service,
    /// A bug: a thread of the tool panicked (EX_SOFTWARE), not the user's input.
    Internal,
    /// Interrupted (Ctrl-C / SIGINT).
    Interrupted,
}

impl ExitCode {
    pub const ALL: [ExitCode; 7] = [
        ExitCode::Ok,
        ExitCode::RowErrors,
        ExitCode::Usage,
        ExitCode::Auth,
        ExitCode::Service,
        ExitCode::Internal,
        ExitCode::Interrupted,
    ];

    pub const fn code(self) -> i32 {
        match self {
            ExitCode::Ok => 0,
            ExitCode::RowErrors => 1,
            ExitCode::Usage => 2,
            ExitCode::Auth => 3,
            ExitCode::Service => 4,
            ExitCode::Internal => 70,
            ExitCode::Interrupted => 130,
        }
    }

    /// The variant whose number is `code` (a `summary` record's `exit_code`).
    pub fn from_code(code: i32) -> Option<ExitCode> {
        ExitCode::ALL.into_iter().find(|c| c.code() == code)
    }

    /// The exit code of a run that finished with `errors` rows in error.
    pub const fn for_rows(errors: u64) -> ExitCode {
        if errors == 0 {
            ExitCode::Ok
        } else {
            ExitCode::RowErrors
        }
    }
}

/// The process's exit status: `main` returns it.
impl From<ExitCode> for std::process::ExitCode {
    fn from(code: ExitCode) -> Self {
        // Every code of the list is 0..=255 (the test below proves it).
        std::process::ExitCode::from(code.code() as u8)
    }
}

/// Why a run stopped early: `summary.fatal.code` on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum StopReason {
    /// Bad arguments, an unreadable or undecodable input file, a missing column.
    Usage,
    /// The tenant rejected the credentials (401/403) or the sign-in was refused.
    AuthRejected,
    /// No answer from the service: connection refused, name not resolved, TLS, time-out.
    Network,
    /// The service kept failing (5xx), answered something unreadable, or asked to wait
    /// longer than `--max-wait`.
    Service,
    /// The journal could not be written: the run stopped so that nothing goes unrecorded.
    Journal,
    /// Ctrl-C / SIGINT: requests in flight settled, the rest were not sent.
    Interrupted,
    /// A bug: a thread of the tool panicked.
    Internal,
}

impl StopReason {
    pub const ALL: [StopReason; 7] = [
        StopReason::Usage,
        StopReason::AuthRejected,
        StopReason::Network,
        StopReason::Service,
        StopReason::Journal,
        StopReason::Interrupted,
        StopReason::Internal,
    ];

    /// The wire name (`fatal.code`).
    pub const fn as_str(self) -> &'static str {
        match self {
            StopReason::Usage => "usage",
            StopReason::AuthRejected => "auth_rejected",
            StopReason::Network => "network",
            StopReason::Service => "service",
            StopReason::Journal => "journal",
            StopReason::Interrupted => "interrupted",
            StopReason::Internal => "internal",
        }
    }

    /// The one mapping from reasons to exit codes.
    pub const fn exit_code(self) -> ExitCode {
        match self {
            StopReason::Usage | StopReason::Journal => ExitCode::Usage,
            StopReason::AuthRejected => ExitCode::Auth,
            StopReason::Network | StopReason::Service => ExitCode::Service,
            StopReason::Interrupted => ExitCode::Interrupted,
            StopReason::Internal => ExitCode::Internal,
        }
    }
}

impl std::fmt::Display for StopReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a panic said (its payload, when it is text): for the `internal` stop's message.
pub fn panic_text(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "no message".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_codes_are_distinct_and_documented_values() {
        let codes: Vec<i32> = ExitCode::ALL.iter().map(|c| c.code()).collect();
        assert_eq!(codes, vec![0, 1, 2, 3, 4, 70, 130]);
    }

    #[test]
    fn every_stop_reason_maps_to_a_non_success_exit_code() {
        for r in StopReason::ALL {
            let code = r.exit_code();
            assert!(!matches!(code, ExitCode::Ok | ExitCode::RowErrors), "{r} must not look like a finished run");
        }
        assert_eq!(StopReason::AuthRejected.exit_code().code(), 3);
        assert_eq!(StopReason::Network.exit_code().code(), 4);
        assert_eq!(StopReason::Service.exit_code().code(), 4);
        assert_eq!(StopReason::Interrupted.exit_code().code(), 130);
        assert_eq!(StopReason::Usage.exit_code().code(), 2);
    }

    #[test]
    fn wire_names_round_trip_through_serde() {
        for r in StopReason::ALL {
            let json = serde_json::to_string(&r).unwrap();
            assert_eq!(json, format!("\"{}\"", r.as_str()));
            assert_eq!(serde_json::from_str::<StopReason>(&json).unwrap(), r);
        }
    }

    #[test]
    fn every_code_fits_a_process_status_and_reads_back() {
        for c in ExitCode::ALL {
            assert!((0..=255).contains(&c.code()), "{c:?}");
            assert_eq!(ExitCode::from_code(c.code()), Some(c));
        }
        assert_eq!(ExitCode::from_code(101), None);
    }

    #[test]
    fn rows_decide_between_ok_and_row_errors() {
        assert_eq!(ExitCode::for_rows(0), ExitCode::Ok);
        assert_eq!(ExitCode::for_rows(3), ExitCode::RowErrors);
    }
}
