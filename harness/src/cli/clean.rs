//! `clean`: removes what killed runs left on the Docker engine.

use clap::Args;

use super::CliError;
use crate::verdict::exit;

/// `clean`.
#[derive(Debug, Clone, Args)]
pub struct CleanArgs {
    /// Also remove every image tagged under `restart-harness/`.
    #[arg(long)]
    pub images: bool,
}

/// `clean`: removes what earlier runs left; exit 1 when something could not be removed.
pub async fn clean(args: &CleanArgs) -> Result<u8, CliError> {
    let report = crate::backend::docker::clean(args.images).await?;
    print!("{report}");
    Ok(if report.failures.is_empty() {
        exit::OK
    } else {
        exit::FAILED
    })
}
