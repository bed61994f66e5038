//! `*SPL`: files in the reader are reported once each, including those that arrived while the
//! guest was logged off, and can be read, purged and transferred.

mod common;

use std::collections::HashSet;

use common::{Harness, none_within, wait_for};
use vm::{Interrupt, iucv::SplFile, system::spoolops};

const USERS: &str = "\
USER IMAP X 8M 8M G
 INCLUDE IBMDFLT
 IPL PROBE
 IUCV *SPL
USER OTHER X 8M 8M G
 INCLUDE IBMDFLT
 IPL PROBE
USER MAINT X 8M 8M ABCDEG
 INCLUDE IBMDFLT
USER OPERATOR X 8M 8M ABCDEG
 INCLUDE IBMDFLT
";

fn punch(h: &Harness, text: &str, name: &str) {
    let maint = vm::UserId::parse("MAINT").unwrap();
    let e = h.sys.entry(&maint).unwrap();
    let (vm, _rx) = vm::machine::VirtualMachine::new(e, 0, true, 0);
    let dev = vm::machine::DevRef::Kind(vm::machine::OutKind::Punch);
    let mut card = text.as_bytes().to_vec();
    card.resize(80, b' ');
    spoolops::write_record(&h.sys, &vm, dev, card).unwrap();
    spoolops::close_output(
        &h.sys,
        &vm,
        dev,
        &spoolops::CloseOpts {
            to: Some((vm::UserId::parse("IMAP").unwrap(), spool::Queue::Rdr)),
            name: Some((name.into(), "MAIL".into())),
            ..Default::default()
        },
    )
    .unwrap();
}

fn arrival(vm: &vm::VmHandle) -> SplFile {
    wait_for(vm, |i| match i {
        Interrupt::SplArrival(f) => Some(f),
        _ => None,
    })
}

#[test]
fn arrivals_are_reported_once_including_those_before_connect() {
    let h = Harness::ipl(USERS, |_| {});
    // Two files arrive while IMAP is not logged on.
    punch(&h, "first", "ONE");
    punch(&h, "second", "TWO");
    let imap = h.logon("IMAP");
    let spl = imap.spl_connect().unwrap();
    let a = arrival(&imap);
    let b = arrival(&imap);
    assert_eq!(
        (a.fname.as_str(), a.spoolid, a.origin.as_str()),
        ("ONE", 1, "MAINT")
    );
    assert_eq!((b.fname.as_str(), b.spoolid, b.records), ("TWO", 2, 1));
    // A new arrival, once.
    punch(&h, "third", "THREE");
    let c = arrival(&imap);
    assert_eq!(c.fname, "THREE");
    assert!(none_within(&imap, 100, |i| matches!(
        i,
        Interrupt::SplArrival(_)
    )));
    // Reading does not remove; purge does (durably).
    let (info, recs) = spl.read(a.file_id).unwrap();
    assert_eq!(info.spoolid, 1);
    assert_eq!(spool::cards::card_text(&recs[0]), "first");
    assert!(spl.purge(a.file_id).unwrap());
    assert!(!spl.purge(a.file_id).unwrap());
    let left: HashSet<u16> = spl.files().unwrap().iter().map(|f| f.spoolid).collect();
    assert_eq!(left, HashSet::from([2, 3]));
    // Transfer to another user's reader.
    let lines = spl
        .transfer(b.file_id, &vm::UserId::parse("OTHER").unwrap())
        .unwrap();
    assert!(
        lines[0].starts_with("RDR FILE 0002 SENT TO   OTHER    RDR AS  0001"),
        "{lines:?}"
    );
    assert!(spl.read(b.file_id).is_err());
    h.shutdown();
}

#[test]
fn a_reconnect_reports_what_is_still_there_and_only_authorised_users_connect() {
    let h = Harness::ipl(USERS, |_| {});
    let imap = h.logon("IMAP");
    let spl = imap.spl_connect().unwrap();
    assert!(imap.spl_connect().is_err(), "a second *SPL path");
    punch(&h, "x", "KEEP");
    let f = arrival(&imap);
    // The guest is logged off and on again: the file is reported again on the new connection.
    drop(spl);
    let (rc, _) = h.cp("OPERATOR", "FORCE IMAP");
    assert_eq!(rc, 0);
    let imap = h.logon("IMAP");
    let _spl = imap.spl_connect().unwrap();
    assert_eq!(arrival(&imap).file_id, f.file_id);
    // No IUCV *SPL statement: refused with IUCV's reason.
    let other = h.logon("OTHER");
    let e = other.spl_connect().unwrap_err();
    assert_eq!(e.iprcode(), 15, "{e}");
    h.shutdown();
}
