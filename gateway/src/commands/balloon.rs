//! `gateway balloon --mib N [--profile P]`: the OOM test hook's client.

use std::time::Duration;

use crate::cli::Dirs;
use crate::commands::ping::{profile_socket, request};
use crate::exit::CommandError;

/// How long the gateway may take to allocate and touch the memory.
pub const BALLOON_TIMEOUT: Duration = Duration::from_secs(60);

/// Asks the gateway to allocate and touch `mib` MiB; exit 0 on `ballooned <mib>`,
/// 1 on any other reply, no reply, or a gateway killed before replying.
pub fn balloon(dirs: &Dirs, mib: u64, profile: &str) -> Result<i32, CommandError> {
    let socket = profile_socket(dirs, profile)?;
    match request(&socket, &format!("balloon {mib}"), BALLOON_TIMEOUT) {
        Ok(reply) if reply.starts_with("ballooned") => {
            println!("{reply}");
            Ok(crate::exit::OK)
        }
        Ok(reply) => Err(CommandError::failed(format!("gateway replied: {reply}"))),
        // The OOM killer may take the gateway before it answers: that is the
        // expected end of a balloon in a memory-limited container, and
        // ChannelError::Closed says so ("connection closed: gateway probably killed").
        Err(e) => Err(CommandError::failed(e.to_string())),
    }
}
