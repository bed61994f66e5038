//! IUCV between virtual machines: directory authority, MSGLIMIT, one-way and two-way messages,
//! REJECT, SEVER, and FORCE seen by the partner.

mod common;

use std::time::Duration;

use common::{Harness, wait_for};
use vm::{
    Interrupt,
    iucv::{IucvError, IucvEvent, user_data},
};

const USERS: &str = "\
USER ALLOWED X 8M 8M G
 INCLUDE IBMDFLT
 IPL PROBE
 IUCV ALLOW
USER ANYONE X 8M 8M G
 INCLUDE IBMDFLT
 IPL PROBE
 IUCV ANY
USER SPECIFIC X 8M 8M G
 INCLUDE IBMDFLT
 IPL PROBE
 IUCV CLOSED MSGLIMIT 2
USER CLOSED X 8M 8M G
 INCLUDE IBMDFLT
 IPL PROBE
USER NOBODY X 8M 8M G
 INCLUDE IBMDFLT
 IPL PROBE
USER OPERATOR X 8M 8M ABCDEG
 INCLUDE IBMDFLT
USER ABSENT X 8M 8M G
 INCLUDE IBMDFLT
 IPL PROBE
";

fn pending(vm: &vm::VmHandle) -> (u16, String) {
    wait_for(vm, |i| match i {
        Interrupt::Iucv(IucvEvent::ConnectionPending { path, from, .. }) => {
            Some((path, from.to_string()))
        }
        _ => None,
    })
}

#[test]
fn the_directory_decides_who_may_connect() {
    let h = Harness::ipl(USERS, |_| {});
    let allowed = h.logon("ALLOWED");
    let anyone = h.logon("ANYONE");
    let specific = h.logon("SPECIFIC");
    let closed = h.logon("CLOSED");
    let nobody = h.logon("NOBODY");
    let d = user_data("HELLO");
    // IUCV ALLOW on the target: anyone may connect to it.
    let p = nobody.iucv_connect("ALLOWED", None, d).unwrap();
    let (tp, from) = pending(&allowed);
    assert_eq!(from, "NOBODY");
    allowed.iucv_accept(tp).unwrap();
    wait_for(&nobody, |i| match i {
        Interrupt::Iucv(IucvEvent::ConnectionComplete { path }) if path == p => Some(()),
        _ => None,
    });
    // IUCV ANY on the source: it may connect to anyone (but not to system services).
    anyone.iucv_connect("CLOSED", None, d).unwrap();
    assert_eq!(pending(&closed).1, "ANYONE");
    assert!(matches!(
        anyone.iucv_connect("*SPL", None, d),
        Err(IucvError::NotAuthorized(_))
    ));
    // IUCV userid: that user only.
    specific.iucv_connect("CLOSED", None, d).unwrap();
    assert_eq!(pending(&closed).1, "SPECIFIC");
    let e = specific.iucv_connect("NOBODY", None, d).unwrap_err();
    assert_eq!(e.iprcode(), 15, "{e}");
    // No statement at all, target without ALLOW: refused with IUCV's reason.
    let e = nobody.iucv_connect("CLOSED", None, d).unwrap_err();
    assert!(matches!(e, IucvError::NotAuthorized(_)), "{e}");
    assert_eq!(e.iprcode(), 15);
    // A target that is not logged on.
    let e = anyone.iucv_connect("ABSENT", None, d).unwrap_err();
    assert_eq!(e.iprcode(), 11, "{e}");
    h.shutdown();
}

#[test]
fn messages_replies_rejects_and_the_message_limit() {
    let h = Harness::ipl(USERS, |_| {});
    let a = h.logon("SPECIFIC");
    let b = h.logon("CLOSED");
    let p = a.iucv_connect("CLOSED", Some(50), user_data("")).unwrap();
    let (bp, _) = pending(&b);
    b.iucv_accept(bp).unwrap();
    // MSGLIMIT 2 in SPECIFIC's directory caps the 50 asked for.
    let m1 = a.iucv_send(p, 7, b"one".to_vec(), false).unwrap();
    a.iucv_send(p, 7, b"two".to_vec(), true).unwrap();
    let e = a.iucv_send(p, 7, b"three".to_vec(), false).unwrap_err();
    assert!(matches!(e, IucvError::MsgLimit(2)), "{e}");
    assert_eq!(e.iprcode(), 3);
    // B receives the one-way message: one slot frees up.
    let id = wait_for(&b, |i| match i {
        Interrupt::Iucv(IucvEvent::MessagePending {
            msgid,
            class: 7,
            two_way: false,
            ..
        }) => Some(msgid),
        _ => None,
    });
    assert_eq!(id, m1);
    assert_eq!(b.iucv_receive(bp, Some(id)).unwrap().data, b"one");
    a.iucv_send(p, 8, b"four".to_vec(), false).unwrap();
    // The two-way message is answered; A sees the reply.
    let m2 = wait_for(&b, |i| match i {
        Interrupt::Iucv(IucvEvent::MessagePending {
            msgid,
            two_way: true,
            ..
        }) => Some(msgid),
        _ => None,
    });
    let msg = b.iucv_receive(bp, Some(m2)).unwrap();
    assert_eq!(msg.data, b"two");
    b.iucv_reply(bp, m2, b"TWO".to_vec()).unwrap();
    let reply = wait_for(&a, |i| match i {
        Interrupt::Iucv(IucvEvent::MessageComplete { msgid, reply, .. }) if msgid == m2 => {
            Some(reply)
        }
        _ => None,
    });
    assert_eq!(reply.as_deref(), Some(&b"TWO"[..]));
    // A waiting SEND gets its reply directly; a REJECT is an error for the sender.
    let b2 = std::thread::spawn(move || {
        let id = wait_for(&b, |i| match i {
            Interrupt::Iucv(IucvEvent::MessagePending {
                msgid,
                two_way: true,
                class: 9,
                ..
            }) => Some(msgid),
            _ => None,
        });
        let m = b.iucv_receive(bp, Some(id)).unwrap();
        b.iucv_reply(bp, id, m.data.to_ascii_uppercase()).unwrap();
        let id = wait_for(&b, |i| match i {
            Interrupt::Iucv(IucvEvent::MessagePending {
                msgid,
                two_way: true,
                class: 10,
                ..
            }) => Some(msgid),
            _ => None,
        });
        b.iucv_reject(bp, id).unwrap();
        b
    });
    assert_eq!(
        a.iucv_send_wait(p, 9, b"ping".to_vec(), Duration::from_secs(5))
            .unwrap(),
        b"PING"
    );
    let e = a
        .iucv_send_wait(p, 10, b"no".to_vec(), Duration::from_secs(5))
        .unwrap_err();
    assert!(matches!(e, IucvError::Rejected(_)), "{e}");
    let _b = b2.join().unwrap();
    h.shutdown();
}

#[test]
fn sever_and_force_are_seen_by_the_partner() {
    let h = Harness::ipl(USERS, |_| {});
    let a = h.logon("ANYONE");
    let b = h.logon("ALLOWED");
    let p = a.iucv_connect("ALLOWED", None, user_data("")).unwrap();
    let (bp, _) = pending(&b);
    b.iucv_accept(bp).unwrap();
    b.iucv_sever(bp, user_data("GOODBYE")).unwrap();
    let data = wait_for(&a, |i| match i {
        Interrupt::Iucv(IucvEvent::Severed { path, user_data }) if path == p => Some(user_data),
        _ => None,
    });
    assert_eq!(&data[..7], b"GOODBYE");
    assert!(matches!(
        a.iucv_send(p, 1, vec![], false),
        Err(IucvError::InvalidPath(_))
    ));
    // A new path; the partner is FORCEd off the system.
    let p2 = a.iucv_connect("ALLOWED", None, user_data("")).unwrap();
    let (bp2, _) = pending(&b);
    b.iucv_accept(bp2).unwrap();
    let (rc, lines) = h.cp("OPERATOR", "FORCE ALLOWED");
    assert_eq!(rc, 0, "{lines:?}");
    let data = wait_for(&a, |i| match i {
        Interrupt::Iucv(IucvEvent::Severed { path, user_data }) if path == p2 => Some(user_data),
        _ => None,
    });
    assert_eq!(&data[..10], b"LOGGED OFF");
    // A message outstanding when the partner goes away is answered with an error.
    let c = h.logon("CLOSED");
    let p3 = a.iucv_connect("CLOSED", None, user_data("")).unwrap();
    let (cp3, _) = pending(&c);
    c.iucv_accept(cp3).unwrap();
    let sys = h.sys.clone();
    let t = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(100));
        let vm = sys.vm(&vm::UserId::parse("CLOSED").unwrap()).unwrap();
        sys.logoff(&vm, vm::system::LogoffWhy::Forced("TEST".into()));
    });
    let e = a
        .iucv_send_wait(p3, 1, b"x".to_vec(), Duration::from_secs(5))
        .unwrap_err();
    assert!(matches!(e, IucvError::Severed(_)), "{e}");
    t.join().unwrap();
    h.shutdown();
}

#[test]
fn maxconn_limits_paths() {
    let users = format!(
        "{USERS}USER LIMITED X 8M 8M G\n INCLUDE IBMDFLT\n IPL PROBE\n IUCV ANY\n OPTION MAXCONN 2\n"
    );
    let h = Harness::ipl(&users, |_| {});
    let l = h.logon("LIMITED");
    let _t = h.logon("ALLOWED");
    l.iucv_connect("ALLOWED", None, user_data("")).unwrap();
    l.iucv_connect("ALLOWED", None, user_data("")).unwrap();
    let e = l.iucv_connect("ALLOWED", None, user_data("")).unwrap_err();
    assert_eq!(e.iprcode(), 13, "{e}");
    h.shutdown();
}
