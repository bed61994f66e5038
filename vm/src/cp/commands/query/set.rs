//! `QUERY SET`: the issuer's SET options.

use super::no_more;
use crate::{
    cp::{CpResult, Ctx},
    grammar::Cursor,
    machine::{EmsgMode, MsgMode},
};

fn m(v: MsgMode) -> &'static str {
    match v {
        MsgMode::On => "ON  ",
        MsgMode::Off => "OFF ",
        MsgMode::Iucv => "IUCV",
    }
}

/// `MSG ON  , WNG ON  , EMSG ON  , SMSG OFF , IMSG ON`
pub fn run(ctx: &Ctx<'_>, c: &mut Cursor<'_>) -> CpResult {
    no_more(c)?;
    let s = ctx.vm.lock().settings;
    let emsg = match s.emsg {
        EmsgMode::On => "ON  ",
        EmsgMode::Off => "OFF ",
        EmsgMode::Code => "CODE",
        EmsgMode::Text => "TEXT",
        EmsgMode::Iucv => "IUCV",
    };
    Ok(vec![format!(
        "MSG {}, WNG {}, EMSG {emsg}, SMSG {}, IMSG {}",
        m(s.msg),
        m(s.wng),
        m(s.smsg),
        m(s.imsg).trim_end()
    )])
}
