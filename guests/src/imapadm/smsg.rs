//! `SMSG IMAPADM request` (see [`super::requests`]): run as the sender and answered with `MSG`
//! lines, the last one a `DTCADM` message.

use vm::UserId;

use super::service::Service;

/// Runs an SMSG request and sends the answer back to its sender.
pub fn handle(service: &Service, from: &UserId, text: &str) {
    let a = service.run(from, "SMSG", text);
    for l in &a.lines {
        let r = service.vm.cp(&format!("MSG {from} {l}"));
        if r.rc != 0 {
            // The sender logged off or refuses messages: the request is done and audited.
            break;
        }
    }
}
