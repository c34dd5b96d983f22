//! `gateway start` (SPEC §5): persist intent `running`, ask init to start the
//! profile, wait until it is `running`.

use restart_contract::state::IntentWriter;

use crate::cli::ControlArgs;
use crate::commands::operator::{finish_start, wait_running, Ctx};
use crate::control::{Acted, Request};
use crate::exit::CommandError;

/// Runs `gateway start`: exit 0 when running; 1 naming the `exit_reason` when it
/// ends `startup_failed`, exits, or the timeout passes; 2 on bad input, unknown
/// profile or no init.
pub fn start(args: &ControlArgs) -> Result<i32, CommandError> {
    let ctx = Ctx::new(args)?;
    // Unknown profile or no init: exit 2 before anything is written.
    ctx.client.status_of(ctx.profile.as_str())?;
    let intent = ctx.persist_intent(IntentWriter::Start);
    let waited = request_start(&ctx).and_then(|()| wait_running(&ctx, None));
    finish_start(&ctx, "started", waited, intent)
}

/// Asks init to start the profile (a no-op when it is up).
pub(crate) fn request_start(ctx: &Ctx) -> Result<(), CommandError> {
    match ctx.client.act(&Request::Start {
        profile: ctx.profile.as_str().to_owned(),
    })? {
        // Start is never refused; an unexpected refusal is observed by the wait.
        Acted::Done(_) | Acted::Refused(..) => Ok(()),
    }
}
