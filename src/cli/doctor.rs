//! The arguments of `oathbulk doctor [CSV]` (clap); what it does is `crate::commands::doctor`.

use super::connect::ConnectArgs;
use super::{OptionalInputArgs, OutputProgressArgs};
use clap::Args;

#[derive(Debug, Args)]
pub struct DoctorArgs {
    /// The CSV is optional: with it, its problems and its tokens' tenant state are checked too.
    #[command(flatten)]
    pub input: OptionalInputArgs,
    /// The write rate the run will use, to estimate its length against the token's lifetime.
    #[arg(long, value_name = "PER_SECOND", default_value_t = crate::engine::pacer::START_RATE, help_heading = "Run")]
    pub max_rate: f64,
    #[command(flatten)]
    pub output: OutputProgressArgs,
    #[command(flatten)]
    pub connect: ConnectArgs,
}
