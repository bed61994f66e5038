//! The TCP/IP stack as CP knows it: the machine that serves it, and guests' requests to it.

use std::sync::Arc;

use super::System;
use crate::{
    machine::VirtualMachine,
    tcp::{ConnInfo, TcpError, TcpListener, TcpStack},
};

/// The service name of the stack's IUCV paths.
pub(crate) const TCPIP_SERVICE: &str = "TCPIP";

/// The registered stack.
#[derive(Debug, Clone)]
pub(crate) struct StackReg {
    pub server: spool::UserId,
    pub generation: u64,
    pub stack: Arc<dyn TcpStack>,
}

impl System {
    /// The TCPIP machine offers its stack.
    pub fn tcp_register(&self, vm: &VirtualMachine, stack: Arc<dyn TcpStack>) {
        *self.tcp.write().unwrap() = Some(StackReg {
            server: vm.userid.clone(),
            generation: vm.generation,
            stack,
        });
    }

    fn stack(&self) -> Result<StackReg, TcpError> {
        let reg = self
            .tcp
            .read()
            .unwrap()
            .clone()
            .ok_or(TcpError::StackDown)?;
        match self.vm(&reg.server) {
            Some(s) if s.generation == reg.generation => Ok(reg),
            _ => Err(TcpError::StackDown),
        }
    }

    /// Listens on a port through the stack, for `vm`. The directory must allow an IUCV path from
    /// `vm` to the stack machine (`IUCV ANY`, `IUCV TCPIP`, or TCPIP's `IUCV ALLOW`).
    pub fn tcp_listen(&self, vm: &VirtualMachine, port: u16) -> Result<TcpListener, TcpError> {
        let reg = self.stack()?;
        if let Some(svm) = self.vm(&reg.server)
            && vm.entry.iucv_to(reg.server.as_str()).is_none()
            && !svm.entry.iucv_allow()
        {
            return Err(TcpError::NotAuthorized(format!(
                "{} has no IUCV authority for {}",
                vm.userid, reg.server
            )));
        }
        if self.iucv.service_path(&vm.userid, TCPIP_SERVICE).is_none() {
            self.iucv
                .connect_service(&vm.userid, vm.generation, vm.entry.maxconn(), TCPIP_SERVICE)
                .map_err(|e| TcpError::NotAuthorized(e.to_string()))?;
        }
        reg.stack.listen(&vm.userid, port)
    }

    /// NETSTAT: the stack's connections.
    pub fn tcp_netstat(&self) -> Result<(Vec<ConnInfo>, Vec<crate::tcp::Listening>), TcpError> {
        let reg = self.stack()?;
        Ok((reg.stack.netstat(), reg.stack.listeners()))
    }

    /// The stack machine logged off: its paths are severed.
    pub(crate) fn tcp_server_gone(&self, vm: &VirtualMachine) {
        let mut g = self.tcp.write().unwrap();
        if g.as_ref()
            .is_some_and(|r| r.server == vm.userid && r.generation == vm.generation)
        {
            *g = None;
            drop(g);
            let eff = self.iucv.sever_service(TCPIP_SERVICE);
            self.deliver(eff);
        }
    }
}
