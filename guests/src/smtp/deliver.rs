//! Delivery: one spool file per recipient, each durable before DATA is answered.
//!
//! - IMAP recipient: a NETDATA file to the IMAP machine's reader (the intake contract of
//!   docs/smtp.md §5.1: from SMTP, to the recipient's userid, named `USERID MAIL`, class
//!   LOCALCLASS, tagged with the address as given in RCPT TO).
//! - LOCAL recipient: a file to the user's own reader in LOCALFORMAT: NETDATA from the sender's
//!   userid (if the sender is local, else SMTP) named `SENDER MAIL`, or plain cards.
//! - RELAY recipients: one relay queue file to SMTP's own reader (the worker in
//!   [`super::relay`] sends it to the smart host).
//!
//! If some files were sent and another failed, the mail is accepted (the client must not send
//! again what some recipients already have) and the sender gets an error report for the
//! others; if none was sent the reply is 451 and the client tries again later.

use std::sync::atomic::Ordering;

use chrono::Utc;
use spool::Queue;
use vm::{UserId, system::spoolops::CloseOpts};

use super::{
    addr,
    config::LocalFormat,
    deck::{self, body_records, netdata_deck, punch_cards, queue_records, received},
    reply::Reply,
    server::Server,
    session::{Envelope, Origin, Route},
    stats::Stats,
};

/// The name and type of a relay queue file in SMTP's reader.
pub const QUEUE_NAME: (&str, &str) = ("RELAY", "QUEUE");

/// The spool class of relay queue files.
pub const QUEUE_CLASS: char = 'Q';

/// What became of one recipient.
#[derive(Debug)]
struct Failed {
    address: String,
    why: String,
}

impl Server {
    /// Delivers a message received from `origin`: the reply to DATA.
    pub fn deliver(&self, env: &Envelope, message: &[u8], origin: &Origin) -> Reply {
        self.spooling.fetch_add(1, Ordering::Relaxed);
        let id = self.new_id();
        let now = Utc::now();
        let source = match origin {
            Origin::Tcp { peer } => format!("[{}]", peer.ip()),
            Origin::Batch { user, spoolid } => {
                format!("spool file {spoolid:04} from {user} at {}", self.system)
            }
        };
        let mut records = received(
            &env.helo,
            &source,
            &self.cfg.hostname,
            env.protocol,
            &id,
            now,
        );
        records.extend(body_records(message));
        let reply = self.deliver_records(env, &records, &id, true);
        self.spooling.fetch_sub(1, Ordering::Relaxed);
        if reply.is_ok() {
            Stats::bump(&self.stats.messages);
        }
        reply
    }

    /// Spools `records` (the message with its `Received:` lines) for every recipient of `env`.
    /// With `report`, recipients that failed while others succeeded get an error report sent to
    /// the sender.
    pub fn deliver_records(
        &self,
        env: &Envelope,
        records: &[Vec<u8>],
        id: &str,
        report: bool,
    ) -> Reply {
        let now = Utc::now();
        let mut sent = 0usize;
        let mut failed: Vec<Failed> = Vec::new();
        let mut done: Vec<&Route> = Vec::new();
        let mut relay: Vec<String> = Vec::new();
        for r in &env.rcpts {
            // One file per user, however many of their addresses were given.
            if matches!(r.route, Route::Relay) {
                if !relay.iter().any(|a| a.eq_ignore_ascii_case(&r.address)) {
                    relay.push(r.address.clone());
                }
                continue;
            }
            if done.contains(&&r.route) {
                continue;
            }
            done.push(&r.route);
            let res = match &r.route {
                Route::Imap(u) => self.to_imap(u, &r.address, records, now),
                Route::Local(u) => self.to_local(u, &env.from, &r.address, records, now),
                Route::Relay => continue,
            };
            match res {
                Ok(()) => {
                    sent += 1;
                    if self.tracing() {
                        self.log(&format!(
                            "DTCSMT010I Mail {id} from <{}> delivered to <{}> ({})",
                            env.from,
                            r.address,
                            match &r.route {
                                Route::Imap(u) => format!("IMAP {u}"),
                                Route::Local(u) => format!("reader of {u}"),
                                Route::Relay => "relay".into(),
                            }
                        ));
                    }
                }
                Err(why) => failed.push(Failed {
                    address: r.address.clone(),
                    why,
                }),
            }
        }
        if !relay.is_empty() {
            match self.to_queue(&env.from, &relay, records, now) {
                Ok(()) => {
                    sent += 1;
                    Stats::bump(&self.stats.queued);
                    if self.tracing() {
                        self.log(&format!(
                            "DTCSMT011I Mail {id} from <{}> queued for the smart host: {}",
                            env.from,
                            relay.join(", ")
                        ));
                    }
                }
                Err(why) => {
                    for a in relay {
                        failed.push(Failed {
                            address: a,
                            why: why.clone(),
                        });
                    }
                }
            }
        }
        if failed.is_empty() {
            return Reply::new(250, "2.0.0", "Mail Delivered");
        }
        for f in &failed {
            self.log(&format!(
                "DTCSMT012E Mail {id} from <{}> not spooled for <{}>: {}",
                env.from, f.address, f.why
            ));
        }
        if sent == 0 {
            return Reply::new(
                451,
                "4.3.0",
                format!("Mail not delivered: {}; try again later", failed[0].why),
            );
        }
        if report {
            let mut lines = vec![
                format!("Your mail {id} could not be spooled for these recipients:"),
                String::new(),
            ];
            for f in &failed {
                lines.push(format!("  <{}>: {}", f.address, f.why));
            }
            lines.push(String::new());
            lines.push("It was delivered to the other recipients.".into());
            self.mail_report(&env.from, "Mail not delivered to every recipient", &lines);
        }
        Reply::new(250, "2.0.0", "Mail Delivered")
    }

    fn to_imap(
        &self,
        u: &UserId,
        address: &str,
        records: &[Vec<u8>],
        now: chrono::DateTime<Utc>,
    ) -> Result<(), String> {
        let deck = netdata_deck(
            &self.system,
            "SMTP",
            u.as_str(),
            &format!("{u} MAIL"),
            now,
            records,
        );
        self.spooler.send(
            deck,
            &CloseOpts {
                to: Some((self.cfg.imap_server.clone(), Queue::Rdr)),
                class: Some(self.cfg.local_class),
                name: Some((u.to_string(), "MAIL".into())),
                tag: Some(deck::clean(address)),
                ..Default::default()
            },
        )?;
        Stats::bump(&self.stats.to_imap);
        Ok(())
    }

    fn to_local(
        &self,
        u: &UserId,
        from: &str,
        address: &str,
        records: &[Vec<u8>],
        now: chrono::DateTime<Utc>,
    ) -> Result<(), String> {
        let sender = addr::local_sender(&self.cfg, from)
            .filter(|s| self.vm.in_directory(s))
            .map_or_else(|| "SMTP".to_string(), |s| s.to_string());
        let cards = match self.cfg.local_format {
            LocalFormat::Netdata => netdata_deck(
                &self.system,
                &sender,
                u.as_str(),
                &format!("{sender} MAIL"),
                now,
                records,
            ),
            LocalFormat::Punch => punch_cards(records),
        };
        self.spooler.send(
            cards,
            &CloseOpts {
                to: Some((u.clone(), Queue::Rdr)),
                class: Some(self.cfg.local_class),
                name: Some((sender, "MAIL".into())),
                tag: Some(deck::clean(address)),
                ..Default::default()
            },
        )?;
        Stats::bump(&self.stats.to_local);
        Ok(())
    }

    /// Writes a relay queue file to SMTP's own reader.
    pub fn to_queue(
        &self,
        from: &str,
        to: &[String],
        records: &[Vec<u8>],
        now: chrono::DateTime<Utc>,
    ) -> Result<(), String> {
        let me = self.me().to_string();
        let deck = netdata_deck(
            &self.system,
            &me,
            &me,
            &format!("{} {}", QUEUE_NAME.0, QUEUE_NAME.1),
            now,
            &queue_records(from, to, records),
        );
        self.spooler
            .send(
                deck,
                &CloseOpts {
                    to: Some((self.me().clone(), Queue::Rdr)),
                    class: spool::Class::new(QUEUE_CLASS),
                    name: Some((QUEUE_NAME.0.into(), QUEUE_NAME.1.into())),
                    tag: Some(deck::clean(&to.join(" "))),
                    ..Default::default()
                },
            )
            .map(|_| ())
    }

    /// Mails an error report from SMTP (null sender) to `to`, if `to` is a user of this system;
    /// reports are never relayed (no backscatter). Failures are logged.
    pub fn mail_report(&self, to: &str, subject: &str, lines: &[String]) {
        let u = match addr::target(&self.cfg, to) {
            addr::Target::Local(u) if !to.is_empty() && self.vm.in_directory(&u) => u,
            _ => {
                self.log(&format!(
                    "DTCSMT013W Error report \"{subject}\" for <{to}> not sent: not a local user"
                ));
                return;
            }
        };
        self.report_to_user(&u, to, subject, lines);
    }

    /// Mails an error report to a local user.
    pub fn report_to_user(&self, u: &UserId, address: &str, subject: &str, lines: &[String]) {
        let id = self.new_id();
        let now = Utc::now();
        let host = &self.cfg.hostname;
        let mut records = received("localhost", "SMTP", host, "LOCAL", &id, now);
        let head = [
            format!("Date: {}", now.to_rfc2822()),
            format!("From: VM SMTP <MAILER-DAEMON@{host}>"),
            format!("To: <{address}>"),
            format!("Subject: {subject}"),
            format!("Message-ID: <{id}.report@{host}>"),
            "Auto-Submitted: auto-replied".to_string(),
            "MIME-Version: 1.0".to_string(),
            "Content-Type: text/plain; charset=utf-8".to_string(),
            String::new(),
        ];
        records.extend(head.iter().map(|l| l.clone().into_bytes()));
        records.extend(lines.iter().map(|l| deck::clean(l).into_bytes()));
        let env = Envelope {
            from: String::new(),
            rcpts: vec![super::session::Rcpt {
                address: address.to_string(),
                route: self.local_route(u.clone()),
            }],
            helo: "localhost".into(),
            protocol: "LOCAL",
        };
        let r = self.deliver_records(&env, &records, &id, false);
        if r.is_ok() {
            Stats::bump(&self.stats.reports);
            self.log(&format!(
                "DTCSMT014I Error report \"{subject}\" sent to {u} (mail {id})"
            ));
        } else {
            self.log(&format!(
                "DTCSMT015E Error report \"{subject}\" for {u} not sent: {r}"
            ));
        }
    }

    /// IBM's QUEU report (and `SMSG SMTP QUEUES`).
    pub fn queue_report(&self, dated: bool) -> Vec<String> {
        let mut out = vec![
            format!(
                "Spool Queue: {} mail being spooled to readers",
                self.spooling.load(Ordering::Relaxed)
            ),
            format!(
                "Queued: {} batch SMTP spool files waiting",
                self.batch_waiting.load(Ordering::Relaxed)
            ),
        ];
        out.extend(self.relay.report(dated, self.cfg.smarthost.as_ref()));
        out
    }
}
