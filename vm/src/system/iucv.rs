//! IUCV as CP runs it: authority checks against the directory, path operations on the table,
//! delivery of the resulting interrupts, the `*MSG`/`*MSGALL`/`*SPL` services, and message
//! delivery to programs.

use crossbeam_channel::Receiver;
use spool::{Queue, UserId};

use super::System;
use crate::{
    cp::messages::{self, CpMsg},
    iucv::{
        DEFAULT_MSGLIMIT, IucvError, IucvMessage, MsgClass, PathId, SendMode, SplFile,
        router::Effects,
        services::{MSG, MSGALL, SPL},
    },
    machine::{Interrupt, MsgMode, VirtualMachine},
};

impl System {
    /// Delivers IUCV events to the machines they are for (if still the same logon).
    pub(crate) fn deliver(&self, effects: Effects) {
        for (user, generation, ev) in effects {
            if let Some(vm) = self.vm(&user)
                && vm.generation == generation
            {
                vm.interrupt(Interrupt::Iucv(ev));
            }
        }
    }

    /// IUCV CONNECT from `vm` to a virtual machine or a system service.
    pub fn iucv_connect(
        &self,
        vm: &VirtualMachine,
        target: &str,
        msglim: Option<u32>,
        data: [u8; 16],
    ) -> Result<PathId, IucvError> {
        let target_up = target.to_ascii_uppercase();
        if target_up.starts_with('*') {
            return self.connect_service(vm, &target_up);
        }
        let tu =
            UserId::parse(&target_up).map_err(|_| IucvError::NotLoggedOn(target_up.clone()))?;
        let Some(tvm) = self.vm(&tu) else {
            return Err(IucvError::NotLoggedOn(tu.to_string()));
        };
        let stmt = vm.entry.iucv_to(tu.as_str());
        if stmt.is_none() && !tvm.entry.iucv_allow() {
            return Err(IucvError::NotAuthorized(format!(
                "{} has no IUCV authority for {tu}",
                vm.userid
            )));
        }
        let mut lim = msglim.unwrap_or(DEFAULT_MSGLIMIT).max(1);
        if let Some(cap) = stmt.and_then(|s| s.msglimit) {
            lim = lim.min(cap.max(1));
        }
        let (path, eff) = self.iucv.connect(
            &vm.userid,
            vm.generation,
            vm.entry.maxconn(),
            &tu,
            tvm.generation,
            tvm.entry.maxconn(),
            lim,
            data,
        )?;
        self.deliver(eff);
        Ok(path)
    }

    fn connect_service(&self, vm: &VirtualMachine, service: &str) -> Result<PathId, IucvError> {
        match service {
            MSG | MSGALL => {
                if self.iucv.service_path(&vm.userid, MSG).is_some()
                    || self.iucv.service_path(&vm.userid, MSGALL).is_some()
                {
                    return Err(IucvError::AlreadyConnected(service.into()));
                }
                self.iucv
                    .connect_service(&vm.userid, vm.generation, vm.entry.maxconn(), service)
            }
            SPL => {
                if vm.entry.iucv_to(SPL).is_none() {
                    return Err(IucvError::NotAuthorized(format!(
                        "{} has no IUCV *SPL statement",
                        vm.userid
                    )));
                }
                if self.iucv.service_path(&vm.userid, SPL).is_some() {
                    return Err(IucvError::AlreadyConnected(SPL.into()));
                }
                let p = self.iucv.connect_service(
                    &vm.userid,
                    vm.generation,
                    vm.entry.maxconn(),
                    SPL,
                )?;
                self.spl_reported
                    .lock()
                    .unwrap()
                    .insert(vm.userid.clone(), Default::default());
                // Files already in the reader are reported too, so nothing is missed across a
                // restart of the guest.
                self.spl_report_all(&vm.userid);
                Ok(p)
            }
            other => Err(IucvError::NoService(other.to_string())),
        }
    }

    /// IUCV ACCEPT.
    pub fn iucv_accept(&self, vm: &VirtualMachine, path: PathId) -> Result<(), IucvError> {
        let eff = self.iucv.accept(&vm.userid, path)?;
        self.deliver(eff);
        Ok(())
    }

    /// IUCV SEVER.
    pub fn iucv_sever(
        &self,
        vm: &VirtualMachine,
        path: PathId,
        data: [u8; 16],
    ) -> Result<(), IucvError> {
        let eff = self.iucv.sever(&vm.userid, path, data)?;
        self.spl_forget_if_gone(&vm.userid);
        self.deliver(eff);
        Ok(())
    }

    /// IUCV SEND.
    #[allow(clippy::type_complexity)]
    pub fn iucv_send(
        &self,
        vm: &VirtualMachine,
        path: PathId,
        class: u32,
        data: Vec<u8>,
        mode: SendMode,
    ) -> Result<(u32, Option<Receiver<Result<Vec<u8>, IucvError>>>), IucvError> {
        let (id, rx, eff) = self.iucv.send(&vm.userid, path, class, data, mode)?;
        self.deliver(eff);
        Ok((id, rx))
    }

    /// IUCV RECEIVE.
    pub fn iucv_receive(
        &self,
        vm: &VirtualMachine,
        path: PathId,
        msgid: Option<u32>,
    ) -> Result<IucvMessage, IucvError> {
        self.iucv.receive(&vm.userid, path, msgid)
    }

    /// IUCV REPLY.
    pub fn iucv_reply(
        &self,
        vm: &VirtualMachine,
        path: PathId,
        msgid: u32,
        data: Vec<u8>,
    ) -> Result<(), IucvError> {
        let eff = self.iucv.reply(&vm.userid, path, msgid, data)?;
        self.deliver(eff);
        Ok(())
    }

    /// IUCV REJECT.
    pub fn iucv_reject(
        &self,
        vm: &VirtualMachine,
        path: PathId,
        msgid: u32,
    ) -> Result<(), IucvError> {
        let eff = self.iucv.reject(&vm.userid, path, msgid)?;
        self.deliver(eff);
        Ok(())
    }

    /// Severs every path of a machine that is logging off; partners and services are told.
    pub(crate) fn iucv_logoff(&self, vm: &VirtualMachine) {
        let (eff, services) = self.iucv.sever_all(&vm.userid);
        if services.iter().any(|s| s == SPL) {
            self.spl_reported.lock().unwrap().remove(&vm.userid);
        }
        self.deliver(eff);
    }

    fn spl_forget_if_gone(&self, user: &UserId) {
        if self.iucv.service_path(user, SPL).is_none() {
            self.spl_reported.lock().unwrap().remove(user);
        }
    }

    /// Delivers a message of `class` from `from` to `to`, honouring the SET option of the class,
    /// a connection to `*MSG`/`*MSGALL`, and whether the machine has a terminal. `line` is what
    /// the console shows; a program gets `text` with the origin userid.
    pub fn deliver_message(
        &self,
        class: MsgClass,
        from: &UserId,
        to: &VirtualMachine,
        text: &str,
        line: &str,
    ) -> Result<(), CpMsg> {
        let s = to.lock().settings;
        let mode = match class {
            MsgClass::Msg => s.msg,
            MsgClass::Wng => s.wng,
            MsgClass::Smsg => s.smsg,
            MsgClass::Imsg => s.imsg,
            MsgClass::Emsg | MsgClass::Cp => MsgMode::On,
        };
        let off = |why: &str| messages::not_receiving(to.userid.as_str(), why);
        if mode == MsgMode::Off {
            return Err(off(&format!("{} off", class.name())));
        }
        let all = self.iucv.service_path(&to.userid, MSGALL).is_some();
        let msg = all || self.iucv.service_path(&to.userid, MSG).is_some();
        // SMSG is for programs only: it is never displayed (there is no VMCF here, so ON and IUCV
        // both mean the *MSG path).
        if all || mode == MsgMode::Iucv || class == MsgClass::Smsg {
            if msg {
                to.interrupt(Interrupt::Message {
                    class,
                    from: from.clone(),
                    text: text.to_string(),
                });
                return Ok(());
            }
            return Err(off(&format!("{} not connected to *MSG", class.name())));
        }
        if !to.is_connected() {
            // An informational line (a file arrival) still goes into a spooled console.
            if class == MsgClass::Imsg && to.console_spooled() {
                to.console(line);
                return Ok(());
            }
            return Err(off("disconnected"));
        }
        to.console(line);
        Ok(())
    }

    /// `*SPL`: reports every file in `owner`'s reader not yet reported on this connection.
    pub(crate) fn spl_report_all(&self, owner: &UserId) {
        let Some(vm) = self.vm(owner) else { return };
        let files: Vec<SplFile> = self.spool().view(|t| {
            t.queue(owner, Queue::Rdr)
                .into_iter()
                .filter(|f| t.visible(f.sfid))
                .map(SplFile::from)
                .collect()
        });
        let mut rep = self.spl_reported.lock().unwrap();
        let Some(set) = rep.get_mut(owner) else {
            return;
        };
        for f in files {
            if set.insert(f.file_id) {
                vm.interrupt(Interrupt::SplArrival(f));
            }
        }
    }

    /// `*SPL`: reports one arrival (if the owner is connected and it was not reported yet).
    pub(crate) fn spl_arrival(&self, file: &spool::SpoolFile) {
        if file.queue != Queue::Rdr {
            return;
        }
        let mut rep = self.spl_reported.lock().unwrap();
        let Some(set) = rep.get_mut(&file.owner) else {
            return;
        };
        if set.insert(file.sfid)
            && let Some(vm) = self.vm(&file.owner)
        {
            vm.interrupt(Interrupt::SplArrival(SplFile::from(file)));
        }
    }

    /// `*SPL`: a reported file left the reader (purged or transferred by its owner).
    pub(crate) fn spl_gone(&self, owner: &UserId, file_id: u64) {
        if let Some(set) = self.spl_reported.lock().unwrap().get_mut(owner) {
            set.remove(&file_id);
        }
    }
}
