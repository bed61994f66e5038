//! From imap-codec's parsed commands (imap-types) to the server's own command types.

use imap_types::{
    command::{Command as ICommand, CommandBody},
    core::AString,
    extensions::binary::LiteralOrLiteral8,
    fetch::{Macro, MacroOrMessageDataItemNames, MessageDataItemName, Section as ISection},
    flag::{Flag as IFlag, StoreResponse, StoreType},
    mailbox::{ListMailbox, Mailbox},
    search::SearchKey as IKey,
    sequence::{SeqOrUid, Sequence, SequenceSet},
    status::StatusDataItemName,
};

use super::{
    command::{
        AddrField, AppendMsg, Cmd, Command, FetchAtt, Flag, ListReturn, ListSelect, SearchKey,
        StatusItem, StoreMode,
    },
    section::{Section, SectionText},
    seq::{SeqNum, SeqSet},
};

/// The number imap-codec sees in place of `$` (SEARCHRES), which it does not know: the parser
/// rewrites `$` to this before decoding and the conversion turns it back into [`SeqSet::Saved`].
pub const SAVED_SENTINEL: u32 = 4_294_967_295;

/// Why a parsed command cannot be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unsupported(pub String);

fn astr(a: &AString<'_>) -> String {
    String::from_utf8_lossy(a.as_ref()).into_owned()
}

/// A mailbox name as UTF-8: INBOX in any case is INBOX; others are decoded from modified UTF-7
/// unless the client enabled UTF8=ACCEPT (then they are UTF-8 already).
pub fn mailbox(m: &Mailbox<'_>, utf8: bool) -> Result<String, Unsupported> {
    match m {
        Mailbox::Inbox => Ok("INBOX".into()),
        Mailbox::Other(o) => mailbox_bytes(o.as_ref(), utf8),
    }
}

/// A mailbox name from raw bytes (see [`mailbox`]).
pub fn mailbox_bytes(b: &[u8], utf8: bool) -> Result<String, Unsupported> {
    if b.eq_ignore_ascii_case(b"INBOX") {
        return Ok("INBOX".into());
    }
    let s = std::str::from_utf8(b).map_err(|_| Unsupported("mailbox name is not UTF-8".into()))?;
    if utf8 {
        return Ok(s.to_string());
    }
    // A name that is not valid modified UTF-7 is taken as it is (it then names no mailbox,
    // or a mailbox created with that same name).
    Ok(super::utf7::decode(s).unwrap_or_else(|| s.to_string()))
}

fn list_mailbox(m: &ListMailbox<'_>, utf8: bool) -> Result<String, Unsupported> {
    let b: &[u8] = match m {
        ListMailbox::Token(t) => t.as_ref(),
        ListMailbox::String(s) => s.as_ref(),
    };
    if utf8 {
        return Ok(String::from_utf8_lossy(b).into_owned());
    }
    let s = std::str::from_utf8(b).map_err(|_| Unsupported("pattern is not UTF-8".into()))?;
    Ok(super::utf7::decode(s).unwrap_or_else(|| s.to_string()))
}

fn seq_num(s: &SeqOrUid) -> SeqNum {
    match s {
        SeqOrUid::Value(v) => SeqNum::Num(v.get()),
        SeqOrUid::Asterisk => SeqNum::Star,
    }
}

/// A sequence set; the `$` sentinel becomes [`SeqSet::Saved`].
pub fn seq_set(s: &SequenceSet) -> SeqSet {
    let v: Vec<(SeqNum, SeqNum)> =
        s.0.as_ref()
            .iter()
            .map(|q| match q {
                Sequence::Single(a) => (seq_num(a), seq_num(a)),
                Sequence::Range(a, b) => (seq_num(a), seq_num(b)),
            })
            .collect();
    if v.len() == 1 && v[0] == (SeqNum::Num(SAVED_SENTINEL), SeqNum::Num(SAVED_SENTINEL)) {
        return SeqSet::Saved;
    }
    SeqSet::Ranges(v)
}

/// A flag.
pub fn flag(f: &IFlag<'_>) -> Flag {
    match f {
        IFlag::Seen => Flag::Seen,
        IFlag::Answered => Flag::Answered,
        IFlag::Flagged => Flag::Flagged,
        IFlag::Deleted => Flag::Deleted,
        IFlag::Draft => Flag::Draft,
        IFlag::Extension(_) => {
            let s = f.to_string();
            if s.eq_ignore_ascii_case("\\Recent") {
                Flag::Recent
            } else {
                Flag::Keyword(s)
            }
        }
        IFlag::Keyword(k) => Flag::Keyword(k.as_ref().to_string()),
    }
}

fn section(s: &Option<ISection<'_>>) -> Section {
    let part =
        |p: &imap_types::fetch::Part| p.0.as_ref().iter().map(|n| n.get()).collect::<Vec<u32>>();
    match s {
        None => Section::full(),
        Some(ISection::Part(p)) => Section {
            part: part(p),
            text: SectionText::Whole,
        },
        Some(ISection::Header(p)) => Section {
            part: p.as_ref().map(part).unwrap_or_default(),
            text: SectionText::Header,
        },
        Some(ISection::HeaderFields(p, names)) | Some(ISection::HeaderFieldsNot(p, names)) => {
            Section {
                part: p.as_ref().map(part).unwrap_or_default(),
                text: SectionText::HeaderFields {
                    not: matches!(s, Some(ISection::HeaderFieldsNot(..))),
                    names: names.as_ref().iter().map(astr).collect(),
                },
            }
        }
        Some(ISection::Text(p)) => Section {
            part: p.as_ref().map(part).unwrap_or_default(),
            text: SectionText::Text,
        },
        Some(ISection::Mime(p)) => Section {
            part: part(p),
            text: SectionText::Mime,
        },
    }
}

fn fetch_att(i: &MessageDataItemName<'_>) -> FetchAtt {
    match i {
        MessageDataItemName::Body => FetchAtt::Body,
        MessageDataItemName::BodyExt {
            section: s,
            partial,
            peek,
        } => FetchAtt::Section {
            section: section(s),
            peek: *peek,
            partial: partial.map(|(o, n)| (o, n.get())),
        },
        MessageDataItemName::BodyStructure => FetchAtt::BodyStructure,
        MessageDataItemName::Envelope => FetchAtt::Envelope,
        MessageDataItemName::Flags => FetchAtt::Flags,
        MessageDataItemName::InternalDate => FetchAtt::InternalDate,
        MessageDataItemName::Rfc822 => FetchAtt::Rfc822,
        MessageDataItemName::Rfc822Header => FetchAtt::Rfc822Header,
        MessageDataItemName::Rfc822Size => FetchAtt::Rfc822Size,
        MessageDataItemName::Rfc822Text => FetchAtt::Rfc822Text,
        MessageDataItemName::Uid => FetchAtt::Uid,
        MessageDataItemName::Binary {
            section,
            partial,
            peek,
        } => FetchAtt::Binary {
            part: section.iter().map(|n| n.get()).collect(),
            peek: *peek,
            partial: partial.map(|(o, n)| (o, n.get())),
        },
        MessageDataItemName::BinarySize { section } => FetchAtt::BinarySize {
            part: section.iter().map(|n| n.get()).collect(),
        },
        MessageDataItemName::ModSeq => FetchAtt::ModSeq,
    }
}

fn date(d: &imap_types::datetime::NaiveDate) -> chrono::NaiveDate {
    *d.as_ref()
}

/// A search key tree.
pub fn search_key(k: &IKey<'_>) -> SearchKey {
    use SearchKey as K;
    match k {
        IKey::And(v) => K::And(v.as_ref().iter().map(search_key).collect()),
        IKey::SequenceSet(s) => K::Seq(seq_set(s)),
        IKey::All => K::All,
        IKey::Answered => K::Flag(Flag::Answered, true),
        IKey::Bcc(s) => K::Addr(AddrField::Bcc, astr(s)),
        IKey::Before(d) => K::Before(date(d)),
        IKey::Body(s) => K::Body(astr(s)),
        IKey::Cc(s) => K::Addr(AddrField::Cc, astr(s)),
        IKey::Deleted => K::Flag(Flag::Deleted, true),
        IKey::Draft => K::Flag(Flag::Draft, true),
        IKey::Flagged => K::Flag(Flag::Flagged, true),
        IKey::From(s) => K::Addr(AddrField::From, astr(s)),
        IKey::Header(h, v) => K::Header(astr(h), astr(v)),
        IKey::Keyword(a) => K::Flag(Flag::Keyword(a.as_ref().to_string()), true),
        IKey::Larger(n) => K::Larger(*n),
        IKey::New => K::New,
        IKey::Not(k) => K::Not(Box::new(search_key(k))),
        IKey::Old => K::Old,
        IKey::Older(n) => K::Older(n.get()),
        IKey::On(d) => K::On(date(d)),
        IKey::Or(a, b) => K::Or(Box::new(search_key(a)), Box::new(search_key(b))),
        IKey::Recent => K::Flag(Flag::Recent, true),
        IKey::Seen => K::Flag(Flag::Seen, true),
        IKey::SentBefore(d) => K::SentBefore(date(d)),
        IKey::SentOn(d) => K::SentOn(date(d)),
        IKey::SentSince(d) => K::SentSince(date(d)),
        IKey::Since(d) => K::Since(date(d)),
        IKey::Smaller(n) => K::Smaller(*n),
        IKey::Subject(s) => K::Subject(astr(s)),
        IKey::Text(s) => K::Text(astr(s)),
        IKey::To(s) => K::Addr(AddrField::To, astr(s)),
        IKey::Uid(s) => K::Uid(seq_set(s)),
        IKey::Unanswered => K::Flag(Flag::Answered, false),
        IKey::Undeleted => K::Flag(Flag::Deleted, false),
        IKey::Undraft => K::Flag(Flag::Draft, false),
        IKey::Unflagged => K::Flag(Flag::Flagged, false),
        IKey::Unkeyword(a) => K::Flag(Flag::Keyword(a.as_ref().to_string()), false),
        IKey::Unseen => K::Flag(Flag::Seen, false),
        IKey::Younger(n) => K::Younger(n.get()),
        IKey::ModSequence { modseq, .. } => K::ModSeq(*modseq),
    }
}

fn status_item(i: &StatusDataItemName) -> StatusItem {
    match i {
        StatusDataItemName::Messages => StatusItem::Messages,
        StatusDataItemName::Recent => StatusItem::Recent,
        StatusDataItemName::UidNext => StatusItem::UidNext,
        StatusDataItemName::UidValidity => StatusItem::UidValidity,
        StatusDataItemName::Unseen => StatusItem::Unseen,
        StatusDataItemName::Deleted => StatusItem::Deleted,
        StatusDataItemName::DeletedStorage | StatusDataItemName::Size => StatusItem::Size,
        StatusDataItemName::HighestModSeq => StatusItem::HighestModSeq,
    }
}

/// Converts a decoded command. `utf8`: the session enabled UTF8=ACCEPT.
pub fn command(c: ICommand<'_>, utf8: bool) -> Result<Command, Unsupported> {
    let tag = c.tag.inner().to_string();
    let body = match c.body {
        CommandBody::Capability => Cmd::Capability,
        CommandBody::Noop => Cmd::Noop,
        CommandBody::Logout => Cmd::Logout,
        CommandBody::StartTLS => Cmd::StartTls,
        CommandBody::Authenticate {
            mechanism,
            initial_response,
        } => Cmd::Authenticate {
            mechanism: mechanism.as_ref().to_ascii_uppercase(),
            initial: initial_response.map(|r| r.declassify().to_vec()),
        },
        CommandBody::Login { username, password } => Cmd::Login {
            user: astr(&username),
            password: astr(password.declassify()),
        },
        CommandBody::Select {
            mailbox: m,
            parameters,
        } => Cmd::Select {
            mailbox: mailbox(&m, utf8)?,
            read_only: false,
            condstore: !parameters.is_empty(),
        },
        CommandBody::Examine {
            mailbox: m,
            parameters,
        } => Cmd::Select {
            mailbox: mailbox(&m, utf8)?,
            read_only: true,
            condstore: !parameters.is_empty(),
        },
        CommandBody::Unselect => Cmd::Unselect,
        CommandBody::Create { mailbox: m } => Cmd::Create {
            mailbox: mailbox(&m, utf8)?,
        },
        CommandBody::Delete { mailbox: m } => Cmd::Delete(mailbox(&m, utf8)?),
        CommandBody::Rename { from, to } => Cmd::Rename {
            from: mailbox(&from, utf8)?,
            to: mailbox(&to, utf8)?,
        },
        CommandBody::Subscribe { mailbox: m } => Cmd::Subscribe(mailbox(&m, utf8)?),
        CommandBody::Unsubscribe { mailbox: m } => Cmd::Unsubscribe(mailbox(&m, utf8)?),
        CommandBody::List {
            reference,
            mailbox_wildcard,
        } => Cmd::List {
            reference: mailbox(&reference, utf8)?,
            patterns: vec![list_mailbox(&mailbox_wildcard, utf8)?],
            select: ListSelect::default(),
            ret: ListReturn::default(),
            lsub: false,
            extended: false,
        },
        CommandBody::Lsub {
            reference,
            mailbox_wildcard,
        } => Cmd::List {
            reference: mailbox(&reference, utf8)?,
            patterns: vec![list_mailbox(&mailbox_wildcard, utf8)?],
            select: ListSelect::default(),
            ret: ListReturn::default(),
            lsub: true,
            extended: false,
        },
        CommandBody::Status {
            mailbox: m,
            item_names,
        } => Cmd::Status {
            mailbox: mailbox(&m, utf8)?,
            items: item_names.iter().map(status_item).collect(),
        },
        CommandBody::Append {
            mailbox: m,
            flags,
            date,
            message,
        } => {
            let (data, binary) = match message {
                LiteralOrLiteral8::Literal(l) => (l.data().to_vec(), false),
                LiteralOrLiteral8::Literal8(l) => (l.data.to_vec(), true),
            };
            Cmd::Append {
                mailbox: mailbox(&m, utf8)?,
                messages: vec![AppendMsg {
                    flags: flags.iter().map(flag).collect(),
                    date: date.map(|d| d.as_ref().timestamp()),
                    data,
                    binary,
                }],
            }
        }
        CommandBody::Check => Cmd::Check,
        CommandBody::Close => Cmd::Close,
        CommandBody::Expunge => Cmd::Expunge(None),
        CommandBody::ExpungeUid { sequence_set } => Cmd::Expunge(Some(seq_set(&sequence_set))),
        CommandBody::Search {
            charset,
            criteria,
            uid,
        } => {
            let keys: Vec<SearchKey> = criteria.as_ref().iter().map(search_key).collect();
            Cmd::Search {
                uid,
                ret: None,
                charset: charset.map(|c| c.as_ref().to_string()),
                key: if keys.len() == 1 {
                    keys.into_iter().next().unwrap()
                } else {
                    SearchKey::And(keys)
                },
            }
        }
        CommandBody::Fetch {
            sequence_set,
            macro_or_item_names,
            uid,
            modifiers,
        } => {
            let mut atts: Vec<FetchAtt> = match macro_or_item_names {
                MacroOrMessageDataItemNames::Macro(m) => {
                    let mut v = vec![
                        FetchAtt::Flags,
                        FetchAtt::InternalDate,
                        FetchAtt::Rfc822Size,
                    ];
                    match m {
                        Macro::Fast => {}
                        Macro::All => v.push(FetchAtt::Envelope),
                        Macro::Full => {
                            v.push(FetchAtt::Envelope);
                            v.push(FetchAtt::Body);
                        }
                        _ => {}
                    }
                    v
                }
                MacroOrMessageDataItemNames::MessageDataItemNames(v) => {
                    v.iter().map(fetch_att).collect()
                }
            };
            let mut changed_since = None;
            for m in modifiers {
                match m {
                    imap_types::command::FetchModifier::ChangedSince(n) => {
                        changed_since = Some(n.get());
                        if !atts.contains(&FetchAtt::ModSeq) {
                            atts.push(FetchAtt::ModSeq);
                        }
                    }
                    imap_types::command::FetchModifier::Vanished => {
                        return Err(Unsupported("VANISHED (QRESYNC) is not supported".into()));
                    }
                }
            }
            Cmd::Fetch {
                uid,
                set: seq_set(&sequence_set),
                atts,
                changed_since,
            }
        }
        CommandBody::Store {
            sequence_set,
            kind,
            response,
            flags,
            uid,
            modifiers,
        } => Cmd::Store {
            uid,
            set: seq_set(&sequence_set),
            mode: match kind {
                StoreType::Replace => StoreMode::Replace,
                StoreType::Add => StoreMode::Add,
                StoreType::Remove => StoreMode::Remove,
            },
            silent: matches!(response, StoreResponse::Silent),
            flags: flags.iter().map(flag).collect(),
            unchanged_since: modifiers
                .iter()
                .map(|m| match m {
                    imap_types::command::StoreModifier::UnchangedSince(n) => *n,
                })
                .next(),
        },
        CommandBody::Copy {
            sequence_set,
            mailbox: m,
            uid,
        } => Cmd::Copy {
            uid,
            set: seq_set(&sequence_set),
            mailbox: mailbox(&m, utf8)?,
        },
        CommandBody::Move {
            sequence_set,
            mailbox: m,
            uid,
        } => Cmd::Move {
            uid,
            set: seq_set(&sequence_set),
            mailbox: mailbox(&m, utf8)?,
        },
        CommandBody::Idle => Cmd::Idle,
        CommandBody::Enable { capabilities } => Cmd::Enable(
            capabilities
                .as_ref()
                .iter()
                .map(|c| c.to_string().to_ascii_uppercase())
                .collect(),
        ),
        CommandBody::Id { parameters } => Cmd::Id(parameters.map(|v| {
            v.iter()
                .map(|(k, val)| {
                    (
                        String::from_utf8_lossy(k.as_ref()).into_owned(),
                        val.0
                            .as_ref()
                            .map(|s| String::from_utf8_lossy(s.as_ref()).into_owned()),
                    )
                })
                .collect()
        })),
        CommandBody::Namespace => Cmd::Namespace,
        CommandBody::GetQuotaRoot { mailbox: m } => Cmd::GetQuotaRoot(mailbox(&m, utf8)?),
        CommandBody::GetQuota { root } => Cmd::GetQuota(astr(&root)),
        other => {
            return Err(Unsupported(format!("{} is not supported", other.name())));
        }
    };
    Ok(Command { tag, body })
}
