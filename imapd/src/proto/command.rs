//! The server's own command types, apart from the wire format (imap-codec parses; these are what
//! the handlers work on).

use chrono::NaiveDate;

use super::{section::Section, seq::SeqSet};

/// A parsed command: its tag and what it asks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Command {
    /// The tag, as sent.
    pub tag: String,
    /// The command.
    pub body: Cmd,
}

/// A system flag or a keyword.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Flag {
    /// `\Seen`
    Seen,
    /// `\Answered`
    Answered,
    /// `\Flagged`
    Flagged,
    /// `\Deleted`
    Deleted,
    /// `\Draft`
    Draft,
    /// `\Recent` (cannot be stored).
    Recent,
    /// A keyword (or an unknown `\Extension`, kept as typed).
    Keyword(String),
}

/// STORE mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoreMode {
    /// `FLAGS`: replace.
    Replace,
    /// `+FLAGS`
    Add,
    /// `-FLAGS`
    Remove,
}

/// STATUS items.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusItem {
    /// MESSAGES
    Messages,
    /// RECENT
    Recent,
    /// UIDNEXT
    UidNext,
    /// UIDVALIDITY
    UidValidity,
    /// UNSEEN
    Unseen,
    /// DELETED
    Deleted,
    /// SIZE
    Size,
    /// HIGHESTMODSEQ
    HighestModSeq,
}

/// One FETCH item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FetchAtt {
    /// UID
    Uid,
    /// FLAGS
    Flags,
    /// INTERNALDATE
    InternalDate,
    /// RFC822.SIZE
    Rfc822Size,
    /// ENVELOPE
    Envelope,
    /// BODY (non-extensible BODYSTRUCTURE)
    Body,
    /// BODYSTRUCTURE
    BodyStructure,
    /// BODY[section]<partial> / BODY.PEEK[...]
    Section {
        /// What part.
        section: Section,
        /// PEEK: do not set \Seen.
        peek: bool,
        /// `<origin.count>`
        partial: Option<(u32, u32)>,
    },
    /// BINARY[part]<partial> / BINARY.PEEK
    Binary {
        /// Part numbers.
        part: Vec<u32>,
        /// PEEK
        peek: bool,
        /// `<origin.count>`
        partial: Option<(u32, u32)>,
    },
    /// BINARY.SIZE[part]
    BinarySize {
        /// Part numbers.
        part: Vec<u32>,
    },
    /// RFC822 (= BODY[])
    Rfc822,
    /// RFC822.HEADER (= BODY.PEEK[HEADER])
    Rfc822Header,
    /// RFC822.TEXT (= BODY[TEXT])
    Rfc822Text,
    /// MODSEQ
    ModSeq,
}

/// Address headers SEARCH can look in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AddrField {
    /// From
    From,
    /// To
    To,
    /// Cc
    Cc,
    /// Bcc
    Bcc,
}

/// A SEARCH key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SearchKey {
    /// All keys must match.
    And(Vec<SearchKey>),
    /// Either.
    Or(Box<SearchKey>, Box<SearchKey>),
    /// Not.
    Not(Box<SearchKey>),
    /// ALL
    All,
    /// A message sequence set.
    Seq(SeqSet),
    /// UID set.
    Uid(SeqSet),
    /// A flag is set (`SEEN`, `KEYWORD x`…) or not (`UNSEEN`, `UNKEYWORD x`…).
    Flag(Flag, bool),
    /// NEW (= RECENT UNSEEN)
    New,
    /// OLD (= NOT RECENT)
    Old,
    /// Internal date before / on / since.
    Before(NaiveDate),
    /// Internal date on.
    On(NaiveDate),
    /// Internal date since.
    Since(NaiveDate),
    /// Date: header before.
    SentBefore(NaiveDate),
    /// Date: header on.
    SentOn(NaiveDate),
    /// Date: header since.
    SentSince(NaiveDate),
    /// Larger than n octets.
    Larger(u32),
    /// Smaller than n octets.
    Smaller(u32),
    /// An address header contains the string.
    Addr(AddrField, String),
    /// Subject contains.
    Subject(String),
    /// A named header contains (empty value: the header exists).
    Header(String, String),
    /// The body contains.
    Body(String),
    /// Header or body contains.
    Text(String),
    /// Received in the last n seconds (WITHIN).
    Younger(u32),
    /// Received more than n seconds ago (WITHIN).
    Older(u32),
    /// MODSEQ at least n.
    ModSeq(u64),
}

/// ESEARCH return options.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SearchReturn {
    /// MIN
    Min,
    /// MAX
    Max,
    /// ALL
    All,
    /// COUNT
    Count,
    /// SAVE (SEARCHRES)
    Save,
}

/// LIST selection options (LIST-EXTENDED).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListSelect {
    /// SUBSCRIBED
    pub subscribed: bool,
    /// REMOTE (no remote mailboxes here)
    pub remote: bool,
    /// RECURSIVEMATCH
    pub recursive: bool,
    /// SPECIAL-USE
    pub special_use: bool,
}

/// LIST return options.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListReturn {
    /// SUBSCRIBED
    pub subscribed: bool,
    /// CHILDREN
    pub children: bool,
    /// SPECIAL-USE
    pub special_use: bool,
    /// STATUS (items) — LIST-STATUS
    pub status: Option<Vec<StatusItem>>,
}

/// One message of an APPEND.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppendMsg {
    /// Flags to set.
    pub flags: Vec<Flag>,
    /// Internal date (seconds since the epoch, with the zone applied).
    pub date: Option<i64>,
    /// The message.
    pub data: Vec<u8>,
    /// Sent as literal8 (BINARY).
    pub binary: bool,
}

/// A command's arguments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cmd {
    /// CAPABILITY
    Capability,
    /// NOOP
    Noop,
    /// LOGOUT
    Logout,
    /// STARTTLS
    StartTls,
    /// AUTHENTICATE mechanism [initial response]
    Authenticate {
        /// Mechanism, upper-cased.
        mechanism: String,
        /// SASL-IR initial response (already base64-decoded).
        initial: Option<Vec<u8>>,
    },
    /// LOGIN user password
    Login {
        /// Userid as given.
        user: String,
        /// Password.
        password: String,
    },
    /// ENABLE capabilities
    Enable(Vec<String>),
    /// SELECT / EXAMINE
    Select {
        /// Mailbox (UTF-8).
        mailbox: String,
        /// EXAMINE
        read_only: bool,
        /// (CONDSTORE)
        condstore: bool,
    },
    /// CREATE mailbox [(USE (\Special))]
    Create {
        /// Mailbox.
        mailbox: String,
    },
    /// DELETE
    Delete(String),
    /// RENAME from to
    Rename {
        /// Old name.
        from: String,
        /// New name.
        to: String,
    },
    /// SUBSCRIBE
    Subscribe(String),
    /// UNSUBSCRIBE
    Unsubscribe(String),
    /// LIST / LSUB
    List {
        /// Reference name.
        reference: String,
        /// Patterns (LIST-EXTENDED allows several).
        patterns: Vec<String>,
        /// Selection options.
        select: ListSelect,
        /// Return options.
        ret: ListReturn,
        /// LSUB
        lsub: bool,
        /// The extended syntax was used (selection or return options, or a pattern list).
        extended: bool,
    },
    /// NAMESPACE
    Namespace,
    /// STATUS mailbox (items)
    Status {
        /// Mailbox.
        mailbox: String,
        /// Items.
        items: Vec<StatusItem>,
    },
    /// APPEND (one or more messages: MULTIAPPEND)
    Append {
        /// Mailbox.
        mailbox: String,
        /// Messages.
        messages: Vec<AppendMsg>,
    },
    /// IDLE
    Idle,
    /// CHECK
    Check,
    /// CLOSE
    Close,
    /// UNSELECT
    Unselect,
    /// EXPUNGE / UID EXPUNGE set
    Expunge(Option<SeqSet>),
    /// SEARCH / UID SEARCH
    Search {
        /// UID SEARCH
        uid: bool,
        /// RETURN options (ESEARCH); `Some(empty)` means `RETURN ()` = ALL.
        ret: Option<Vec<SearchReturn>>,
        /// CHARSET
        charset: Option<String>,
        /// The key (an AND of the criteria).
        key: SearchKey,
    },
    /// FETCH / UID FETCH
    Fetch {
        /// UID FETCH
        uid: bool,
        /// Which messages.
        set: SeqSet,
        /// Items (macros expanded).
        atts: Vec<FetchAtt>,
        /// CHANGEDSINCE modifier.
        changed_since: Option<u64>,
    },
    /// STORE / UID STORE
    Store {
        /// UID STORE
        uid: bool,
        /// Which messages.
        set: SeqSet,
        /// Mode.
        mode: StoreMode,
        /// .SILENT
        silent: bool,
        /// Flags.
        flags: Vec<Flag>,
        /// UNCHANGEDSINCE modifier.
        unchanged_since: Option<u64>,
    },
    /// COPY / UID COPY
    Copy {
        /// UID COPY
        uid: bool,
        /// Which messages.
        set: SeqSet,
        /// Target.
        mailbox: String,
    },
    /// MOVE / UID MOVE
    Move {
        /// UID MOVE
        uid: bool,
        /// Which messages.
        set: SeqSet,
        /// Target.
        mailbox: String,
    },
    /// ID
    Id(Option<Vec<(String, Option<String>)>>),
    /// GETQUOTAROOT mailbox
    GetQuotaRoot(String),
    /// GETQUOTA root
    GetQuota(String),
}

impl Cmd {
    /// The command name as used in response texts.
    pub fn name(&self) -> &'static str {
        match self {
            Cmd::Capability => "CAPABILITY",
            Cmd::Noop => "NOOP",
            Cmd::Logout => "LOGOUT",
            Cmd::StartTls => "STARTTLS",
            Cmd::Authenticate { .. } => "AUTHENTICATE",
            Cmd::Login { .. } => "LOGIN",
            Cmd::Enable(_) => "ENABLE",
            Cmd::Select {
                read_only: false, ..
            } => "SELECT",
            Cmd::Select { .. } => "EXAMINE",
            Cmd::Create { .. } => "CREATE",
            Cmd::Delete(_) => "DELETE",
            Cmd::Rename { .. } => "RENAME",
            Cmd::Subscribe(_) => "SUBSCRIBE",
            Cmd::Unsubscribe(_) => "UNSUBSCRIBE",
            Cmd::List { lsub: true, .. } => "LSUB",
            Cmd::List { .. } => "LIST",
            Cmd::Namespace => "NAMESPACE",
            Cmd::Status { .. } => "STATUS",
            Cmd::Append { .. } => "APPEND",
            Cmd::Idle => "IDLE",
            Cmd::Check => "CHECK",
            Cmd::Close => "CLOSE",
            Cmd::Unselect => "UNSELECT",
            Cmd::Expunge(_) => "EXPUNGE",
            Cmd::Search { .. } => "SEARCH",
            Cmd::Fetch { .. } => "FETCH",
            Cmd::Store { .. } => "STORE",
            Cmd::Copy { .. } => "COPY",
            Cmd::Move { .. } => "MOVE",
            Cmd::Id(_) => "ID",
            Cmd::GetQuotaRoot(_) => "GETQUOTAROOT",
            Cmd::GetQuota(_) => "GETQUOTA",
        }
    }
}
