//! `omix bench`: throughput table (filled in below).

use anyhow::Result;

use crate::cli::BenchArgs;

pub fn run(_args: BenchArgs) -> Result<()> {
    anyhow::bail!("omix bench is not built yet")
}
