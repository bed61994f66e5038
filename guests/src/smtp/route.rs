//! The SMTP command exit (this system's IMAPCMDX): who may send, and where each recipient's
//! mail goes. The external exit program is asked first when there is one; its `DEFAULT`, and
//! any failure of it, leave the decision to the built-in exit:
//!
//! - MAIL and DATA: accepted.
//! - RCPT to a local domain (or postmaster): the local part must be a userid of the CP
//!   directory (else `550 5.1.1`). The IMAP machine is asked whether the user is enrolled: yes
//!   routes to IMAP, no to the user's own reader (LOCAL), and no answer to IMAP (its intake
//!   passes on the files of users who are not enrolled).
//! - RCPT to another domain: RELAY when a smart host is configured and the client may relay
//!   (batch SMTP from a local user, or a TCP client in RELAYCLIENTS); otherwise
//!   `550 5.7.1`. SMTP is never an open relay.

use std::net::IpAddr;

use vm::UserId;

use super::{
    addr::{self, Target},
    enrol::Answer as Enrolled,
    exit::{Answer, Kind},
    reply::Reply,
    server::Server,
    session::{Envelope, Origin, Route},
    stats::Stats,
};

fn origin_text(o: &Origin) -> String {
    match o {
        Origin::Tcp { peer } => format!("TCP {}", peer.ip()),
        Origin::Batch { user, .. } => format!("BATCH {user}"),
    }
}

fn client_ip(o: &Origin) -> Option<IpAddr> {
    match o {
        Origin::Tcp { peer } => Some(peer.ip()),
        Origin::Batch { .. } => None,
    }
}

fn rejected(code: u16, text: &str) -> Reply {
    let esc = if code >= 500 { "5.7.1" } else { "4.7.1" };
    let text = if text.is_empty() {
        "Refused by the SMTP command exit"
    } else {
        text
    };
    Reply::new(code, esc, text.to_string())
}

impl Server {
    /// Asks the external exit, if any; `None` when it says DEFAULT, is absent, or failed (a
    /// failure is logged and counted).
    fn consult(&self, question: &str, kind: Kind) -> Option<Answer> {
        let exit = self.exit.as_ref()?;
        match exit.ask(question, kind) {
            Ok(Answer::Default) => None,
            Ok(a) => Some(a),
            Err(why) => {
                Stats::bump(&self.stats.exit_failures);
                self.log(&format!(
                    "DTCSMT030W Exit {} failed for \"{}\": {why}; the built-in exit decided",
                    exit.program.display(),
                    question.chars().take(120).collect::<String>()
                ));
                None
            }
        }
    }

    /// The exit's word on MAIL FROM.
    pub fn check_mail(&self, from: &str, origin: &Origin) -> Result<(), Reply> {
        let q = format!("MAIL <{from}> {}", origin_text(origin));
        match self.consult(&q, Kind::Mail) {
            Some(Answer::Reject(c, t)) => Err(rejected(c, &t)),
            _ => Ok(()),
        }
    }

    /// The exit's word on DATA.
    pub fn check_data(&self, env: &Envelope, origin: &Origin) -> Result<(), Reply> {
        let q = format!(
            "DATA <{}> {} {}",
            env.from,
            env.rcpts.len(),
            origin_text(origin)
        );
        match self.consult(&q, Kind::Data) {
            Some(Answer::Reject(c, t)) => Err(rejected(c, &t)),
            _ => Ok(()),
        }
    }

    /// The route for one recipient.
    pub fn check_rcpt(&self, from: &str, to: &str, origin: &Origin) -> Result<Route, Reply> {
        let q = format!("RCPT <{from}> <{to}> {}", origin_text(origin));
        match self.consult(&q, Kind::Rcpt) {
            Some(Answer::Reject(c, t)) => Err(rejected(c, &t)),
            Some(Answer::Imap(u)) | Some(Answer::Local(u)) if !self.vm.in_directory(&u) => {
                Stats::bump(&self.stats.exit_failures);
                self.log(&format!(
                    "DTCSMT031W Exit routed <{to}> to {u}, who is not in the CP directory; the built-in exit decided"
                ));
                self.builtin_rcpt(to, origin)
            }
            Some(Answer::Imap(u)) => Ok(Route::Imap(u)),
            Some(Answer::Local(u)) => Ok(Route::Local(u)),
            Some(Answer::Relay) if self.cfg.smarthost.is_some() => Ok(Route::Relay),
            Some(Answer::Relay) => Err(Reply::new(
                550,
                "5.7.1",
                "Relaying denied: no smart host is configured",
            )),
            Some(Answer::Default) | None => self.builtin_rcpt(to, origin),
        }
    }

    /// The built-in exit's route for a recipient.
    pub fn builtin_rcpt(&self, to: &str, origin: &Origin) -> Result<Route, Reply> {
        match addr::target(&self.cfg, to) {
            Target::Local(u) if self.vm.in_directory(&u) => Ok(self.local_route(u)),
            Target::Local(_) | Target::BadLocal => Err(Reply::new(
                550,
                "5.1.1",
                format!("<{}> User unknown", addr::split(to).0),
            )),
            Target::Remote(_) => {
                if self.cfg.smarthost.is_none() {
                    return Err(Reply::new(
                        550,
                        "5.7.1",
                        "Relaying denied: mail for other domains is not accepted here",
                    ));
                }
                match client_ip(origin) {
                    Some(ip) if !self.cfg.may_relay(ip) => {
                        Err(Reply::new(550, "5.7.1", "Relaying denied for your address"))
                    }
                    _ => Ok(Route::Relay),
                }
            }
        }
    }

    /// IMAP or LOCAL for a user of the directory, as the IMAP machine's answer says.
    pub fn local_route(&self, u: UserId) -> Route {
        match self.enrol.ask(&u) {
            Enrolled::Yes => Route::Imap(u),
            Enrolled::No => Route::Local(u),
            Enrolled::Unknown(_) => Route::Imap(u),
        }
    }

    fn verify(&self, what: &str, on: bool, name: &str) -> Reply {
        if !on {
            return if name == "VRFY" {
                Reply::new(
                    252,
                    "2.5.2",
                    "Cannot VRFY user, but will accept message and attempt delivery",
                )
            } else {
                Reply::new(502, "5.5.1", "EXPN is not available")
            };
        }
        let a = what.trim().trim_start_matches('<').trim_end_matches('>');
        match addr::target(&self.cfg, a) {
            Target::Local(u) if self.vm.in_directory(&u) => Reply::new(
                250,
                "2.1.5",
                format!(
                    "{u} <{}@{}>",
                    u.as_str().to_ascii_lowercase(),
                    self.cfg.hostname
                ),
            ),
            Target::Remote(_) => Reply::new(551, "5.1.6", "User not local"),
            _ => Reply::new(550, "5.1.1", "User unknown"),
        }
    }

    /// VRFY (OFF unless configured: 252).
    pub fn vrfy(&self, what: &str) -> Reply {
        self.verify(what, self.cfg.vrfy, "VRFY")
    }

    /// EXPN (OFF unless configured: 502). There are no mailing lists: a user expands to itself.
    pub fn expn(&self, what: &str) -> Reply {
        self.verify(what, self.cfg.expn, "EXPN")
    }
}
