//! IDLE (RFC 2177, RFC 9051 §6.3.13): the session waits for changes to its mailbox and reports
//! them at once, until the client sends DONE. No polling: the folder wakes the session.
//!
//! ```text
//! idle = "IDLE" CRLF "DONE"
//! ```

use std::{sync::atomic::Ordering, time::Duration};

use super::{Outcome, Session, State};

/// IDLE.
pub async fn run(s: &mut Session, _tag: &str) -> Option<Outcome> {
    s.out.text("+ idling\r\n");
    // Nothing of the IDLE command line is needed any more: an idle session keeps no buffers.
    s.input.compact();
    let timeout = Duration::from_secs(s.server.cfg.timeout);
    loop {
        s.sync(true);
        if s.flush().await.is_err() || s.state == State::Logout {
            s.state = State::Logout;
            return None;
        }
        let folder = s.view.as_ref().map(|v| v.folder.clone());
        let server = s.server.clone();
        let stop = server.stop.notified();
        tokio::pin!(stop);
        stop.as_mut().enable();
        if server.stopping.load(Ordering::SeqCst) {
            s.bye("Server shutting down").await;
            return None;
        }
        let seen = s
            .view
            .as_ref()
            .map_or(0, |v| v.modseq.min(v.expunge_modseq));
        let changed = async move {
            match &folder {
                Some(f) => {
                    let n = f.notified();
                    tokio::pin!(n);
                    n.as_mut().enable();
                    if f.version() != seen {
                        return;
                    }
                    n.await
                }
                None => std::future::pending().await,
            }
        };
        let max = s.server.cfg.max_line;
        enum Ev {
            Changed,
            Line(std::io::Result<Option<Result<Vec<u8>, Vec<u8>>>>),
            Timeout,
            Stop,
        }
        let ev = tokio::select! {
            _ = changed => Ev::Changed,
            r = s.input.line(&mut s.conn, max) => Ev::Line(r),
            _ = tokio::time::sleep(timeout) => Ev::Timeout,
            _ = &mut stop => Ev::Stop,
        };
        match ev {
            Ev::Changed => continue,
            Ev::Line(r) => {
                return match r {
                    Ok(Some(Ok(l))) => {
                        let t = String::from_utf8_lossy(&l);
                        if t.trim_end().eq_ignore_ascii_case("DONE") {
                            Some(Outcome::Ok("IDLE terminated".into()))
                        } else {
                            Some(Outcome::Bad("Expected DONE to end IDLE".into()))
                        }
                    }
                    Ok(Some(Err(_))) => Some(Outcome::Bad("Expected DONE to end IDLE".into())),
                    _ => {
                        s.state = State::Logout;
                        None
                    }
                };
            }
            Ev::Timeout => {
                s.bye("Autologout; idle for too long").await;
                return None;
            }
            Ev::Stop => {
                s.bye("Server shutting down").await;
                return None;
            }
        }
    }
}
