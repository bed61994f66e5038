//! Unit-record I/O over the spool, shared by CP commands and guest programs: writing records to an
//! output device, closing its file into the spool, reading reader files, and telling receivers that
//! a file arrived.

use std::sync::Arc;

use spool::{FileAttrs, Hold, NewFile, Queue, SpoolError, SpoolFile, UserId};

use super::System;
use crate::{
    cp::{
        format::{self, Side},
        messages::{self, CpMsg},
    },
    machine::{DevRef, Interrupt, OutKind, VirtualMachine, devices::OpenFile},
};

/// Overrides a CLOSE command gives for the file it closes.
#[derive(Debug, Clone, Default)]
pub struct CloseOpts {
    /// HOLD / NOHOLD.
    pub hold: Option<bool>,
    /// KEEP / NOKEEP.
    pub keep: Option<bool>,
    /// PURGE: discard the file.
    pub purge: bool,
    /// DIST code.
    pub dist: Option<String>,
    /// TO userid [queue].
    pub to: Option<(UserId, Queue)>,
    /// NAME fn ft.
    pub name: Option<(String, String)>,
    /// CLASS for this file (a host punch request may give one).
    pub class: Option<spool::Class>,
    /// TAG text for this file (as CP TAG DEV would set it; a program sets it per file).
    pub tag: Option<String>,
}

fn maxspool(sys: &System, u: &UserId) -> u16 {
    sys.entry(u).map_or(spool::MAX_SPOOLID, |e| e.maxspool)
}

/// Writes one record to an output device, opening a file (and reserving its spoolid) if needed.
pub fn write_record(
    sys: &System,
    vm: &VirtualMachine,
    dev: DevRef,
    record: Vec<u8>,
) -> Result<(), CpMsg> {
    let mut g = vm.lock();
    let idx = g
        .devices
        .output_index(dev)
        .ok_or_else(|| messages::no_device(&dev_name(dev)))?;
    let limits = &sys.config().spool;
    let o = &mut g.devices.outputs[idx];
    if o.open.is_none() {
        let id = sys.spool().reserve(&vm.userid, vm.entry.maxspool)?;
        o.open = Some(OpenFile {
            spoolid: id,
            ..Default::default()
        });
    }
    let open = o.open.as_mut().unwrap();
    if open.records.len() as u64 >= limits.max_records {
        return Err(messages::spool_file_too_large(&format!(
            "more than {} records",
            limits.max_records
        )));
    }
    if open.bytes + record.len() as u64 + 4 > limits.max_file_bytes {
        return Err(messages::spool_file_too_large(&format!(
            "more than {} bytes",
            limits.max_file_bytes
        )));
    }
    open.bytes += record.len() as u64 + 4;
    open.records.push(record);
    Ok(())
}

fn dev_name(dev: DevRef) -> String {
    match dev {
        DevRef::Vdev(v) => format!("{v:04X}"),
        DevRef::Reader => "RDR".into(),
        DevRef::Kind(k) => k.name().into(),
    }
}

/// Closes the file open on an output device into the spool: to the device's TO user's reader,
/// to its FOR user's output queue, or to the owner's own queue. Returns the response lines for
/// the issuer; the receiver gets its `RDR FILE … SENT FROM` line asynchronously.
///
/// A console whose spooling is started goes on spooling into a new file.
pub fn close_output(
    sys: &System,
    vm: &VirtualMachine,
    dev: DevRef,
    opts: &CloseOpts,
) -> Result<Vec<String>, CpMsg> {
    let res = close_file(sys, vm, dev, opts);
    let restart = {
        let g = vm.lock();
        g.devices.output_index(dev).is_some_and(|i| {
            let o = &g.devices.outputs[i];
            o.kind == OutKind::Console && o.started && o.open.is_none()
        })
    };
    if restart && !vm.transient && !vm.is_logged_off() {
        // The file is closed whatever happens here: report that, even if no spoolid is left for
        // the next one (console output is then not spooled until one is).
        let Ok(id) = sys.spool().reserve(&vm.userid, vm.entry.maxspool) else {
            return res;
        };
        let mut g = vm.lock();
        let free = g.devices.output_index(dev).and_then(|i| {
            let o = &mut g.devices.outputs[i];
            if o.open.is_none() {
                o.open = Some(OpenFile {
                    spoolid: id,
                    ..Default::default()
                });
                None
            } else {
                Some(id)
            }
        });
        drop(g);
        if let Some(id) = free {
            let _ = sys.spool().transact(|t| -> Result<(), SpoolError> {
                t.release_spoolid(&vm.userid, id);
                Ok(())
            });
        }
    }
    res
}

fn close_file(
    sys: &System,
    vm: &VirtualMachine,
    dev: DevRef,
    opts: &CloseOpts,
) -> Result<Vec<String>, CpMsg> {
    let (open, kind, attrs, target) = {
        let mut g = vm.lock();
        let idx = g
            .devices
            .output_index(dev)
            .ok_or_else(|| messages::no_device(&dev_name(dev)))?;
        let o = &mut g.devices.outputs[idx];
        let Some(open) = o.open.take() else {
            return Ok(Vec::new());
        };
        let mut attrs = FileAttrs::with_class(opts.class.unwrap_or(o.class), "");
        attrs.copies = o.copies;
        attrs.hold = Hold {
            user: opts.hold.unwrap_or(o.hold),
            system: false,
        };
        attrs.keep = opts.keep.unwrap_or(o.keep);
        attrs.msg = o.msg;
        attrs.form = o.form.clone();
        attrs.dest = o.dest.clone();
        attrs.dist = opts
            .dist
            .clone()
            .or_else(|| o.dist.clone())
            .unwrap_or_else(|| vm.entry.dist.clone());
        if let Some((n, t)) = opts.name.clone().or_else(|| o.name.clone()) {
            attrs.fname = n;
            attrs.ftype = t;
        }
        attrs.tag = opts.tag.clone().unwrap_or_else(|| o.tag.clone());
        let target = match (&opts.to, &o.to, &o.for_user) {
            (Some(t), _, _) | (None, Some(t), _) => (t.0.clone(), t.1),
            (None, None, Some(f)) => (f.clone(), o.kind.queue()),
            (None, None, None) => (vm.userid.clone(), o.kind.queue()),
        };
        (open, o.kind, attrs, target)
    };
    // PURGE discards the file; an empty file (console spooling started, nothing written) is no
    // file at all (cp-cms.md §2.5). Either way the reserved spoolid is given back.
    if opts.purge || open.records.is_empty() {
        sys.spool().transact(|t| -> Result<(), SpoolError> {
            t.release_spoolid(&vm.userid, open.spoolid);
            Ok(())
        })?;
        return Ok(Vec::new());
    }
    let (owner, queue) = target;
    let own_id = open.spoolid;
    let limit = maxspool(sys, &owner);
    let records = open.records.clone();
    let res = sys.spool().transact(|t| {
        let id = if owner == vm.userid {
            own_id
        } else {
            let id = t.alloc_spoolid(&owner, limit)?;
            t.release_spoolid(&vm.userid, own_id);
            id
        };
        t.create(NewFile {
            owner: owner.clone(),
            queue,
            spoolid: id,
            origin: vm.userid.clone(),
            origin_dev: kind.devtype(),
            prev: (owner != vm.userid).then(|| (vm.userid.clone(), own_id)),
            attrs: attrs.clone(),
            records: records.clone(),
        })
    });
    let file = match res {
        Ok(f) => f,
        Err(e) => {
            // Nothing was written: keep the data on the device so it can be closed or purged.
            let mut g = vm.lock();
            if let Some(i) = g.devices.output_index(dev)
                && g.devices.outputs[i].open.is_none()
            {
                g.devices.outputs[i].open = Some(open);
            }
            return Err(e.into());
        }
    };
    let mut lines = Vec::new();
    if owner == vm.userid && queue == Queue::Rdr {
        lines.push(format::sent_line(
            Side::From,
            "RDR",
            file.spoolid,
            vm.userid.as_str(),
            kind.name(),
            own_id,
            &file,
        ));
    } else if owner == vm.userid {
        lines.push(format!(
            "{} FILE {:04} TO  {} COPY {:03} {}",
            kind.name(),
            file.spoolid,
            owner.padded(),
            file.attrs.copies,
            if file.attrs.hold.user {
                "HOLD"
            } else {
                "NOHOLD"
            }
        ));
    } else {
        lines.push(format::sent_line(
            Side::To,
            kind.name(),
            own_id,
            owner.as_str(),
            queue.name(),
            file.spoolid,
            &file,
        ));
        let recv = format::sent_line(
            Side::From,
            queue.name(),
            file.spoolid,
            vm.userid.as_str(),
            kind.name(),
            own_id,
            &file,
        );
        notify_receiver(sys, &file, &recv);
    }
    if owner == vm.userid && queue == Queue::Rdr {
        if let Some(me) = sys.vm(&owner) {
            me.interrupt(Interrupt::ReaderReady);
        }
        sys.spl_arrival(&file);
    }
    Ok(lines)
}

/// Tells the owner of a file that it arrived: its `… SENT FROM …` line (if it receives IMSG
/// messages) and, for reader files, a reader-ready interrupt for its guest.
pub fn notify_receiver(sys: &System, file: &SpoolFile, line: &str) {
    if let Some(vm) = sys.vm(&file.owner) {
        // The arrival line is an informational message (SET IMSG); a program connected to *MSG or
        // *MSGALL gets it there. A machine not receiving it just misses the line.
        let _ = sys.deliver_message(crate::iucv::MsgClass::Imsg, &file.origin, &vm, line, line);
        if file.queue == Queue::Rdr {
            vm.interrupt(Interrupt::ReaderReady);
            sys.spl_arrival(file);
        }
    }
}

/// A reader file and its records.
pub type ReaderFile = (SpoolFile, Vec<Vec<u8>>);

/// Opens the first eligible reader file (queue order; matching the reader class; not held; its
/// creation durable) and returns it with its records.
pub fn reader_open(sys: &System, vm: &VirtualMachine) -> Result<Option<ReaderFile>, CpMsg> {
    let mut g = vm.lock();
    let rdr = g
        .devices
        .reader
        .as_mut()
        .ok_or_else(|| messages::no_device("RDR"))?;
    let class = rdr.class;
    let current = rdr.open.map(|(sfid, _)| sfid);
    let file = sys.spool().view(|t| {
        if let Some(sfid) = current
            && let Some(f) = t.by_sfid(sfid)
            && f.owner == vm.userid
        {
            return Some(f.clone());
        }
        t.queue(&vm.userid, Queue::Rdr)
            .into_iter()
            .find(|f| {
                !f.attrs.hold.any() && class.is_none_or(|c| c == f.attrs.class) && t.visible(f.sfid)
            })
            .cloned()
    });
    let Some(file) = file else {
        rdr.open = None;
        return Ok(None);
    };
    rdr.open = Some((file.sfid, file.spoolid));
    drop(g);
    let records = sys.spool().read_records(&file)?;
    Ok(Some((file, records)))
}

/// CLOSE of the reader: the open file is purged, unless HOLD (on the CLOSE or the device) leaves it
/// in the reader, or KEEP (the device's or the file's) keeps it in user hold.
pub fn reader_close(sys: &System, vm: &VirtualMachine, hold: bool) -> Result<Vec<String>, CpMsg> {
    let (open, dev_hold, dev_keep) = {
        let mut g = vm.lock();
        let rdr = g
            .devices
            .reader
            .as_mut()
            .ok_or_else(|| messages::no_device("RDR"))?;
        (rdr.open.take(), rdr.hold, rdr.keep)
    };
    let Some((sfid, _)) = open else {
        return Ok(Vec::new());
    };
    sys.spool().transact(|t| -> Result<(), SpoolError> {
        let Some(f) = t.by_sfid(sfid) else {
            return Ok(());
        };
        if f.owner != vm.userid {
            return Ok(());
        }
        // HOLD leaves the file available in the reader; otherwise KEEP keeps it in user hold;
        // otherwise it is purged (cp-cms.md §2.5).
        let held = hold || dev_hold;
        if !held && (dev_keep || f.attrs.keep) {
            t.change(sfid, |a| a.hold.user = true);
        } else if !held {
            t.purge(sfid);
        }
        Ok(())
    })?;
    Ok(Vec::new())
}

/// Sends an existing spool file to another user's queue (TRANSFER), with the §2.7 lines to both.
pub fn transfer(
    sys: &Arc<System>,
    issuer: &VirtualMachine,
    sfid: u64,
    to: &UserId,
    queue: Queue,
) -> Result<Vec<String>, CpMsg> {
    let limit = maxspool(sys, to);
    let (before, after) = sys.spool().transact(|t| {
        let before = t.by_sfid(sfid).cloned().ok_or(SpoolError::NoSuchFile(0))?;
        let after = t.move_to(sfid, to, queue, limit)?;
        Ok::<_, SpoolError>((before, after))
    })?;
    let mut lines = Vec::new();
    let sender_line = format::sent_line(
        Side::To,
        before.queue.name(),
        before.spoolid,
        to.as_str(),
        queue.name(),
        after.spoolid,
        &after,
    );
    let recv_line = format::sent_line(
        Side::From,
        queue.name(),
        after.spoolid,
        before.owner.as_str(),
        before.queue.name(),
        before.spoolid,
        &after,
    );
    // The issuer sees one line per file: the receiver's when it takes the file itself (TRANSFER
    // FROM), the sender's otherwise. A previous owner who did not issue the command is told.
    if before.owner != issuer.userid
        && let Some(owner) = sys.vm(&before.owner)
    {
        owner.console(&sender_line);
    }
    if *to != issuer.userid {
        lines.push(sender_line);
    }
    if *to == issuer.userid {
        lines.push(recv_line);
        if queue == Queue::Rdr {
            issuer.interrupt(Interrupt::ReaderReady);
            sys.spl_arrival(&after);
        }
    } else {
        notify_receiver(sys, &after, &recv_line);
    }
    Ok(lines)
}
