//! FETCH and UID FETCH (RFC 9051 §6.4.5, BINARY RFC 3516): every item; bodies are read from the
//! mailstore outside the folder lock and streamed out as they are rendered.
//!
//! ```text
//! fetch = ["UID" SP] "FETCH" SP sequence-set SP ("ALL" / "FULL" / "FAST" / fetch-att /
//!         "(" fetch-att *(SP fetch-att) ")")
//! ```

use super::super::{Outcome, Session, view::write_flags};
use crate::{
    mime::{self, BinaryError, Message},
    proto::{
        command::{Cmd, FetchAtt},
        section::{Section, SectionText},
        write::Out,
    },
    store::{FlagMode, Msg, index::flag},
};

fn needs_content(a: &FetchAtt) -> bool {
    !matches!(
        a,
        FetchAtt::Uid
            | FetchAtt::Flags
            | FetchAtt::InternalDate
            | FetchAtt::Rfc822Size
            | FetchAtt::ModSeq
    )
}

/// Items answered from the header block alone.
fn header_only(a: &FetchAtt) -> bool {
    match a {
        FetchAtt::Envelope | FetchAtt::Rfc822Header => true,
        FetchAtt::Section { section, .. } => {
            section.part.is_empty()
                && matches!(
                    section.text,
                    SectionText::Header | SectionText::HeaderFields { .. }
                )
        }
        a => !needs_content(a),
    }
}

fn sets_seen(a: &FetchAtt) -> bool {
    matches!(
        a,
        FetchAtt::Section { peek: false, .. }
            | FetchAtt::Binary { peek: false, .. }
            | FetchAtt::Rfc822
            | FetchAtt::Rfc822Text
    )
}

/// `INTERNALDATE` text: `"17-Jul-1996 02:44:25 +0000"` (UTC).
pub fn internal_date(secs: i64) -> String {
    chrono::DateTime::from_timestamp(secs, 0)
        .unwrap_or_default()
        .format("%d-%b-%Y %H:%M:%S +0000")
        .to_string()
}

fn partial_echo(p: Option<(u32, u32)>) -> String {
    p.map(|(o, _)| format!("<{o}>")).unwrap_or_default()
}

fn cut(data: &[u8], p: Option<(u32, u32)>) -> &[u8] {
    match p {
        Some((o, n)) => mime::partial(data, o as u64, Some(n as u64)),
        None => data,
    }
}

/// Renders one message's items. Err: an item cannot be answered (unknown encoding).
fn render(
    out: &mut Out,
    atts: &[FetchAtt],
    m: &Msg,
    flags: &[u8],
    p: &Message<'_>,
) -> Result<(), String> {
    for (i, a) in atts.iter().enumerate() {
        if i > 0 {
            out.sp();
        }
        match a {
            FetchAtt::Uid => {
                out.text("UID ").num(m.uid as u64);
            }
            FetchAtt::Flags => {
                out.text("FLAGS ").raw(flags);
            }
            FetchAtt::InternalDate => {
                out.text("INTERNALDATE \"")
                    .text(&internal_date(m.date))
                    .text("\"");
            }
            FetchAtt::Rfc822Size => {
                out.text("RFC822.SIZE ").num(m.size);
            }
            FetchAtt::ModSeq => {
                out.text("MODSEQ (").num(m.modseq).text(")");
            }
            FetchAtt::Envelope => {
                out.text("ENVELOPE ");
                p.envelope(out);
            }
            FetchAtt::Body => {
                out.text("BODY ");
                p.body_structure(out, false);
            }
            FetchAtt::BodyStructure => {
                out.text("BODYSTRUCTURE ");
                p.body_structure(out, true);
            }
            FetchAtt::Section {
                section, partial, ..
            } => {
                let data = p.section(section).unwrap_or_default();
                out.text("BODY[")
                    .text(&section.echo())
                    .text("]")
                    .text(&partial_echo(*partial))
                    .sp();
                out.literal(cut(&data, *partial));
            }
            FetchAtt::Binary { part, partial, .. } => {
                let echo: Vec<String> = part.iter().map(u32::to_string).collect();
                out.text("BINARY[")
                    .text(&echo.join("."))
                    .text("]")
                    .text(&partial_echo(*partial))
                    .sp();
                match p.binary(part) {
                    Ok(data) => {
                        let d = cut(&data, *partial);
                        if mime::binary::needs_literal8(d) {
                            out.literal8(d);
                        } else {
                            out.literal(d);
                        }
                    }
                    Err(BinaryError::NoSuchPart) => {
                        out.nil();
                    }
                    Err(e @ BinaryError::UnknownEncoding(_)) => return Err(e.to_string()),
                }
            }
            FetchAtt::BinarySize { part } => {
                let echo: Vec<String> = part.iter().map(u32::to_string).collect();
                out.text("BINARY.SIZE[").text(&echo.join(".")).text("] ");
                match p.binary_size(part) {
                    Ok(n) => {
                        out.num(n);
                    }
                    Err(BinaryError::NoSuchPart) => {
                        out.nil();
                    }
                    Err(e @ BinaryError::UnknownEncoding(_)) => return Err(e.to_string()),
                }
            }
            FetchAtt::Rfc822 => {
                out.text("RFC822 ").literal(p.raw());
            }
            FetchAtt::Rfc822Header => {
                let h = p
                    .section(&Section {
                        part: Vec::new(),
                        text: SectionText::Header,
                    })
                    .unwrap_or_default();
                out.text("RFC822.HEADER ").literal(&h);
            }
            FetchAtt::Rfc822Text => {
                let t = p
                    .section(&Section {
                        part: Vec::new(),
                        text: SectionText::Text,
                    })
                    .unwrap_or_default();
                out.text("RFC822.TEXT ").literal(&t);
            }
        }
    }
    Ok(())
}

/// `fetch`
pub fn run(s: &mut Session, c: &Cmd) -> Outcome {
    let Cmd::Fetch { uid, set, atts, .. } = c else {
        return Outcome::Bad("FETCH".into());
    };
    let uids = match super::util::resolve(s, set, *uid, false) {
        Ok(u) => u,
        Err(o) => return o,
    };
    let mut atts = atts.clone();
    if *uid && !atts.contains(&FetchAtt::Uid) {
        atts.insert(0, FetchAtt::Uid);
    }
    let content = atts.iter().any(needs_content);
    let headers_only = atts.iter().all(header_only);
    let user = super::util::user(s);
    let folder = s.view.as_ref().unwrap().folder.clone();
    let read_only = s.view.as_ref().unwrap().read_only;
    // Reading a body sets \Seen; the new flags go out with this FETCH.
    let mut with_flags = atts.contains(&FetchAtt::Flags);
    if atts.iter().any(sets_seen) && !read_only {
        let unseen: Vec<u32> = {
            let st = folder.lock();
            uids.iter()
                .copied()
                .filter(|u| {
                    st.pos(*u)
                        .is_some_and(|i| st.msgs[i].flags & flag::SEEN == 0)
                })
                .collect()
        };
        if !unseen.is_empty() {
            s.sync(false);
            match folder.store(user.sfs(), &unseen, FlagMode::Add, flag::SEEN, &[], None) {
                Ok(st) => {
                    let v = s.view.as_mut().unwrap();
                    if st.after == st.before + 1 && v.modseq == st.before {
                        v.modseq = st.after;
                        if !with_flags {
                            atts.push(FetchAtt::Flags);
                            with_flags = true;
                        }
                    }
                }
                Err(e) => return e.into(),
            }
        }
    }
    // Snapshot the index entries (and flags) under the lock; bodies are read after. The flags
    // of all messages go into one buffer (a FETCH 1:* of a big folder would otherwise make
    // and free an allocation per message).
    let mut flag_text = Out::new();
    let snap: Vec<(u32, Msg, std::ops::Range<usize>)> = {
        let v = s.view.as_ref().unwrap();
        let st = folder.lock();
        uids.iter()
            .filter_map(|u| {
                let seq = v.seq_of(*u)?;
                let m = st.msgs[st.pos(*u)?];
                let start = flag_text.buf.len();
                if with_flags {
                    write_flags(&mut flag_text, &st, &m, v.is_recent(*u));
                }
                Some((seq, m, start..flag_text.buf.len()))
            })
            .collect()
    };
    let missing = snap.len() < uids.len();
    let mut item = Out::new();
    // What the items that need no content are rendered against (parsed once, not per message).
    let empty = Message::parse(b"");
    for (seq, m, flag_range) in snap {
        let flags = &flag_text.buf[flag_range];
        let data: Option<std::sync::Arc<[u8]>> = if !content {
            None
        } else if headers_only {
            match folder.header(user.sfs(), m.uid) {
                Ok(Some(h)) => Some(h),
                Ok(None) => continue,
                Err(e) => return e.into(),
            }
        } else {
            match folder.read(user.sfs(), m.uid) {
                Ok(Some(d)) => Some(d.into()),
                Ok(None) => continue,
                Err(e) => return e.into(),
            }
        };
        let parsed = data.as_deref().map(Message::parse);
        item.buf.clear();
        if let Err(why) = render(
            &mut item,
            &atts,
            &m,
            flags,
            parsed.as_ref().unwrap_or(&empty),
        ) {
            return Outcome::No(format!("[UNKNOWN-CTE] {why}"));
        }
        s.out
            .text("* ")
            .num(seq as u64)
            .text(" FETCH (")
            .raw(&item.buf)
            .text(")\r\n");
        if s.flush_if_large().is_err() {
            return Outcome::No("Connection lost".into());
        }
    }
    if missing {
        return Outcome::No(
            "[EXPUNGEISSUED] Some of the requested messages no longer exist".into(),
        );
    }
    Outcome::done("FETCH")
}
