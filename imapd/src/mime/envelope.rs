//! The ENVELOPE of a message (or of a `message/rfc822` part, inside BODYSTRUCTURE).
//!
//! ```text
//! envelope        = "(" env-date SP env-subject SP env-from SP env-sender SP env-reply-to SP
//!                   env-to SP env-cc SP env-bcc SP env-in-reply-to SP env-message-id ")"
//! env-from        = "(" 1*address ")" / nil          ; likewise sender, reply-to, to, cc, bcc
//! address         = "(" addr-name SP addr-adl SP addr-mailbox SP addr-host ")"
//! env-date, env-subject, env-in-reply-to, env-message-id = nstring
//! ```
//!
//! Date, Subject, In-Reply-To and Message-ID are the field values as written — unfolded (line
//! breaks removed, the white space after them kept) but not MIME-decoded, as RFC 3501 §7.4.2
//! asks and Dovecot does; the client decodes. The first occurrence of a field counts. Sender and
//! Reply-To default to From when absent or empty (RFC 3501 §7.4.2: "the server MUST default
//! those fields"); other missing lists are NIL.

use std::ops::Range;

use super::address::{self, Address};
use super::headers::{self, Field};
use crate::proto::write::Out;

/// Writes the ENVELOPE of the header block `header` of `raw`.
pub fn write(out: &mut Out, raw: &[u8], header: Range<usize>) {
    let fields = headers::fields(raw, header);
    let text = |name: &str| headers::first(raw, &fields, name).map(|f| f.unfolded(raw));
    let from = addresses(raw, &fields, "From");
    let sender = addresses(raw, &fields, "Sender");
    let reply_to = addresses(raw, &fields, "Reply-To");
    out.open();
    out.nstring(text("Date").as_deref()).sp();
    out.nstring(text("Subject").as_deref()).sp();
    address_list(out, from.as_deref());
    out.sp();
    address_list(out, sender.as_deref().or(from.as_deref()));
    out.sp();
    address_list(out, reply_to.as_deref().or(from.as_deref()));
    out.sp();
    for name in ["To", "Cc", "Bcc"] {
        address_list(out, addresses(raw, &fields, name).as_deref());
        out.sp();
    }
    out.nstring(text("In-Reply-To").as_deref()).sp();
    out.nstring(text("Message-ID").as_deref());
    out.close();
}

/// The address list of the first field called `name`; `None` if absent or empty.
fn addresses(raw: &[u8], fields: &[Field], name: &str) -> Option<Vec<Address>> {
    let f = headers::first(raw, fields, name)?;
    let list = address::parse_list(&f.unfolded(raw));
    (!list.is_empty()).then_some(list)
}

/// `"(" 1*address ")" / nil`
fn address_list(out: &mut Out, list: Option<&[Address]>) {
    let Some(list) = list else {
        out.nil();
        return;
    };
    out.open();
    for a in list {
        out.open();
        out.nstring(a.name.as_deref()).sp();
        out.nstring(a.adl.as_deref()).sp();
        out.nstring(a.mailbox.as_deref()).sp();
        out.nstring(a.host.as_deref());
        out.close();
    }
    out.close();
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(raw: &str) -> String {
        let raw = raw.as_bytes();
        let mut out = Out::new();
        let end = raw.len();
        write(&mut out, raw, 0..end);
        String::from_utf8(out.buf).unwrap()
    }

    #[test]
    fn full_envelope() {
        let e = env(
            "Message-ID: <msg@id>\r\nIn-Reply-To: <reply@to.id>\r\nDate: Thu, 15 Feb 2007 01:02:03 +0200\r\n\
             Subject: subject header\r\nFrom: From Real <fromuser@fromdomain.org>\r\n\
             To: To Real <touser@todomain.org>\r\nCc: Cc Real <ccuser@ccdomain.org>\r\n\
             Bcc: Bcc Real <bccuser@bccdomain.org>\r\nSender: Sender Real <senderuser@senderdomain.org>\r\n\
             Reply-To: ReplyTo Real <replytouser@replytodomain.org>\r\n\r\nbody\r\n",
        );
        assert_eq!(
            e,
            "(\"Thu, 15 Feb 2007 01:02:03 +0200\" \"subject header\" ((\"From Real\" NIL \"fromuser\" \"fromdomain.org\")) \
             ((\"Sender Real\" NIL \"senderuser\" \"senderdomain.org\")) ((\"ReplyTo Real\" NIL \"replytouser\" \"replytodomain.org\")) \
             ((\"To Real\" NIL \"touser\" \"todomain.org\")) ((\"Cc Real\" NIL \"ccuser\" \"ccdomain.org\")) \
             ((\"Bcc Real\" NIL \"bccuser\" \"bccdomain.org\")) \"<reply@to.id>\" \"<msg@id>\")"
        );
    }

    #[test]
    fn defaults_and_missing_fields() {
        assert_eq!(
            env("From: user@domain (Real Name)\r\nSender: \r\nReply-To: \r\n\r\n"),
            "(NIL NIL ((\"Real Name\" NIL \"user\" \"domain\")) ((\"Real Name\" NIL \"user\" \"domain\")) \
             ((\"Real Name\" NIL \"user\" \"domain\")) NIL NIL NIL NIL NIL)"
        );
        assert_eq!(env(""), "(NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL)");
    }

    #[test]
    fn raw_values_are_unfolded_not_decoded() {
        let e = env("Subject: =?utf-8?q?caf=C3=A9?=\r\n  and\r\n\tmore \r\nDate:\r\n\r\n");
        assert!(
            e.starts_with("(\"\" \"=?utf-8?q?caf=C3=A9?=  and\tmore \" NIL"),
            "{e}"
        );
        let e = env("Subject: a \"quoted\" \\ word\n\n");
        assert!(
            e.starts_with("(NIL \"a \\\"quoted\\\" \\\\ word\" NIL"),
            "{e}"
        );
        // 8-bit text goes as a literal unless UTF8=ACCEPT is on.
        let e = env("Subject: caf\u{e9}\r\n\r\n");
        assert!(e.starts_with("(NIL {5}\r\ncaf\u{e9} NIL"), "{e}");
    }

    #[test]
    fn groups_and_first_occurrence() {
        let e = env("To: group: g1@d1.org;\r\nTo: other@x\r\n\r\n");
        assert_eq!(
            e,
            "(NIL NIL NIL NIL NIL ((NIL NIL \"group\" NIL)(NIL NIL \"g1\" \"d1.org\")(NIL NIL NIL NIL)) NIL NIL NIL NIL)"
        );
    }
}
