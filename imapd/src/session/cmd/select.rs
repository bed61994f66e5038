//! SELECT and EXAMINE: open a mailbox and report its state (RFC 9051 §6.3.2).

use super::super::{
    Outcome, Session, State,
    view::{View, write_flag_lists},
};
use crate::{proto::command::Cmd, store::index::flag};

/// `select = "SELECT" SP mailbox` / `examine = "EXAMINE" SP mailbox`
pub fn run(s: &mut Session, c: &Cmd) -> Outcome {
    let Cmd::Select {
        mailbox, read_only, ..
    } = c
    else {
        return Outcome::Bad("SELECT".into());
    };
    let what = if *read_only { "EXAMINE" } else { "SELECT" };
    // Selecting closes the mailbox that was selected, even when the new one fails.
    if s.view.take().is_some() {
        s.out.text("* OK [CLOSED] Previous mailbox closed\r\n");
    }
    s.state = State::Auth;
    let name = match super::util::mailbox(mailbox) {
        Ok(n) => n,
        Err(o) => return o,
    };
    let user = super::util::user(s);
    let folder = match user.folder(&name) {
        Ok(f) => f,
        Err(e) => return e.into(),
    };
    let view = View::open(folder.clone(), name.clone(), *read_only);
    {
        let st = folder.lock();
        write_flag_lists(&mut s.out, &st, *read_only);
        s.out
            .text("* ")
            .num(view.exists() as u64)
            .text(" EXISTS\r\n");
        if !s.rev2 {
            s.out
                .text("* ")
                .num(view.recent.len() as u64)
                .text(" RECENT\r\n");
            let first_unseen = view.uids.iter().position(|u| {
                st.pos(*u)
                    .is_some_and(|i| st.msgs[i].flags & flag::SEEN == 0)
            });
            if let Some(p) = first_unseen {
                s.out
                    .text("* OK [UNSEEN ")
                    .num(p as u64 + 1)
                    .text("] First unseen\r\n");
            }
        }
        s.out
            .text("* OK [UIDVALIDITY ")
            .num(st.uidvalidity as u64)
            .text("] UIDs valid\r\n* OK [UIDNEXT ")
            .num(view.max_uid().max(st.uidnext.saturating_sub(1)) as u64 + 1)
            .text("] Predicted next UID\r\n");
    }
    s.view = Some(view);
    s.state = State::Selected;
    let id = s.id;
    s.server.update(id, |i| i.mailbox = Some(name));
    Outcome::Ok(format!(
        "[{}] {what} completed",
        if *read_only {
            "READ-ONLY"
        } else {
            "READ-WRITE"
        }
    ))
}
