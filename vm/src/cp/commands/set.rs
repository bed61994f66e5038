//! `SET` (class G): message reception and display options.
//!
//! ```text
//! set  = "SET" ( ("MSG" / "WNG" / "SMSG" / "IMSG") onoff / "EMSG" emsg )
//! onoff = "ON" / "OFF" / "IUCV"                   ; IUCV: to the program's *MSG path
//! emsg  = "ON" / "OFF" / "CODE" / "TEXT"
//! ```

use crate::{
    cp::{CpResult, Ctx, messages},
    grammar::Cursor,
    machine::{EmsgMode, MsgMode},
};

fn onoff(c: &mut Cursor<'_>) -> Result<MsgMode, crate::cp::messages::CpMsg> {
    if c.keyword("ON", 2) {
        Ok(MsgMode::On)
    } else if c.keyword("OFF", 3) {
        Ok(MsgMode::Off)
    } else if c.keyword("IUCV", 4) {
        Ok(MsgMode::Iucv)
    } else {
        Err(match c.peek() {
            Some(t) => messages::invalid_operand(t),
            None => messages::operand_missing(),
        })
    }
}

/// Sets an option; silent on success, as CP is.
pub fn run(ctx: &Ctx<'_>, c: &mut Cursor<'_>) -> CpResult {
    if c.keyword("MSG", 3) {
        let m = onoff(c)?;
        end(c)?;
        ctx.vm.lock().settings.msg = m;
    } else if c.keyword("WNG", 3) {
        let m = onoff(c)?;
        end(c)?;
        ctx.vm.lock().settings.wng = m;
    } else if c.keyword("SMSG", 4) {
        let m = onoff(c)?;
        end(c)?;
        ctx.vm.lock().settings.smsg = m;
    } else if c.keyword("IMSG", 4) {
        let m = onoff(c)?;
        end(c)?;
        ctx.vm.lock().settings.imsg = m;
    } else if c.keyword("EMSG", 4) {
        let m = if c.keyword("ON", 2) {
            EmsgMode::On
        } else if c.keyword("OFF", 3) {
            EmsgMode::Off
        } else if c.keyword("CODE", 4) {
            EmsgMode::Code
        } else if c.keyword("TEXT", 4) {
            EmsgMode::Text
        } else {
            return Err(match c.peek() {
                Some(t) => messages::invalid_operand(t),
                None => messages::operand_missing(),
            });
        };
        end(c)?;
        ctx.vm.lock().settings.emsg = m;
    } else {
        return Err(match c.peek() {
            Some(t) => messages::invalid_operand(t),
            None => messages::operand_missing(),
        });
    }
    Ok(Vec::new())
}

fn end(c: &mut Cursor<'_>) -> Result<(), crate::cp::messages::CpMsg> {
    match c.next_token() {
        Some(t) => Err(messages::invalid_operand(t)),
        None => Ok(()),
    }
}
