//! SMSG, MSG and WNG to programs through `*MSG`/`*MSGALL`, and the sender's errors.

mod common;

use common::{Harness, none_within, wait_for};
use vm::{
    Interrupt,
    iucv::{MsgClass, user_data},
};

const USERS: &str = "\
USER SERVER X 8M 8M G
 INCLUDE IBMDFLT
 IPL PROBE
USER CLIENT X 8M 8M G
 INCLUDE IBMDFLT
 IPL PROBE
USER OPERATOR X 8M 8M ABCDEG
 INCLUDE IBMDFLT
USER ABSENT X 8M 8M G
 INCLUDE IBMDFLT
";

fn message(vm: &vm::VmHandle) -> (MsgClass, String, String) {
    wait_for(vm, |i| match i {
        Interrupt::Message { class, from, text } => Some((class, from.to_string(), text)),
        _ => None,
    })
}

#[test]
fn smsg_reaches_a_program_on_its_msg_path() {
    let h = Harness::ipl(USERS, |_| {});
    let server = h.logon("SERVER");
    let _client = h.logon("CLIENT");
    // SMSG is OFF by default: the sender is told the target is not receiving.
    let (rc, l) = h.cp("CLIENT", "SMSG SERVER hello");
    assert_eq!(rc, 57, "{l:?}");
    assert_eq!(l, vec!["HCPMFS057I SERVER not receiving; SMSG off"]);
    assert_eq!(server.cp("SET SMSG IUCV").rc, 0);
    // IUCV set but no *MSG path yet.
    let (rc, l) = h.cp("CLIENT", "SMSG SERVER hello");
    assert_eq!(rc, 57, "{l:?}");
    server.iucv_connect("*MSG", None, user_data("")).unwrap();
    let (rc, l) = h.cp("CLIENT", "SMSG SERVER Query Users   two  blanks");
    assert_eq!((rc, l.len()), (0, 0), "{l:?}");
    let (class, from, text) = message(&server);
    assert_eq!(class, MsgClass::Smsg);
    assert_eq!(from, "CLIENT");
    // Exactly as typed, case and blanks kept.
    assert_eq!(text, "Query Users   two  blanks");
    // Not logged on: 045E.
    let (rc, l) = h.cp("CLIENT", "SMSG ABSENT hi");
    assert_eq!((rc, l[0].as_str()), (45, "HCPMSG045E ABSENT not logged on"));
    // A second *MSG connection is refused.
    assert!(server.iucv_connect("*MSGALL", None, user_data("")).is_err());
    h.shutdown();
}

#[test]
fn msg_and_wng_with_set_iucv_and_msgall() {
    let h = Harness::ipl(USERS, |_| {});
    let server = h.logon("SERVER");
    let client = h.logon("CLIENT");
    // A disconnected machine does not receive MSG on its console.
    let (rc, l) = h.cp("OPERATOR", "MSG SERVER hi");
    assert_eq!(
        (rc, l[0].as_str()),
        (57, "HCPMFS057I SERVER not receiving; disconnected")
    );
    assert_eq!(server.cp("SET MSG IUCV").rc, 0);
    server.iucv_connect("*MSG", None, user_data("")).unwrap();
    assert_eq!(h.cp("OPERATOR", "MSG SERVER status please").0, 0);
    assert_eq!(
        message(&server),
        (MsgClass::Msg, "OPERATOR".into(), "status please".into())
    );
    // WNG is still ON (console), and the machine is disconnected: not received.
    assert_eq!(h.cp("OPERATOR", "WNG SERVER careful").0, 57);
    assert_eq!(server.cp("SET WNG OFF").rc, 0);
    assert_eq!(
        h.cp("OPERATOR", "WNG SERVER careful").1[0],
        "HCPMFS057I SERVER not receiving; WNG off"
    );
    // *MSGALL takes every message that is not OFF, whatever the SET option.
    client.iucv_connect("*MSGALL", None, user_data("")).unwrap();
    assert_eq!(h.cp("OPERATOR", "WNG CLIENT shutting down").0, 0);
    assert_eq!(
        message(&client),
        (MsgClass::Wng, "OPERATOR".into(), "shutting down".into())
    );
    // MSGNOH (class B) arrives with the sender's userid but shown without a header.
    assert_eq!(h.cp("OPERATOR", "MSGNOH CLIENT raw text").0, 0);
    assert_eq!(message(&client).2, "raw text");
    // SERVER (SET MSG IUCV, *MSG) gets nothing of the messages sent to CLIENT.
    assert!(none_within(&server, 50, |i| matches!(
        i,
        Interrupt::Message { .. }
    )));
    h.shutdown();
}
