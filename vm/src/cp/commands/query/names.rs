//! `QUERY NAMES`: logged-on users, four to a line: `userid   - DSC` or `userid   - L0003`.

use super::no_more;
use crate::{
    cp::{CpResult, Ctx},
    grammar::Cursor,
};

/// Lists logged-on users and their terminals.
pub fn run(ctx: &Ctx<'_>, c: &mut Cursor<'_>) -> CpResult {
    no_more(c)?;
    let entries: Vec<String> = ctx
        .sys
        .logged_on()
        .iter()
        .map(|vm| {
            let term = vm
                .lock()
                .terminal
                .as_ref()
                .map(|t| t.id.clone())
                .unwrap_or_else(|| "DSC".into());
            format!("{} - {term}", vm.userid.padded())
        })
        .collect();
    Ok(entries.chunks(4).map(|ch| ch.join(" , ")).collect())
}
