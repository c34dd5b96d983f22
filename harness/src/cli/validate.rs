//! Every option checked before anything runs: an option the chosen backend or
//! target would ignore, a mutant the gateway does not have, an image that is
//! not there. Each refusal is one line that names the problem and its fix
//! (exit 2): a gate that ran something else than what was asked would answer
//! a question nobody asked.

use std::path::{Path, PathBuf};

use crate::backend::Selection;
use crate::mutants::{self, MutantsError};
use crate::target::Target;

use super::{BackendArg, CliError, TargetArgs};

/// A command line that asks for something the harness would not do as asked.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum Misuse {
    /// `--image` with the process backend.
    #[error(
        "--image names a Docker image, and the process backend runs a binary: \
         drop --image, or add --backend docker"
    )]
    ImageOnProcess,
    /// `--docker-host` with the process backend.
    #[error(
        "--docker-host names a Docker Engine, and the process backend runs local processes: \
         drop --docker-host, or add --backend docker"
    )]
    DockerHostOnProcess,
    /// `--docker-host` more than once for a command that runs on one engine.
    #[error(
        "`{command}` runs on one engine and --docker-host was given {count} times: \
         give it once (`run` deals a table to several)"
    )]
    SeveralEngines {
        /// The command.
        command: &'static str,
        /// How many were given.
        count: usize,
    },
    /// `--gateway` with the Docker backend.
    #[error(
        "--gateway names a binary for the process backend, and Docker runs an image: \
         drop --gateway, or add --backend process (--image names the image on Docker)"
    )]
    GatewayOnDocker,
    /// `--gateway` and `--image` with `--backend auto`.
    #[error(
        "--gateway is for the process backend and --image for Docker: give one, \
         or name the backend with --backend process|docker"
    )]
    GatewayAndImage,
    /// `--mutant` with a target that is not the reference gateway.
    #[error(
        "--mutant selects a bug of the reference gateway's mutants build; target {target} \
         has none: drop --mutant"
    )]
    MutantOnTarget {
        /// The target.
        target: String,
    },
    /// `--gateway` with a target that is not the reference gateway.
    #[error(
        "--gateway is the reference gateway's binary; target {target} runs in its own \
         image: drop --gateway (--image IMAGE gates another image of it)"
    )]
    GatewayOnTarget {
        /// The target.
        target: String,
    },
    /// `--mutant` with `--image` on Docker: which mutants an image holds is
    /// not known.
    #[error(
        "--mutant runs the mutants image restart-harness builds, and cannot tell which \
         mutants --image {image} holds: drop --image"
    )]
    MutantWithImage {
        /// The image given.
        image: String,
    },
    /// A declared target without an image recipe and no `--image`.
    #[error("target {target} has no image recipe in its adapter: pass --image IMAGE")]
    NoImage {
        /// The target.
        target: String,
    },
    /// `--gateway PATH` that does not list the mutant asked for.
    #[error(
        "{binary} does not list mutant `{name}` (`{binary} mutants` lists {listed}): \
         pass a gateway built with `cargo build -p gateway --features mutants`, or drop --gateway"
    )]
    NotAMutantsBuild {
        /// The mutant.
        name: String,
        /// The binary.
        binary: PathBuf,
        /// What it lists (`none` for a default build).
        listed: String,
    },
    /// `explore --except-claim` of a claim the target does not make.
    #[error(
        "--except-claim {claim}: target {target} does not make that claim, so explore \
         draws nothing that needs it already: drop it (`restart-harness list --target` \
         shows what it makes)"
    )]
    ExceptUnmade {
        /// The claim.
        claim: crate::target::Claim,
        /// The target.
        target: String,
    },
    /// A target's `--image` that the engine does not have.
    #[error(
        "image {image} does not exist on the engine: build or load it first \
         (`docker images` shows what is there){hint}"
    )]
    NoSuchImage {
        /// The image.
        image: String,
        /// How to build it, for a target built per release.
        hint: String,
    },
}

/// The backend to ask for, given what `--backend`, `--gateway` and `--image`
/// say, for a target of the contract (the reference gateway): `auto` with
/// `--gateway` means the process backend, with `--image` Docker.
pub fn contract_selection(t: &TargetArgs) -> Result<Selection, Misuse> {
    match (t.backend, &t.gateway, &t.image) {
        (BackendArg::Process, _, Some(_)) => Err(Misuse::ImageOnProcess),
        (BackendArg::Docker, Some(_), _) => Err(Misuse::GatewayOnDocker),
        (BackendArg::Auto, Some(_), Some(_)) => Err(Misuse::GatewayAndImage),
        (BackendArg::Docker | BackendArg::Auto, None, Some(image)) if t.mutant.is_some() => {
            Err(Misuse::MutantWithImage {
                image: image.clone(),
            })
        }
        (BackendArg::Auto, Some(_), None) => Ok(Selection::Process),
        (BackendArg::Auto, None, Some(_)) => Ok(Selection::Docker),
        (b, _, _) => Ok(b.into()),
    }
}

/// The options a target other than the reference gateway would ignore.
pub fn declared_options(t: &TargetArgs, target: &Target) -> Result<(), Misuse> {
    let name = target.label();
    if t.mutant.is_some() {
        return Err(Misuse::MutantOnTarget { target: name });
    }
    if t.gateway.is_some() {
        return Err(Misuse::GatewayOnTarget { target: name });
    }
    if target.image_tag().is_none() {
        return Err(Misuse::NoImage { target: name });
    }
    Ok(())
}

/// Checks that `binary` (the build that runs under `GATEWAY_MUTANT`) lists
/// `name`: a misspelt mutant, or a gateway that is not a mutants build, would
/// run the reference behaviour and pass. A binary that cannot be listed is
/// an error, not an empty list.
pub fn mutant_listed(binary: &Path, name: &str, explicit: bool) -> Result<(), CliError> {
    let listed = match mutants::list_from_binary(binary) {
        Ok(listed) => listed,
        Err(MutantsError::NoMutants(_)) => Vec::new(),
        Err(e) => return Err(e.into()),
    };
    let has = listed.iter().any(|m| m.name == name);
    if listed.is_empty() || (explicit && !has) {
        let names: Vec<&str> = listed.iter().map(|m| m.name.as_str()).collect();
        return Err(Misuse::NotAMutantsBuild {
            name: name.to_owned(),
            binary: binary.to_owned(),
            listed: if names.is_empty() {
                "none".to_owned()
            } else {
                names.join(", ")
            },
        }
        .into());
    }
    // An unknown name is the mutant gate's own error, with its nearest name.
    mutants::select(listed, &[name.to_owned()])?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(backend: BackendArg, gateway: bool, image: bool, mutant: bool) -> TargetArgs {
        TargetArgs {
            target: "reference".to_owned(),
            backend,
            gateway: gateway.then(|| PathBuf::from("/bin/gateway")),
            image: image.then(|| "img:1".to_owned()),
            mutant: mutant.then(|| "never-give-up".to_owned()),
            docker_hosts: Vec::new(),
        }
    }

    #[test]
    fn each_backend_refuses_the_option_it_would_ignore() {
        use BackendArg::{Auto, Docker, Process};
        let rows = [
            (
                args(Process, false, true, false),
                Err(Misuse::ImageOnProcess),
            ),
            (
                args(Docker, true, false, false),
                Err(Misuse::GatewayOnDocker),
            ),
            (args(Auto, true, true, false), Err(Misuse::GatewayAndImage)),
            (
                args(Docker, false, true, true),
                Err(Misuse::MutantWithImage {
                    image: "img:1".to_owned(),
                }),
            ),
            (args(Auto, true, false, false), Ok(Selection::Process)),
            (args(Auto, false, true, false), Ok(Selection::Docker)),
            (args(Auto, false, false, true), Ok(Selection::Auto)),
            (args(Process, true, false, true), Ok(Selection::Process)),
            (args(Docker, false, true, false), Ok(Selection::Docker)),
        ];
        for (a, want) in rows {
            assert_eq!(contract_selection(&a), want, "{a:?}");
        }
    }
}
