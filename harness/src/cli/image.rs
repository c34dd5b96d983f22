//! `image build`: the reference gateway's image (or its mutants build), or
//! a release of another target built with its adapter's recipe.

use clap::Subcommand;

use super::CliError;
use crate::backend::docker::{build_image, BuildOptions};
use crate::target::{Target, TargetError};
use crate::verdict::exit;

/// `image`.
#[derive(Debug, Clone, Subcommand)]
pub enum ImageCommand {
    /// Compile `gateway` statically and build the top-level Dockerfile around
    /// it, tagged `restart-harness/gateway:<hash of binary and Dockerfile>`;
    /// an unchanged gateway is not rebuilt.
    Build {
        /// Build the gateway with its `mutants` feature, as
        /// `restart-harness/gateway-mutants:<hash>`.
        #[arg(long)]
        mutants: bool,
        /// Build a release of another target with its adapter's recipe
        /// (`hermes@0.17.0`), tagged `REPOSITORY:VERSION-<recipe hash>`; an
        /// existing tag is not rebuilt.
        #[arg(long, value_name = "NAME@VERSION", conflicts_with = "mutants")]
        target: Option<String>,
    },
}

/// `image build`: prints the image and how it was had.
pub async fn image(cmd: &ImageCommand) -> Result<u8, CliError> {
    match cmd {
        ImageCommand::Build {
            target: Some(spec), ..
        } => {
            let target = Target::resolve(spec, None)?;
            let Some(version) = &target.version else {
                return Err(TargetError::NoVersion(target.adapter.name.clone()).into());
            };
            let tag = crate::target::image::build_release(&target.adapter, version).await?;
            println!("{tag}");
            Ok(exit::OK)
        }
        ImageCommand::Build {
            mutants,
            target: None,
        } => {
            let image = build_image(&BuildOptions::new(*mutants)).await?;
            println!("{image}");
            Ok(exit::OK)
        }
    }
}
