//! `oathbulk simulate`: run the fake tenant on loopback. (Stub: being built.)
use anyhow::Result;
use clap::Args;

#[derive(Debug, Args)]
pub struct SimulateArgs {}

pub fn run(_args: SimulateArgs) -> Result<i32> {
    anyhow::bail!("the simulator is not built yet")
}
