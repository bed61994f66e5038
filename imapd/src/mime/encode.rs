//! Storing a message sent as literal8 (BINARY APPEND, RFC 3516 §4.4): parts with
//! `Content-Transfer-Encoding: binary`, or raw NULs in an unencoded part, are re-encoded as
//! base64 so that the stored message is valid MIME that any client can fetch, while
//! `BINARY[part]` still returns the original bytes.

use base64::Engine;

use super::{Message, PartKind, headers};

const CTE: &[u8] = b"Content-Transfer-Encoding: base64\r\n";

fn base64_lines(data: &[u8]) -> Vec<u8> {
    let enc = base64::engine::general_purpose::STANDARD.encode(data);
    let mut out = Vec::with_capacity(enc.len() + enc.len() / 76 * 2 + 2);
    for chunk in enc.as_bytes().chunks(76) {
        out.extend_from_slice(chunk);
        out.extend_from_slice(b"\r\n");
    }
    out
}

/// The message with its binary parts base64-encoded, or `None` when it has none.
pub fn binary_to_base64(raw: &[u8]) -> Option<Vec<u8>> {
    let m = Message::parse(raw);
    let mut edits: Vec<(std::ops::Range<usize>, Vec<u8>)> = Vec::new();
    for part in m.parts() {
        if part.kind() != &PartKind::Leaf {
            continue;
        }
        let enc = part.content().encoding.as_deref();
        let body = m.bytes(part.body_range());
        let convert = enc == Some("binary")
            || (body.contains(&0) && !matches!(enc, Some("base64") | Some("quoted-printable")));
        if !convert {
            continue;
        }
        let fields = headers::fields(raw, part.header_range());
        match fields
            .iter()
            .find(|f| f.is(raw, "content-transfer-encoding"))
        {
            Some(f) => edits.push((f.whole.clone(), CTE.to_vec())),
            None => {
                let at = fields
                    .last()
                    .map_or(part.header_range().start, |f| f.whole.end);
                edits.push((at..at, CTE.to_vec()));
            }
        }
        edits.push((part.body_range(), base64_lines(body)));
    }
    if edits.is_empty() {
        return None;
    }
    edits.sort_by_key(|(r, _)| (r.start, r.end));
    let mut out = Vec::with_capacity(raw.len() * 4 / 3 + 64);
    let mut at = 0;
    for (r, with) in edits {
        if r.start < at {
            continue;
        }
        out.extend_from_slice(&raw[at..r.start]);
        out.extend_from_slice(&with);
        at = r.end;
    }
    out.extend_from_slice(&raw[at..]);
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn binary_part_becomes_base64_and_decodes_back() {
        let raw = b"From: a@b\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: binary\r\n\r\n\x00-\xe4\n\r\n\n";
        let out = binary_to_base64(raw).unwrap();
        assert!(!out.contains(&0));
        let m = Message::parse(&out);
        assert_eq!(m.binary(&[1]).unwrap().as_ref(), b"\x00-\xe4\n\r\n\n");
        assert!(binary_to_base64(b"Subject: x\r\n\r\nplain\r\n").is_none());
        let multi = b"Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nhi\r\n--b\r\nContent-Type: application/x\r\n\r\n\x00\x01\r\n--b--\r\n";
        let out = binary_to_base64(multi).unwrap();
        let m = Message::parse(&out);
        assert_eq!(m.binary(&[2]).unwrap().as_ref(), b"\x00\x01");
        assert_eq!(m.binary(&[1]).unwrap().as_ref(), b"hi");
    }
}
