//! How a seed file is opened when it is not a plain CSV: the settings only (format, keys,
//! passwords, users); `crate::vendor` reads such files. Here, beside `ReadOptions`, so that
//! the CSV reader's options name no module above it.

use std::path::PathBuf;

/// What the file is: told by its content unless given.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum InputFormat {
    /// PSKC when the file starts with `<`, else CSV; a ZIP is opened either way.
    #[default]
    Auto,
    Csv,
    Pskc,
}

/// How to open a file that is not a plain CSV.
#[derive(Debug, Clone, Default)]
pub struct VendorOptions {
    pub format: InputFormat,
    /// `--pskc-key-file`: the pre-shared key of an encrypted PSKC file.
    pub pskc_key_file: Option<PathBuf>,
    pub passwords: PasswordFrom,
    /// `--assign-csv`: `serial,upn` lines giving the users of a file that has none.
    pub assign_csv: Option<PathBuf>,
}

/// Where each password comes from.
#[derive(Debug, Clone, Copy, Default)]
pub struct PasswordFrom {
    pub zip_stdin: bool,
    pub pskc_stdin: bool,
}
