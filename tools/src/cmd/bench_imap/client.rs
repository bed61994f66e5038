//! A minimal async IMAP client, just enough for benchmarking any IMAP server: tagged commands,
//! untagged and tagged responses (with `{n}` literals inside them), continuation requests for
//! synchronizing literals, LITERAL+/LITERAL- when the server advertises them, LOGIN with quoting,
//! APPEND/MULTIAPPEND, IDLE/DONE, and implicit TLS (IMAPS).

use std::{collections::HashSet, net::SocketAddr, path::Path, sync::Arc, time::Duration};

use anyhow::{Context, anyhow, bail};
use tokio::{
    io::{AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, BufReader},
    net::TcpStream,
};

/// A byte stream the client can talk IMAP over (plain TCP or TLS).
pub trait Io: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Io for T {}

/// How to reach the server.
#[derive(Clone)]
pub struct Target {
    pub addr: SocketAddr,
    /// The name used for TLS (SNI and certificate check).
    pub host: String,
    /// Some: connect with implicit TLS.
    pub tls: Option<tokio_rustls::TlsConnector>,
    /// Each command (and each connect) must complete within this time.
    pub timeout: Duration,
    /// Always use synchronizing literals, even when the server has LITERAL+.
    pub sync_literals: bool,
}

impl std::fmt::Debug for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Target")
            .field("addr", &self.addr)
            .field("tls", &self.tls.is_some())
            .finish()
    }
}

/// One account on the server.
#[derive(Debug, Clone)]
pub struct Account {
    pub user: String,
    pub pass: String,
}

/// The tagged completion of a command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Ok,
    No,
    Bad,
}

/// What a command ended with.
#[derive(Debug)]
pub struct Done {
    pub status: Status,
    /// The text after the status word (including any `[CODE]`).
    pub text: String,
}

impl Done {
    /// Turns a NO/BAD into an error naming the command.
    pub fn ok(self, what: &str) -> anyhow::Result<Done> {
        match self.status {
            Status::Ok => Ok(self),
            Status::No => bail!("{what} refused by the server: NO {}", self.text),
            Status::Bad => bail!("{what} rejected by the server: BAD {}", self.text),
        }
    }
}

/// A piece of a command: protocol text, a string sent quoted, or a string sent as a literal.
#[derive(Debug, Clone, Copy)]
pub enum Piece<'a> {
    Text(&'a [u8]),
    Quoted(&'a str),
    Lit(&'a [u8]),
}

/// An IMAP string argument: quoted when it can be, else a literal.
pub fn astring(s: &str) -> Piece<'_> {
    if s.bytes().all(|b| (0x20..0x7f).contains(&b)) {
        Piece::Quoted(s)
    } else {
        Piece::Lit(s.as_bytes())
    }
}

/// `s` as an IMAP quoted string (the caller makes sure it is 7-bit without CR/LF).
pub fn quoted(s: &str) -> String {
    let mut q = String::with_capacity(s.len() + 2);
    q.push('"');
    for c in s.chars() {
        if c == '"' || c == '\\' {
            q.push('\\');
        }
        q.push(c);
    }
    q.push('"');
    q
}

/// An IMAP client connection.
pub struct Client {
    io: BufReader<Box<dyn Io>>,
    next_tag: u32,
    /// The server's current capabilities (upper case).
    pub caps: HashSet<String>,
    /// The greeting line, for the report.
    pub greeting: String,
    /// The text of an untagged BYE, if one came.
    bye: Option<String>,
    sync_literals: bool,
    /// The tag of an IDLE in progress.
    idle_tag: Option<String>,
    timeout: Duration,
    line: Vec<u8>,
    out: Vec<u8>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("next_tag", &self.next_tag)
            .finish()
    }
}

/// Builds the TLS connector: the certificate is checked against `ca` when given, else not at all
/// (benchmark servers normally have self-signed certificates).
pub fn tls_connector(ca: Option<&Path>) -> anyhow::Result<tokio_rustls::TlsConnector> {
    use rustls::pki_types::{CertificateDer, pem::PemObject};
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()?;
    let config = match ca {
        Some(p) => {
            let mut roots = rustls::RootCertStore::empty();
            for c in CertificateDer::pem_file_iter(p)
                .with_context(|| format!("reading {}", p.display()))?
            {
                roots.add(c.with_context(|| format!("a certificate in {}", p.display()))?)?;
            }
            builder.with_root_certificates(roots).with_no_client_auth()
        }
        None => builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(NoVerify(provider)))
            .with_no_client_auth(),
    };
    Ok(tokio_rustls::TlsConnector::from(Arc::new(config)))
}

/// Accepts any server certificate (but still checks the handshake signatures).
#[derive(Debug)]
struct NoVerify(Arc<rustls::crypto::CryptoProvider>);

impl rustls::client::danger::ServerCertVerifier for NoVerify {
    fn verify_server_cert(
        &self,
        _end_entity: &rustls::pki_types::CertificateDer<'_>,
        _intermediates: &[rustls::pki_types::CertificateDer<'_>],
        _server_name: &rustls::pki_types::ServerName<'_>,
        _ocsp_response: &[u8],
        _now: rustls::pki_types::UnixTime,
    ) -> Result<rustls::client::danger::ServerCertVerified, rustls::Error> {
        Ok(rustls::client::danger::ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &rustls::pki_types::CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &rustls::pki_types::CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

/// The size of a literal announced at the end of a response line (`{n}` or `~{n}`), if any.
fn literal_at_end(line: &[u8]) -> Option<usize> {
    let l = line.strip_suffix(b"\r\n").or(line.strip_suffix(b"\n"))?;
    let l = l.strip_suffix(b"}")?;
    let open = l.iter().rposition(|&b| b == b'{')?;
    let digits = l[open + 1..].strip_suffix(b"+").unwrap_or(&l[open + 1..]);
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(digits).ok()?.parse().ok()
}

/// The capability list in `text` (after `CAPABILITY `), upper-cased.
fn parse_caps(text: &str) -> HashSet<String> {
    text.split_ascii_whitespace()
        .map(|c| c.trim_end_matches(']').to_ascii_uppercase())
        .filter(|c| !c.is_empty())
        .collect()
}

/// The capabilities in a `[CAPABILITY ...]` response code, if `text` starts with one.
fn caps_in_code(text: &str) -> Option<HashSet<String>> {
    let rest = text.strip_prefix('[')?;
    let (code, _) = rest.split_once(']')?;
    let list = code
        .strip_prefix("CAPABILITY ")
        .or_else(|| code.strip_prefix("capability "))?;
    Some(parse_caps(list))
}

fn lossy(b: &[u8]) -> String {
    String::from_utf8_lossy(b).trim_end().to_string()
}

impl Client {
    /// Connects, reads the greeting and returns a client in the not-authenticated state.
    pub async fn connect(t: &Target) -> anyhow::Result<Client> {
        let fut = async {
            let tcp = TcpStream::connect(t.addr)
                .await
                .with_context(|| format!("connecting to {}", t.addr))?;
            tcp.set_nodelay(true)?;
            let io: Box<dyn Io> = match &t.tls {
                None => Box::new(tcp),
                Some(c) => {
                    let name = rustls::pki_types::ServerName::try_from(t.host.clone())
                        .map_err(|e| anyhow!("{}: {e}", t.host))?;
                    Box::new(
                        c.connect(name, tcp)
                            .await
                            .with_context(|| format!("TLS handshake with {}", t.addr))?,
                    )
                }
            };
            let mut c = Client {
                io: BufReader::with_capacity(4096, io),
                next_tag: 1,
                caps: HashSet::new(),
                greeting: String::new(),
                bye: None,
                sync_literals: t.sync_literals,
                idle_tag: None,
                timeout: t.timeout,
                line: Vec::with_capacity(512),
                out: Vec::with_capacity(512),
            };
            c.read_response().await.context("reading the greeting")?;
            let g = lossy(&c.line);
            if let Some(rest) = g.strip_prefix("* OK ") {
                if let Some(caps) = caps_in_code(rest) {
                    c.caps = caps;
                }
            } else if g.starts_with("* BYE") {
                bail!("the server refused the connection: {g}");
            } else if g.starts_with("* PREAUTH") {
                // Usable as is; LOGIN will then fail, which is reported.
            } else {
                bail!("unexpected greeting: {g}");
            }
            c.greeting = g;
            Ok(c)
        };
        tokio::time::timeout(t.timeout, fut)
            .await
            .map_err(|_| anyhow!("no greeting from {} within {:?}", t.addr, t.timeout))?
    }

    /// Connects and logs in (LOGIN), making sure the capabilities are the post-login ones.
    pub async fn login(t: &Target, a: &Account) -> anyhow::Result<Client> {
        let mut c = Client::connect(t).await?;
        if c.caps.is_empty() {
            c.command("CAPABILITY").await?.ok("CAPABILITY")?;
        }
        if c.caps.contains("LOGINDISABLED") {
            bail!(
                "the server advertises LOGINDISABLED: it refuses plaintext LOGIN on this \
                 connection (use --tls, or allow plaintext authentication on the server)"
            );
        }
        let before = c.caps.clone();
        let d = c
            .run(
                &[
                    Piece::Text(b"LOGIN "),
                    astring(&a.user),
                    Piece::Text(b" "),
                    astring(&a.pass),
                ],
                |_, _| {},
            )
            .await
            .with_context(|| {
                format!(
                    "LOGIN as {} (if the server closed the connection without a reason, it may \
                     have reached a process or connection limit: see its log)",
                    a.user
                )
            })?;
        if d.status != Status::Ok {
            bail!(
                "LOGIN as {} failed: {} {}",
                a.user,
                if d.status == Status::No { "NO" } else { "BAD" },
                d.text
            );
        }
        if caps_in_code(&d.text).is_none() && c.caps == before {
            c.command("CAPABILITY").await?.ok("CAPABILITY")?;
        }
        Ok(c)
    }

    /// Whether a literal of `n` bytes may be sent without waiting for a continuation request.
    fn nonsync_ok(&self, n: usize) -> bool {
        !self.sync_literals && self.caps.contains("LITERAL+")
            || (self.caps.contains("LITERAL-") && n <= 4096)
    }

    /// Whether APPEND literals of this size go out as LITERAL+ / LITERAL-.
    pub fn literal_mode(&self, n: usize) -> &'static str {
        if self.sync_literals {
            "synchronizing literals"
        } else if self.caps.contains("LITERAL+") {
            "LITERAL+"
        } else if self.caps.contains("LITERAL-") && n <= 4096 {
            "LITERAL-"
        } else {
            "synchronizing literals"
        }
    }

    fn tag(&mut self) -> String {
        let t = format!("b{}", self.next_tag);
        self.next_tag += 1;
        t
    }

    /// Reads one complete response (a line plus any literals and continuation lines) into
    /// `self.line`; returns the total size of its literals.
    async fn read_response(&mut self) -> anyhow::Result<usize> {
        self.line.clear();
        let mut lits = 0;
        loop {
            let start = self.line.len();
            let n = self.io.read_until(b'\n', &mut self.line).await?;
            if n == 0 {
                match &self.bye {
                    Some(b) => bail!("the server closed the connection: * BYE {b}"),
                    None => bail!("the server closed the connection"),
                }
            }
            if !self.line.ends_with(b"\n") {
                bail!("the server closed the connection in the middle of a response");
            }
            match literal_at_end(&self.line[start..]) {
                Some(len) => {
                    let at = self.line.len();
                    self.line.resize(at + len, 0);
                    self.io.read_exact(&mut self.line[at..]).await?;
                    lits += len;
                }
                None => return Ok(lits),
            }
        }
    }

    async fn flush_out(&mut self) -> anyhow::Result<()> {
        self.io.write_all(&self.out).await?;
        self.io.flush().await?;
        self.out.clear();
        Ok(())
    }

    /// Handles an untagged response in `self.line` (capabilities, BYE) and passes it on.
    fn untagged(&mut self, lits: usize, on_untagged: &mut impl FnMut(&[u8], usize)) {
        let body = &self.line[2..];
        if body.len() >= 11 && body[..11].eq_ignore_ascii_case(b"CAPABILITY ") {
            self.caps = parse_caps(&lossy(&body[11..]));
        } else if body.len() >= 3 && body[..3].eq_ignore_ascii_case(b"BYE") {
            self.bye = Some(lossy(body.get(4..).unwrap_or_default()));
        } else if let Some(rest) = body.strip_prefix(b"OK ")
            && let Some(caps) = caps_in_code(&lossy(rest))
        {
            self.caps = caps;
        }
        on_untagged(&self.line[2..], lits);
    }

    /// Reads responses until the tagged one for `tag`, passing untagged ones to `on_untagged`
    /// (the response after `* `, and the total size of its literals). With `want_continue`, a
    /// continuation request ends the wait too (returned as None).
    async fn read_until_tagged(
        &mut self,
        tag: &str,
        want_continue: bool,
        on_untagged: &mut impl FnMut(&[u8], usize),
    ) -> anyhow::Result<Option<Done>> {
        loop {
            let lits = self.read_response().await?;
            if self.line.starts_with(b"* ") {
                self.untagged(lits, on_untagged);
            } else if self.line.starts_with(b"+") {
                if want_continue {
                    return Ok(None);
                }
                bail!("unexpected continuation request: {}", lossy(&self.line));
            } else {
                let l = lossy(&self.line);
                let Some((t, rest)) = l.split_once(' ') else {
                    bail!("malformed response: {l}");
                };
                if t != tag {
                    bail!("response with an unexpected tag (waiting for {tag}): {l}");
                }
                let (st, text) = rest.split_once(' ').unwrap_or((rest, ""));
                let status = match st.to_ascii_uppercase().as_str() {
                    "OK" => Status::Ok,
                    "NO" => Status::No,
                    "BAD" => Status::Bad,
                    _ => bail!("malformed tagged response: {l}"),
                };
                if status == Status::Ok
                    && let Some(caps) = caps_in_code(text)
                {
                    self.caps = caps;
                }
                return Ok(Some(Done {
                    status,
                    text: text.to_string(),
                }));
            }
        }
    }

    /// Sends a command made of `pieces` (text, quoted strings, literals) and reads responses up
    /// to its tagged completion.
    pub async fn run(
        &mut self,
        pieces: &[Piece<'_>],
        mut on_untagged: impl FnMut(&[u8], usize),
    ) -> anyhow::Result<Done> {
        let t = self.timeout;
        match tokio::time::timeout(t, self.run_inner(pieces, &mut on_untagged)).await {
            Ok(r) => r,
            Err(_) => bail!("no response from the server within {t:?}"),
        }
    }

    async fn run_inner(
        &mut self,
        pieces: &[Piece<'_>],
        on_untagged: &mut impl FnMut(&[u8], usize),
    ) -> anyhow::Result<Done> {
        let tag = self.tag();
        self.out.clear();
        self.out.extend_from_slice(tag.as_bytes());
        self.out.push(b' ');
        for p in pieces {
            match *p {
                Piece::Text(t) => self.out.extend_from_slice(t),
                Piece::Quoted(s) => self.out.extend_from_slice(quoted(s).as_bytes()),
                Piece::Lit(data) => {
                    if self.nonsync_ok(data.len()) {
                        self.out
                            .extend_from_slice(format!("{{{}+}}\r\n", data.len()).as_bytes());
                    } else {
                        self.out
                            .extend_from_slice(format!("{{{}}}\r\n", data.len()).as_bytes());
                        self.flush_out().await?;
                        if let Some(d) = self.read_until_tagged(&tag, true, on_untagged).await? {
                            // The server refused the literal (and with it the command).
                            return Ok(d);
                        }
                    }
                    self.out.extend_from_slice(data);
                }
            }
        }
        self.out.extend_from_slice(b"\r\n");
        self.flush_out().await?;
        Ok(self
            .read_until_tagged(&tag, false, on_untagged)
            .await?
            .expect("a tagged response"))
    }

    /// A command given as one line of text (arguments already quoted).
    pub async fn command(&mut self, cmd: &str) -> anyhow::Result<Done> {
        self.run(&[Piece::Text(cmd.as_bytes())], |_, _| {}).await
    }

    /// SELECT (or EXAMINE); returns the number of messages (EXISTS).
    pub async fn select(&mut self, mailbox: &str) -> anyhow::Result<u32> {
        let mut exists = None;
        let d = self
            .run(&[Piece::Text(b"SELECT "), astring(mailbox)], |r, _| {
                if let Some(n) = r
                    .strip_suffix(b"\r\n")
                    .and_then(|r| r.strip_suffix(b" EXISTS"))
                {
                    exists = std::str::from_utf8(n).ok().and_then(|s| s.parse().ok());
                }
            })
            .await?;
        d.ok(&format!("SELECT {mailbox}"))?;
        exists.ok_or_else(|| anyhow!("SELECT {mailbox}: no EXISTS response"))
    }

    /// The number of messages in a mailbox by STATUS, or None when it does not exist (NO).
    pub async fn status_messages(&mut self, mailbox: &str) -> anyhow::Result<Option<u32>> {
        let mut n = None;
        let d = self
            .run(
                &[
                    Piece::Text(b"STATUS "),
                    astring(mailbox),
                    Piece::Text(b" (MESSAGES)"),
                ],
                |r, _| {
                    let s = lossy(r);
                    if let Some(i) = s.to_ascii_uppercase().find("(MESSAGES ") {
                        n = s[i + 10..]
                            .trim_end_matches(')')
                            .split(|c: char| !c.is_ascii_digit())
                            .next()
                            .and_then(|d| d.parse().ok());
                    }
                },
            )
            .await?;
        match d.status {
            Status::Ok => Ok(Some(n.ok_or_else(|| {
                anyhow!("STATUS {mailbox}: no MESSAGES in the response")
            })?)),
            _ => Ok(None),
        }
    }

    /// APPEND of one message.
    pub async fn append(&mut self, mailbox: &str, flags: &str, msg: &[u8]) -> anyhow::Result<Done> {
        let head = format!("APPEND {} ", quoted(mailbox));
        let flags = if flags.is_empty() {
            String::new()
        } else {
            format!("({flags}) ")
        };
        self.run(
            &[
                Piece::Text(head.as_bytes()),
                Piece::Text(flags.as_bytes()),
                Piece::Lit(msg),
            ],
            |_, _| {},
        )
        .await
    }

    /// MULTIAPPEND (RFC 3502) of several messages in one command: (flags, message) pairs.
    pub async fn multiappend(
        &mut self,
        mailbox: &str,
        msgs: &[(&str, Vec<u8>)],
    ) -> anyhow::Result<Done> {
        let head = format!("APPEND {}", quoted(mailbox));
        let flag_texts: Vec<String> = msgs
            .iter()
            .map(|(f, _)| {
                if f.is_empty() {
                    " ".to_string()
                } else {
                    format!(" ({f}) ")
                }
            })
            .collect();
        let mut pieces = vec![Piece::Text(head.as_bytes())];
        for ((_, m), f) in msgs.iter().zip(&flag_texts) {
            pieces.push(Piece::Text(f.as_bytes()));
            pieces.push(Piece::Lit(m));
        }
        self.run(&pieces, |_, _| {}).await
    }

    /// Starts IDLE and waits for the server's continuation request.
    pub async fn idle_start(&mut self) -> anyhow::Result<()> {
        let tag = self.tag();
        self.out.clear();
        self.out
            .extend_from_slice(format!("{tag} IDLE\r\n").as_bytes());
        let t = self.timeout;
        let fut = async {
            self.flush_out().await?;
            self.read_until_tagged(&tag, true, &mut |_, _| {}).await
        };
        match tokio::time::timeout(t, fut).await {
            Err(_) => bail!("no response to IDLE within {t:?}"),
            Ok(Err(e)) => Err(e),
            Ok(Ok(None)) => {
                self.idle_tag = Some(tag);
                Ok(())
            }
            Ok(Ok(Some(d))) => {
                d.ok("IDLE")?;
                bail!("IDLE completed without a continuation request")
            }
        }
    }

    /// While idling: the next untagged response line the server sends (`* 5 EXISTS`…).
    pub async fn idle_update(&mut self) -> anyhow::Result<String> {
        if self.idle_tag.is_none() {
            bail!("not idling");
        }
        self.read_response().await?;
        Ok(lossy(&self.line).trim_end().to_string())
    }

    /// Ends IDLE with DONE and waits for its tagged completion.
    pub async fn idle_done(&mut self) -> anyhow::Result<()> {
        let Some(tag) = self.idle_tag.take() else {
            bail!("not idling");
        };
        self.out.clear();
        self.out.extend_from_slice(b"DONE\r\n");
        let t = self.timeout;
        let fut = async {
            self.flush_out().await?;
            self.read_until_tagged(&tag, false, &mut |_, _| {}).await
        };
        match tokio::time::timeout(t, fut).await {
            Err(_) => bail!("no response to DONE within {t:?}"),
            Ok(r) => {
                r?.expect("tagged").ok("IDLE")?;
                Ok(())
            }
        }
    }

    /// Whether the server has closed the connection (or said BYE), without waiting and without
    /// consuming anything; for connections sitting in IDLE.
    pub async fn closed_by_server(&mut self) -> bool {
        match tokio::time::timeout(Duration::ZERO, self.io.fill_buf()).await {
            Err(_) => false,
            Ok(Err(_)) => true,
            Ok(Ok(buf)) => buf.is_empty() || buf.windows(5).any(|w| w == b"* BYE"),
        }
    }

    /// LOGOUT, ignoring errors (the connection is going away anyway).
    pub async fn logout(mut self) {
        let _ = self.command("LOGOUT").await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literal_sizes() {
        assert_eq!(literal_at_end(b"* 1 FETCH (BODY[] {123}\r\n"), Some(123));
        assert_eq!(literal_at_end(b"* 1 FETCH (BODY[] ~{7}\r\n"), Some(7));
        assert_eq!(literal_at_end(b"* 1 FETCH (FLAGS ())\r\n"), None);
        assert_eq!(literal_at_end(b"* OK {x}\r\n"), None);
    }

    #[test]
    fn capability_codes() {
        let c = caps_in_code("[CAPABILITY IMAP4rev1 LITERAL+ IDLE] Logged in").unwrap();
        assert!(c.contains("LITERAL+") && c.contains("IDLE") && c.contains("IMAP4REV1"));
        assert!(caps_in_code("Logged in").is_none());
    }

    #[test]
    fn quoting() {
        assert_eq!(quoted(r#"a"b\c"#), r#""a\"b\\c""#);
    }
}
