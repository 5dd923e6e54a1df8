//! The arguments of `oathbulk users` (clap); what it does is `crate::commands::users`.

use super::connect::ConnectArgs;
use super::RowsArgs;
use crate::diag::ProgressMode;
use clap::Args;

#[derive(Debug, Args)]
pub struct UsersArgs {
    #[command(flatten)]
    pub rows: RowsArgs,
    /// Add each token's status in the tenant and who holds it (needs credentials).
    #[arg(long, help_heading = "Tenant")]
    pub with_tenant: bool,
    #[command(flatten)]
    pub connect: ConnectArgs,
    /// Progress on stderr (with --with-tenant).
    #[arg(long, value_enum, default_value_t = ProgressMode::Auto, help_heading = "Output")]
    pub progress: ProgressMode,
}
