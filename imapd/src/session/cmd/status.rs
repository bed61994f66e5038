//! STATUS: counts of a mailbox without selecting it (RFC 9051 §6.3.11, STATUS=SIZE).

use std::sync::Arc;

use super::super::{Outcome, Session};
use crate::{
    proto::{
        command::{Cmd, StatusItem},
        utf7,
        write::Out,
    },
    store::{Folder, index::flag},
};

/// Writes `* STATUS name (items)` for a folder.
pub fn write(out: &mut Out, name: &str, f: &Arc<Folder>, items: &[StatusItem]) {
    let st = f.lock();
    out.text("* STATUS ");
    out.astring(utf7::encode(name).as_bytes());
    out.text(" (");
    for (i, it) in items.iter().enumerate() {
        if i > 0 {
            out.sp();
        }
        let (label, v): (&str, u64) = match it {
            StatusItem::Messages => ("MESSAGES", st.msgs.len() as u64),
            StatusItem::Recent => (
                "RECENT",
                st.msgs.iter().filter(|m| m.uid >= st.recent_floor).count() as u64,
            ),
            StatusItem::UidNext => ("UIDNEXT", st.uidnext as u64),
            StatusItem::UidValidity => ("UIDVALIDITY", st.uidvalidity as u64),
            StatusItem::Unseen => (
                "UNSEEN",
                st.msgs.iter().filter(|m| m.flags & flag::SEEN == 0).count() as u64,
            ),
            StatusItem::Deleted => (
                "DELETED",
                st.msgs
                    .iter()
                    .filter(|m| m.flags & flag::DELETED != 0)
                    .count() as u64,
            ),
            StatusItem::Size => ("SIZE", st.msgs.iter().map(|m| m.size).sum()),
            StatusItem::HighestModSeq => ("HIGHESTMODSEQ", st.modseq),
        };
        out.text(label).sp().num(v);
    }
    out.text(")\r\n");
}

/// `status = "STATUS" SP mailbox SP "(" status-att *(SP status-att) ")"`
pub fn run(s: &mut Session, c: &Cmd) -> Outcome {
    let Cmd::Status { mailbox, items } = c else {
        return Outcome::Bad("STATUS".into());
    };
    let name = match super::util::mailbox(mailbox) {
        Ok(n) => n,
        Err(o) => return o,
    };
    let f = match super::util::user(s).folder(&name) {
        Ok(f) => f,
        Err(e) => return e.into(),
    };
    write(&mut s.out, &name, &f, items);
    Outcome::done("STATUS")
}
