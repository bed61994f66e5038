//! IUCV for guest programs: the functions a guest calls through its [`VmHandle`].

use std::time::Duration;

use crossbeam_channel::RecvTimeoutError;

use super::{VmHandle, spl::SplClient};
use crate::iucv::{IucvError, IucvMessage, PathId, SendMode, services::SPL};

impl VmHandle {
    /// IUCV CONNECT to a virtual machine or a system service (`*MSG`, `*MSGALL`; use
    /// [`VmHandle::spl_connect`] for `*SPL`). `msglim` asks for a message limit (default 10; the
    /// directory's MSGLIMIT caps it).
    pub fn iucv_connect(
        &self,
        target: &str,
        msglim: Option<u32>,
        user_data: [u8; 16],
    ) -> Result<PathId, IucvError> {
        self.sys.iucv_connect(&self.vm, target, msglim, user_data)
    }

    /// IUCV ACCEPT of a pending connection.
    pub fn iucv_accept(&self, path: PathId) -> Result<(), IucvError> {
        self.sys.iucv_accept(&self.vm, path)
    }

    /// IUCV SEVER.
    pub fn iucv_sever(&self, path: PathId, user_data: [u8; 16]) -> Result<(), IucvError> {
        self.sys.iucv_sever(&self.vm, path, user_data)
    }

    /// IUCV SEND, one-way or two-way (the reply arrives as an interrupt). Returns the message id.
    pub fn iucv_send(
        &self,
        path: PathId,
        class: u32,
        data: Vec<u8>,
        two_way: bool,
    ) -> Result<u32, IucvError> {
        let mode = if two_way {
            SendMode::TwoWay
        } else {
            SendMode::OneWay
        };
        self.sys
            .iucv_send(&self.vm, path, class, data, mode)
            .map(|(id, _)| id)
    }

    /// IUCV SEND two-way and wait (up to `timeout`) for the reply.
    pub fn iucv_send_wait(
        &self,
        path: PathId,
        class: u32,
        data: Vec<u8>,
        timeout: Duration,
    ) -> Result<Vec<u8>, IucvError> {
        let (_, rx) = self
            .sys
            .iucv_send(&self.vm, path, class, data, SendMode::TwoWayWait)?;
        let rx = rx.expect("a waiting send has a reply channel");
        match rx.recv_timeout(timeout) {
            Ok(r) => r,
            Err(RecvTimeoutError::Timeout) | Err(RecvTimeoutError::Disconnected) => {
                Err(IucvError::Severed(path))
            }
        }
    }

    /// IUCV RECEIVE of message `msgid` (or the oldest) on `path`.
    pub fn iucv_receive(&self, path: PathId, msgid: Option<u32>) -> Result<IucvMessage, IucvError> {
        self.sys.iucv_receive(&self.vm, path, msgid)
    }

    /// IUCV REPLY to a two-way message.
    pub fn iucv_reply(&self, path: PathId, msgid: u32, data: Vec<u8>) -> Result<(), IucvError> {
        self.sys.iucv_reply(&self.vm, path, msgid, data)
    }

    /// IUCV REJECT of a message.
    pub fn iucv_reject(&self, path: PathId, msgid: u32) -> Result<(), IucvError> {
        self.sys.iucv_reject(&self.vm, path, msgid)
    }

    /// Connects to `*SPL` (the directory must say `IUCV *SPL`). Every file in the reader,
    /// including those already there, is then reported once as
    /// [`crate::machine::Interrupt::SplArrival`].
    pub fn spl_connect(&self) -> Result<SplClient, IucvError> {
        let path = self.sys.iucv_connect(&self.vm, SPL, None, [b' '; 16])?;
        Ok(SplClient::new(self.sys.clone(), self.vm.clone(), path))
    }
}
