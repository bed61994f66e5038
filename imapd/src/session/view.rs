//! A session's view of its selected mailbox: the message sequence numbers it has announced
//! (each a UID), the MODSEQ it has reported up to, its `\Recent` messages, and the untagged
//! responses that bring it up to date with the folder (RFC 3501 §7, RFC 9051 §7.5).
//!
//! Expunges are reported only where the RFCs allow (not during FETCH, STORE or SEARCH, so that
//! sequence numbers do not move under a command that uses them); new messages (EXISTS) and
//! flag changes (FETCH FLAGS) whenever a command ends.

use std::sync::Arc;

use crate::{
    proto::write::Out,
    store::{Folder, FolderState, Msg, index::flag},
};

/// The selected mailbox.
#[derive(Debug)]
pub struct View {
    /// The folder.
    pub folder: Arc<Folder>,
    /// Its name (UTF-8).
    pub name: String,
    /// EXAMINE (or a read-only SELECT).
    pub read_only: bool,
    /// UID of each message number (index = number - 1).
    pub uids: Vec<u32>,
    /// Flag and new-message changes are reported up to this MODSEQ.
    pub modseq: u64,
    /// Expunges are reported up to this MODSEQ.
    pub expunge_modseq: u64,
    /// `\Recent` messages of this session (sorted UIDs).
    pub recent: Vec<u32>,
    /// Keywords announced in FLAGS.
    pub keywords: usize,
    /// UIDVALIDITY.
    pub uidvalidity: u32,
}

/// The flags of a message as IMAP writes them.
pub fn write_flags(out: &mut Out, st: &FolderState, m: &Msg, recent: bool) {
    out.open();
    let mut first = true;
    let mut put = |out: &mut Out, s: &str| {
        if !first {
            out.sp();
        }
        first = false;
        out.text(s);
    };
    for (bit, name) in [
        (flag::SEEN, "\\Seen"),
        (flag::ANSWERED, "\\Answered"),
        (flag::FLAGGED, "\\Flagged"),
        (flag::DELETED, "\\Deleted"),
        (flag::DRAFT, "\\Draft"),
    ] {
        if m.flags & bit != 0 {
            put(out, name);
        }
    }
    for k in st.keyword_names(m.keywords) {
        put(out, k);
    }
    if recent {
        put(out, "\\Recent");
    }
    out.close();
}

/// `* FLAGS (…)` and `* OK [PERMANENTFLAGS (…)]` for the folder's keywords.
pub fn write_flag_lists(out: &mut Out, st: &FolderState, read_only: bool) {
    let mut names = String::from("\\Answered \\Flagged \\Deleted \\Seen \\Draft");
    for k in st.keywords.iter().filter(|k| !k.is_empty()) {
        names.push(' ');
        names.push_str(k);
    }
    out.text("* FLAGS (").text(&names).text(")\r\n");
    if read_only {
        out.text("* OK [PERMANENTFLAGS ()] Read-only mailbox\r\n");
    } else {
        let more = st.keywords.iter().filter(|k| !k.is_empty()).count()
            < crate::store::folder::MAX_KEYWORDS;
        out.text("* OK [PERMANENTFLAGS (")
            .text(&names)
            .text(if more {
                " \\*)] Flags permitted\r\n"
            } else {
                ")] Flags permitted\r\n"
            });
    }
}

impl View {
    /// A view of `folder` as it is now; claims its new messages as `\Recent` unless read-only.
    pub fn open(folder: Arc<Folder>, name: String, read_only: bool) -> View {
        let mut st = folder.lock();
        let uids: Vec<u32> = st.msgs.iter().map(|m| m.uid).collect();
        // EXAMINE shows \Recent without taking it; SELECT takes it.
        let floor = st.recent_floor;
        let recent = uids.iter().copied().filter(|u| *u >= floor).collect();
        if !read_only {
            st.recent_floor = st.uidnext;
        }
        let v = View {
            name,
            read_only,
            modseq: st.modseq,
            expunge_modseq: st.modseq,
            keywords: st.keywords.len(),
            uidvalidity: st.uidvalidity,
            uids,
            recent,
            folder: folder.clone(),
        };
        drop(st);
        v
    }

    /// The number of messages.
    pub fn exists(&self) -> u32 {
        self.uids.len() as u32
    }

    /// The largest UID announced.
    pub fn max_uid(&self) -> u32 {
        self.uids.last().copied().unwrap_or(0)
    }

    /// Whether `uid` is `\Recent` for this session.
    pub fn is_recent(&self, uid: u32) -> bool {
        self.recent.binary_search(&uid).is_ok()
    }

    /// The message number of `uid`.
    pub fn seq_of(&self, uid: u32) -> Option<u32> {
        self.uids.binary_search(&uid).ok().map(|i| i as u32 + 1)
    }

    /// Brings the session up to date, writing the untagged responses. `expunges`: EXPUNGE
    /// responses are allowed now. `rev2`: no RECENT responses. Returns false when the folder
    /// was deleted (the caller ends the selection).
    pub fn sync(&mut self, out: &mut Out, expunges: bool, rev2: bool) -> bool {
        let folder = self.folder.clone();
        if folder.version() == self.modseq && (!expunges || self.expunge_modseq == self.modseq) {
            return true;
        }
        let mut st = folder.lock();
        if st.deleted {
            return false;
        }
        if expunges && self.expunge_modseq < st.modseq {
            self.report_expunges(out, &st);
            self.expunge_modseq = st.modseq;
        }
        // New keywords: a new FLAGS list.
        if st.keywords.len() != self.keywords {
            write_flag_lists(out, &st, self.read_only);
            self.keywords = st.keywords.len();
        }
        // Flag changes of messages already announced.
        if st.modseq > self.modseq {
            let max = self.max_uid();
            let changed: Vec<Msg> = st
                .msgs
                .iter()
                .filter(|m| m.modseq > self.modseq && m.uid <= max)
                .copied()
                .collect();
            for m in changed {
                if let Some(seq) = self.seq_of(m.uid) {
                    out.text("* ").num(seq as u64).text(" FETCH (FLAGS ");
                    write_flags(out, &st, &m, self.is_recent(m.uid));
                    out.text(")\r\n");
                }
            }
        }
        // New messages.
        let max = self.max_uid();
        let start = st.msgs.partition_point(|m| m.uid <= max);
        if start < st.msgs.len() {
            let floor = st.recent_floor;
            let new: Vec<u32> = st.msgs[start..].iter().map(|m| m.uid).collect();
            for u in &new {
                if *u >= floor {
                    self.recent.push(*u);
                }
            }
            if !self.read_only {
                st.recent_floor = st.recent_floor.max(new.last().unwrap() + 1);
            }
            self.uids.extend(new);
            out.text("* ")
                .num(self.uids.len() as u64)
                .text(" EXISTS\r\n");
            if !rev2 {
                out.text("* ")
                    .num(self.recent.len() as u64)
                    .text(" RECENT\r\n");
            }
        }
        self.modseq = st.modseq;
        true
    }

    /// EXPUNGE responses for what left the folder since last reported (ascending message
    /// numbers, each counted after the ones before it are gone).
    fn report_expunges(&mut self, out: &mut Out, st: &FolderState) {
        let gone: Vec<u32> = match st.expunged_since(self.expunge_modseq) {
            Some(g) => g
                .into_iter()
                .filter(|u| self.seq_of(*u).is_some())
                .collect(),
            None => self
                .uids
                .iter()
                .copied()
                .filter(|u| st.pos(*u).is_none() && *u < st.uidnext)
                .collect(),
        };
        if gone.is_empty() {
            return;
        }
        let mut gone = gone;
        gone.sort_unstable();
        self.remove_uids(out, &gone);
    }

    /// Removes UIDs (sorted) from the view, writing EXPUNGE (or, with `vanished`, nothing: the
    /// caller reports them).
    pub fn remove_uids(&mut self, out: &mut Out, gone: &[u32]) {
        let mut removed = 0usize;
        let mut kept = Vec::with_capacity(self.uids.len());
        for (i, u) in self.uids.iter().enumerate() {
            if gone.binary_search(u).is_ok() {
                out.text("* ")
                    .num((i - removed + 1) as u64)
                    .text(" EXPUNGE\r\n");
                removed += 1;
            } else {
                kept.push(*u);
            }
        }
        self.uids = kept;
        self.recent.retain(|u| gone.binary_search(u).is_err());
    }
}
