//! `gateway restart` (SPEC §5): persist intent `running`; a running gateway gets
//! SIGUSR1 (it exits 75 and init starts it again) and the command waits for a new
//! pid to be `running`; a profile that is down is started as by `gateway start`.

use restart_contract::state::IntentWriter;

use crate::cli::ControlArgs;
use crate::commands::operator::{finish_start, wait_running, Ctx};
use crate::commands::start::request_start;
use crate::control::{Acted, Request, Supervised};
use crate::exit::CommandError;

/// Runs `gateway restart`; exits as `gateway start` does.
pub fn restart(args: &ControlArgs) -> Result<i32, CommandError> {
    let ctx = Ctx::new(args)?;
    let st = ctx.client.status_of(ctx.profile.as_str())?;
    let intent = ctx.persist_intent(IntentWriter::Restart);
    let waited = if st.supervised == Supervised::Up {
        let old = (st.pid.unwrap_or(0), st.start_time);
        match ctx.client.act(&Request::Restart {
            profile: ctx.profile.as_str().to_owned(),
        }) {
            Ok(Acted::Done(_)) => wait_running(&ctx, Some(old)),
            // It went down meanwhile: the same as start.
            Ok(Acted::Refused(..)) => request_start(&ctx).and_then(|()| wait_running(&ctx, None)),
            Err(e) => Err(e),
        }
    } else {
        request_start(&ctx).and_then(|()| wait_running(&ctx, None))
    };
    finish_start(&ctx, "restarted", waited, intent)
}
