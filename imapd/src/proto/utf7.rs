//! Modified UTF-7 for mailbox names (RFC 3501 §5.1.3): `&`-shifted modified BASE64 of UTF-16,
//! with `,` for `/` and `&-` for `&`.

const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+,";

/// Encodes a UTF-8 name.
pub fn encode(s: &str) -> String {
    let mut out = String::new();
    let mut pending: Vec<u16> = Vec::new();
    let flush = |pending: &mut Vec<u16>, out: &mut String| {
        if pending.is_empty() {
            return;
        }
        out.push('&');
        let bytes: Vec<u8> = pending.iter().flat_map(|u| u.to_be_bytes()).collect();
        let mut bits = 0u32;
        let mut n = 0;
        for b in bytes {
            bits = (bits << 8) | b as u32;
            n += 8;
            while n >= 6 {
                n -= 6;
                out.push(B64[((bits >> n) & 63) as usize] as char);
            }
        }
        if n > 0 {
            out.push(B64[((bits << (6 - n)) & 63) as usize] as char);
        }
        out.push('-');
        pending.clear();
    };
    for c in s.chars() {
        if (' '..='~').contains(&c) {
            flush(&mut pending, &mut out);
            if c == '&' {
                out.push_str("&-");
            } else {
                out.push(c);
            }
        } else {
            let mut buf = [0u16; 2];
            pending.extend_from_slice(c.encode_utf16(&mut buf));
        }
    }
    flush(&mut pending, &mut out);
    out
}

/// Decodes a modified UTF-7 name; `None` if it is not well formed.
pub fn decode(s: &str) -> Option<String> {
    let mut out = String::new();
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if c != b'&' {
            if !(0x20..=0x7e).contains(&c) {
                return None;
            }
            out.push(c as char);
            i += 1;
            continue;
        }
        let end = i + 1 + b[i + 1..].iter().position(|&x| x == b'-')?;
        if end == i + 1 {
            out.push('&');
            i = end + 1;
            continue;
        }
        let mut bits = 0u32;
        let mut n = 0;
        let mut units = Vec::new();
        for &x in &b[i + 1..end] {
            let v = B64.iter().position(|&y| y == x)? as u32;
            bits = (bits << 6) | v;
            n += 6;
            if n >= 16 {
                n -= 16;
                units.push(((bits >> n) & 0xffff) as u16);
            }
        }
        if n >= 6 || (bits & ((1 << n) - 1)) != 0 {
            return None;
        }
        out.push_str(&String::from_utf16(&units).ok()?);
        i = end + 1;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc_examples() {
        assert_eq!(
            encode("~peter/mail/台北/日本語"),
            "~peter/mail/&U,BTFw-/&ZeVnLIqe-"
        );
        assert_eq!(
            decode("~peter/mail/&U,BTFw-/&ZeVnLIqe-").unwrap(),
            "~peter/mail/台北/日本語"
        );
        assert_eq!(encode("A&B"), "A&-B");
        assert_eq!(decode("A&-B").unwrap(), "A&B");
        assert_eq!(decode("&Jjo-!").unwrap(), "☺!");
        assert!(decode("&Jjo").is_none());
        assert!(decode("&!!-").is_none());
        for s in ["Entwürfe", "日本語", "a&b/c", "😀 x"] {
            assert_eq!(decode(&encode(s)).unwrap(), s);
        }
    }
}
