//! The arguments of `oathbulk otp` (clap); what it does is `crate::commands::otp`.

use anyhow::Result;
use clap::Args;

#[derive(Debug, Args)]
pub struct OtpArgs {
    /// The rows and what goes to stdout, as `list` takes them.
    #[command(flatten)]
    pub rows: super::list::ListArgs,
    /// The instant to compute codes for: RFC 3339 (`2026-01-01T00:00:00Z`) or Unix seconds.
    #[arg(long, value_name = "TIME", value_parser = parse_instant, help_heading = "Time")]
    pub at: Option<u64>,
    /// Seconds to add to the system clock (when it is known to be off).
    #[arg(long, value_name = "SECONDS", allow_hyphen_values = true, default_value_t = 0, help_heading = "Time")]
    pub clock_offset: i64,
}

/// `--at`: Unix seconds or RFC 3339.
pub fn parse_instant(text: &str) -> Result<u64, String> {
    if let Ok(secs) = text.parse::<u64>() {
        return Ok(secs);
    }
    let t = chrono::DateTime::parse_from_rfc3339(text)
        .map_err(|e| format!("'{text}' is neither Unix seconds nor RFC 3339 ({e})"))?;
    u64::try_from(t.timestamp()).map_err(|_| format!("'{text}' is before 1970"))
}
