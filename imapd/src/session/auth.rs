//! STARTTLS, LOGIN and AUTHENTICATE PLAIN (with SASL-IR): the commands that wait on the network
//! or on time, so they run in the async loop.
//!
//! ```text
//! authenticate  = "AUTHENTICATE" SP auth-type [SP (base64 / "=")] *(CRLF base64)
//! PLAIN message = [authzid] NUL authcid NUL passwd          ; RFC 4616
//! ```
//!
//! Passwords are checked against the CP directory (DIAGNOSE X'88') and the user must be enrolled
//! in the mailstore. Every failure looks the same to the client and costs it a delay that grows
//! with each failure; after MAXLOGINFAILS the session ends. Passwords are never logged.

use std::{sync::atomic::Ordering, time::Duration};

use base64::Engine;
use vm::UserId;

use super::{Outcome, Session, State};
use crate::store::StoreError;

/// STARTTLS.
pub async fn starttls(s: &mut Session, tag: &str) -> Option<Outcome> {
    if s.conn.is_tls() {
        return Some(Outcome::Bad("TLS is already active".into()));
    }
    let Some(acc) = s.server.tls.clone() else {
        return Some(Outcome::No("TLS is not available".into()));
    };
    s.tagged(tag, &Outcome::Ok("Begin TLS negotiation now".into()));
    if s.flush().await.is_err() {
        s.state = State::Logout;
        return None;
    }
    // Anything the client pipelined after STARTTLS was sent in the clear: drop it.
    s.input = Default::default();
    let hs = tokio::time::timeout(
        Duration::from_secs(s.server.cfg.login_timeout),
        s.conn.start_tls(&acc),
    )
    .await;
    if !matches!(hs, Ok(Ok(()))) {
        s.state = State::Logout;
        return None;
    }
    let id = s.id;
    s.server.update(id, |i| i.tls = true);
    None
}

/// Why a login failed, for the log (the client is told only "authentication failed").
async fn verify(s: &Session, user: &str, password: &str) -> Result<UserId, String> {
    let Ok(u) = UserId::parse(user) else {
        // Do the same work as for a real user, so timing does not tell.
        let _ = s
            .server
            .verify_password(&UserId::parse("NOSUCHID").unwrap(), password)
            .await;
        return Err("not a userid".into());
    };
    let ok = s.server.verify_password(&u, password).await;
    if !ok {
        return Err("wrong password or no such user".into());
    }
    let server = s.server.clone();
    let uu = u.clone();
    let enrolled = tokio::task::spawn_blocking(move || server.store.is_enrolled(&uu))
        .await
        .unwrap_or(false);
    if !enrolled {
        return Err("not enrolled in the mailstore".into());
    }
    Ok(u)
}

async fn complete(s: &mut Session, user: &str, password: &str, how: &str) -> Option<Outcome> {
    if s.server.cfg.require_tls && !s.conn.is_tls() {
        return Some(Outcome::No(
            "[PRIVACYREQUIRED] Use STARTTLS (or the TLS port) before logging in".into(),
        ));
    }
    match verify(s, user, password).await {
        Ok(u) => {
            let server = s.server.clone();
            let uu = u.clone();
            let store = tokio::task::spawn_blocking(move || server.store.user(&uu)).await;
            let store = match store {
                Ok(Ok(st)) => st,
                Ok(Err(e)) => return Some(Outcome::from(e)),
                Err(_) => {
                    return Some(Outcome::from(StoreError::Unavailable(
                        "internal error".into(),
                    )));
                }
            };
            if let Err(r) = s.server.logged_in(s.id, &u) {
                let n = match r {
                    crate::server::Refusal::Total(n) | crate::server::Refusal::User(n) => n,
                };
                return Some(Outcome::No(format!(
                    "[LIMIT] Too many sessions for {u} (at most {n})"
                )));
            }
            s.user = Some(store);
            s.state = State::Auth;
            s.server.logins.fetch_add(1, Ordering::Relaxed);
            if s.server.trace.load(Ordering::Relaxed) {
                s.server.log(&format!(
                    "DTCIMA0220I Session {} {how} as {u} from {}",
                    s.id, s.peer
                ));
            }
            Some(Outcome::Ok(format!(
                "[CAPABILITY {}] Logged in",
                s.capabilities()
            )))
        }
        Err(why) => {
            s.failures += 1;
            s.server.failed_logins.fetch_add(1, Ordering::Relaxed);
            s.server.log(&format!(
                "DTCIMA0221W Session {} from {}: {how} as {} failed ({why}); failure {}",
                s.id,
                s.peer,
                user.chars().take(16).collect::<String>(),
                s.failures
            ));
            let delay = s.server.cfg.login_delay * s.failures as u64;
            tokio::time::sleep(Duration::from_secs(delay.min(30))).await;
            if s.failures >= s.server.cfg.max_login_fails {
                s.tagged_later_bye();
                return Some(Outcome::No(
                    "[AUTHENTICATIONFAILED] Authentication failed".into(),
                ));
            }
            Some(Outcome::No(
                "[AUTHENTICATIONFAILED] Authentication failed".into(),
            ))
        }
    }
}

impl Session {
    /// Ends the session (too many failed logins): BYE now, the tagged NO after it.
    fn tagged_later_bye(&mut self) {
        self.out.text("* BYE Too many failed logins\r\n");
        self.state = State::Logout;
    }
}

/// LOGIN.
pub async fn login(s: &mut Session, user: &str, password: &str) -> Option<Outcome> {
    complete(s, user, password, "LOGIN").await
}

/// AUTHENTICATE (PLAIN only).
pub async fn authenticate(
    s: &mut Session,
    mechanism: &str,
    initial: Option<Vec<u8>>,
) -> Option<Outcome> {
    if mechanism != "PLAIN" {
        return Some(Outcome::No(format!(
            "[CANNOT] Unsupported authentication mechanism {mechanism}"
        )));
    }
    if s.server.cfg.require_tls && !s.conn.is_tls() {
        return Some(Outcome::No(
            "[PRIVACYREQUIRED] Use STARTTLS (or the TLS port) before logging in".into(),
        ));
    }
    let data = match initial {
        Some(d) => d,
        None => {
            s.out.text("+ \r\n");
            if s.flush().await.is_err() {
                s.state = State::Logout;
                return None;
            }
            let max = s.server.cfg.max_line;
            let line = match s.input.line(&mut s.conn, max).await {
                Ok(Some(Ok(l))) => l,
                Ok(Some(Err(_))) => return Some(Outcome::Bad("Response too long".into())),
                _ => {
                    s.state = State::Logout;
                    return None;
                }
            };
            let t = String::from_utf8_lossy(&line).trim_end().to_string();
            if t == "*" {
                return Some(Outcome::Bad("AUTHENTICATE cancelled".into()));
            }
            match base64::engine::general_purpose::STANDARD.decode(t.as_bytes()) {
                Ok(d) => d,
                Err(_) => return Some(Outcome::Bad("Invalid base64 in the response".into())),
            }
        }
    };
    let parts: Vec<&[u8]> = data.split(|&c| c == 0).collect();
    let [authz, authc, pw] = parts.as_slice() else {
        return Some(Outcome::Bad("Malformed PLAIN response".into()));
    };
    let (Ok(authz), Ok(authc), Ok(pw)) = (
        std::str::from_utf8(authz),
        std::str::from_utf8(authc),
        std::str::from_utf8(pw),
    ) else {
        return Some(Outcome::Bad("PLAIN response is not UTF-8".into()));
    };
    if !authz.is_empty() && !authz.eq_ignore_ascii_case(authc) {
        return Some(Outcome::No(
            "[AUTHORIZATIONFAILED] Acting as another user is not allowed".into(),
        ));
    }
    complete(s, authc, pw, "AUTHENTICATE").await
}
