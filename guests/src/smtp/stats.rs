//! Counters for `SMSG SMTP STATS`, kept since SMTP started.

use std::sync::atomic::{AtomicU64, Ordering};

/// The counters.
#[derive(Debug, Default)]
pub struct Stats {
    /// TCP connections accepted.
    pub connections: AtomicU64,
    /// TCP connections now open.
    pub open: AtomicU64,
    /// Connections that used STARTTLS.
    pub tls: AtomicU64,
    /// Batch SMTP decks read.
    pub decks: AtomicU64,
    /// Batch decks refused as malformed.
    pub bad_decks: AtomicU64,
    /// Messages accepted (250 to DATA).
    pub messages: AtomicU64,
    /// Spool files punched to the IMAP machine.
    pub to_imap: AtomicU64,
    /// Spool files punched to local users' readers.
    pub to_local: AtomicU64,
    /// Messages queued for the smart host.
    pub queued: AtomicU64,
    /// Messages sent to the smart host.
    pub relayed: AtomicU64,
    /// Error reports (bounces) sent.
    pub reports: AtomicU64,
    /// Recipients refused at RCPT.
    pub rejected: AtomicU64,
    /// Exit program failures (the built-in exit decided instead).
    pub exit_failures: AtomicU64,
}

impl Stats {
    /// Adds one to a counter.
    pub fn bump(c: &AtomicU64) {
        c.fetch_add(1, Ordering::Relaxed);
    }

    /// The lines of `SMSG SMTP STATS`.
    pub fn lines(&self) -> Vec<String> {
        let g = |c: &AtomicU64| c.load(Ordering::Relaxed);
        vec![
            format!(
                "DTCSMT131I Connections: {} accepted, {} open, {} with TLS",
                g(&self.connections),
                g(&self.open),
                g(&self.tls)
            ),
            format!(
                "DTCSMT132I Batch SMTP: {} spool files read, {} malformed",
                g(&self.decks),
                g(&self.bad_decks)
            ),
            format!(
                "DTCSMT133I Mail: {} messages accepted, {} recipients refused",
                g(&self.messages),
                g(&self.rejected)
            ),
            format!(
                "DTCSMT134I Delivered: {} to IMAP, {} to local readers, {} queued for relay, {} relayed",
                g(&self.to_imap),
                g(&self.to_local),
                g(&self.queued),
                g(&self.relayed)
            ),
            format!(
                "DTCSMT135I Error reports sent: {}; exit failures: {}",
                g(&self.reports),
                g(&self.exit_failures)
            ),
        ]
    }
}
