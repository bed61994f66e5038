//! The table of IUCV paths. Every operation works under one lock and returns the events it causes
//! for other machines ("effects"); the caller delivers them after the lock is released.

use std::{
    collections::{BTreeMap, HashMap},
    sync::{
        Mutex,
        atomic::{AtomicU32, Ordering},
    },
};

use crossbeam_channel::{Receiver, Sender, bounded};
use spool::UserId;

use super::{IucvError, IucvEvent, IucvMessage, PathId, user_data};

/// Events for other machines: (userid, logon generation, event).
pub type Effects = Vec<(UserId, u64, IucvEvent)>;

/// What a path's far end is.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Peer {
    /// A virtual machine and its path id.
    Vm {
        /// The partner.
        user: UserId,
        /// Its generation.
        generation: u64,
        /// Its path id.
        path: PathId,
    },
    /// A CP system service (or a typed server such as a file pool).
    Service(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// We asked to connect and wait for the partner.
    PendingOut,
    /// The partner asked; we have not accepted.
    PendingIn,
    Connected,
}

/// How a message is sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SendMode {
    /// No reply.
    OneWay,
    /// A reply comes back as a [`IucvEvent::MessageComplete`] interrupt.
    TwoWay,
    /// The sender blocks until the reply (SEND with WAIT).
    TwoWayWait,
}

type ReplyTx = Sender<Result<Vec<u8>, IucvError>>;

#[derive(Debug)]
struct Incoming {
    msg: IucvMessage,
    wait: Option<ReplyTx>,
}

#[derive(Debug)]
struct End {
    generation: u64,
    peer: Peer,
    state: State,
    msglim: u32,
    /// Messages this end sent that are not yet complete.
    outstanding: u32,
    /// Messages for this end, not yet received.
    inbox: BTreeMap<u32, Incoming>,
    /// Two-way messages this end received and has not yet answered.
    awaiting: HashMap<u32, Incoming>,
}

/// All IUCV paths of the system.
#[derive(Debug, Default)]
pub struct IucvTable {
    ends: Mutex<HashMap<(UserId, PathId), End>>,
    next_msgid: AtomicU32,
}

fn free_path(ends: &HashMap<(UserId, PathId), End>, user: &UserId, maxconn: u32) -> Option<PathId> {
    (0..maxconn.min(65535) as u16).find(|p| !ends.contains_key(&(user.clone(), *p)))
}

fn count(ends: &HashMap<(UserId, PathId), End>, user: &UserId) -> u32 {
    ends.keys().filter(|(u, _)| u == user).count() as u32
}

impl IucvTable {
    /// CONNECT from `src` to the virtual machine `target` (authority already checked). Returns the
    /// source's path id; the target gets a connection-pending event.
    #[allow(clippy::too_many_arguments)]
    pub fn connect(
        &self,
        src: &UserId,
        src_gen: u64,
        src_maxconn: u32,
        target: &UserId,
        target_gen: u64,
        target_maxconn: u32,
        msglim: u32,
        data: [u8; 16],
    ) -> Result<(PathId, Effects), IucvError> {
        let mut ends = self.ends.lock().unwrap();
        if count(&ends, src) >= src_maxconn {
            return Err(IucvError::MaxConnSource(src_maxconn));
        }
        if count(&ends, target) >= target_maxconn {
            return Err(IucvError::MaxConnTarget(target_maxconn));
        }
        let sp = free_path(&ends, src, src_maxconn).ok_or(IucvError::MaxConnSource(src_maxconn))?;
        // Reserve the source end first so that a connection to oneself gets two paths.
        ends.insert(
            (src.clone(), sp),
            End {
                generation: src_gen,
                peer: Peer::Service(String::new()),
                state: State::PendingOut,
                msglim,
                outstanding: 0,
                inbox: BTreeMap::new(),
                awaiting: HashMap::new(),
            },
        );
        let Some(tp) = free_path(&ends, target, target_maxconn) else {
            ends.remove(&(src.clone(), sp));
            return Err(IucvError::MaxConnTarget(target_maxconn));
        };
        ends.get_mut(&(src.clone(), sp)).unwrap().peer = Peer::Vm {
            user: target.clone(),
            generation: target_gen,
            path: tp,
        };
        ends.insert(
            (target.clone(), tp),
            End {
                generation: target_gen,
                peer: Peer::Vm {
                    user: src.clone(),
                    generation: src_gen,
                    path: sp,
                },
                state: State::PendingIn,
                msglim,
                outstanding: 0,
                inbox: BTreeMap::new(),
                awaiting: HashMap::new(),
            },
        );
        Ok((
            sp,
            vec![(
                target.clone(),
                target_gen,
                IucvEvent::ConnectionPending {
                    path: tp,
                    from: src.clone(),
                    user_data: data,
                },
            )],
        ))
    }

    /// A path from `src` to a system service, connected at once.
    pub fn connect_service(
        &self,
        src: &UserId,
        src_gen: u64,
        src_maxconn: u32,
        service: &str,
    ) -> Result<PathId, IucvError> {
        let mut ends = self.ends.lock().unwrap();
        if count(&ends, src) >= src_maxconn {
            return Err(IucvError::MaxConnSource(src_maxconn));
        }
        let p = free_path(&ends, src, src_maxconn).ok_or(IucvError::MaxConnSource(src_maxconn))?;
        ends.insert(
            (src.clone(), p),
            End {
                generation: src_gen,
                peer: Peer::Service(service.to_string()),
                state: State::Connected,
                msglim: u32::MAX,
                outstanding: 0,
                inbox: BTreeMap::new(),
                awaiting: HashMap::new(),
            },
        );
        Ok(p)
    }

    /// The path `user` holds to the service `service`, if any.
    pub fn service_path(&self, user: &UserId, service: &str) -> Option<PathId> {
        self.ends
            .lock()
            .unwrap()
            .iter()
            .find(|((u, _), e)| u == user && e.peer == Peer::Service(service.to_string()))
            .map(|((_, p), _)| *p)
    }

    /// Whether `user` still holds path `path` to the service `service`.
    pub fn holds_service(&self, user: &UserId, path: PathId, service: &str) -> bool {
        self.ends
            .lock()
            .unwrap()
            .get(&(user.clone(), path))
            .is_some_and(|e| e.peer == Peer::Service(service.to_string()))
    }

    /// ACCEPT of a pending connection.
    pub fn accept(&self, user: &UserId, path: PathId) -> Result<Effects, IucvError> {
        let mut ends = self.ends.lock().unwrap();
        let e = ends
            .get_mut(&(user.clone(), path))
            .ok_or(IucvError::InvalidPath(path))?;
        if e.state != State::PendingIn {
            return Err(IucvError::NotConnected(path));
        }
        e.state = State::Connected;
        let Peer::Vm {
            user: pu,
            generation,
            path: pp,
        } = e.peer.clone()
        else {
            return Ok(Vec::new());
        };
        if let Some(p) = ends.get_mut(&(pu.clone(), pp)) {
            p.state = State::Connected;
        }
        Ok(vec![(
            pu,
            generation,
            IucvEvent::ConnectionComplete { path: pp },
        )])
    }

    fn remove_end(
        ends: &mut HashMap<(UserId, PathId), End>,
        user: &UserId,
        path: PathId,
        data: [u8; 16],
        out: &mut Effects,
    ) -> Option<Peer> {
        let e = ends.remove(&(user.clone(), path))?;
        for (_, inc) in e.inbox.into_iter().chain(e.awaiting) {
            if let Some(w) = inc.wait {
                let _ = w.send(Err(IucvError::Severed(path)));
            }
        }
        if let Peer::Vm {
            user: pu,
            generation,
            path: pp,
        } = &e.peer
            && let Some(pe) = ends.remove(&(pu.clone(), *pp))
        {
            for (_, inc) in pe.inbox.into_iter().chain(pe.awaiting) {
                if let Some(w) = inc.wait {
                    let _ = w.send(Err(IucvError::Severed(*pp)));
                }
            }
            out.push((
                pu.clone(),
                *generation,
                IucvEvent::Severed {
                    path: *pp,
                    user_data: data,
                },
            ));
        }
        Some(e.peer)
    }

    /// SEVER: ends the path; the partner is told.
    pub fn sever(&self, user: &UserId, path: PathId, data: [u8; 16]) -> Result<Effects, IucvError> {
        let mut ends = self.ends.lock().unwrap();
        let mut out = Vec::new();
        Self::remove_end(&mut ends, user, path, data, &mut out)
            .ok_or(IucvError::InvalidPath(path))?;
        Ok(out)
    }

    /// Severs every path of `user` (logoff, FORCE). Returns the events for the partners and the
    /// services `user` was connected to.
    pub fn sever_all(&self, user: &UserId) -> (Effects, Vec<String>) {
        let mut ends = self.ends.lock().unwrap();
        let mine: Vec<PathId> = ends
            .keys()
            .filter(|(u, _)| u == user)
            .map(|(_, p)| *p)
            .collect();
        let mut out = Vec::new();
        let mut services = Vec::new();
        for p in mine {
            if let Some(Peer::Service(s)) =
                Self::remove_end(&mut ends, user, p, user_data("LOGGED OFF"), &mut out)
            {
                services.push(s);
            }
        }
        (out, services)
    }

    /// Severs every path to the service `service` (its server ended). Returns the holders.
    pub fn sever_service(&self, service: &str) -> Effects {
        let mut ends = self.ends.lock().unwrap();
        let holders: Vec<(UserId, PathId, u64)> = ends
            .iter()
            .filter(|(_, e)| e.peer == Peer::Service(service.to_string()))
            .map(|((u, p), e)| (u.clone(), *p, e.generation))
            .collect();
        let mut out = Vec::new();
        for (u, p, g) in holders {
            ends.remove(&(u.clone(), p));
            out.push((
                u,
                g,
                IucvEvent::Severed {
                    path: p,
                    user_data: user_data("SERVER ENDED"),
                },
            ));
        }
        out
    }

    /// SEND on a connected path. For [`SendMode::TwoWayWait`] the returned receiver yields the
    /// reply (or the reason there is none).
    #[allow(clippy::type_complexity)]
    pub fn send(
        &self,
        user: &UserId,
        path: PathId,
        class: u32,
        data: Vec<u8>,
        mode: SendMode,
    ) -> Result<(u32, Option<Receiver<Result<Vec<u8>, IucvError>>>, Effects), IucvError> {
        let mut ends = self.ends.lock().unwrap();
        let e = ends
            .get_mut(&(user.clone(), path))
            .ok_or(IucvError::InvalidPath(path))?;
        if e.state != State::Connected {
            return Err(IucvError::NotConnected(path));
        }
        if e.outstanding >= e.msglim {
            return Err(IucvError::MsgLimit(e.msglim));
        }
        let Peer::Vm {
            user: pu,
            generation,
            path: pp,
        } = e.peer.clone()
        else {
            return Err(IucvError::NotConnected(path));
        };
        e.outstanding += 1;
        let msgid = self
            .next_msgid
            .fetch_add(1, Ordering::Relaxed)
            .wrapping_add(1);
        let (wait, rx) = if mode == SendMode::TwoWayWait {
            let (tx, rx) = bounded(1);
            (Some(tx), Some(rx))
        } else {
            (None, None)
        };
        let len = data.len();
        let two_way = mode != SendMode::OneWay;
        let pe = ends
            .get_mut(&(pu.clone(), pp))
            .ok_or(IucvError::Severed(path))?;
        pe.inbox.insert(
            msgid,
            Incoming {
                msg: IucvMessage {
                    msgid,
                    class,
                    data,
                    two_way,
                },
                wait,
            },
        );
        Ok((
            msgid,
            rx,
            vec![(
                pu,
                generation,
                IucvEvent::MessagePending {
                    path: pp,
                    msgid,
                    class,
                    len,
                    two_way,
                },
            )],
        ))
    }

    fn complete(ends: &mut HashMap<(UserId, PathId), End>, peer: &Peer) {
        if let Peer::Vm { user, path, .. } = peer
            && let Some(s) = ends.get_mut(&(user.clone(), *path))
        {
            s.outstanding = s.outstanding.saturating_sub(1);
        }
    }

    /// RECEIVE: takes message `msgid` (or the oldest) from the path.
    pub fn receive(
        &self,
        user: &UserId,
        path: PathId,
        msgid: Option<u32>,
    ) -> Result<IucvMessage, IucvError> {
        let mut ends = self.ends.lock().unwrap();
        let e = ends
            .get_mut(&(user.clone(), path))
            .ok_or(IucvError::InvalidPath(path))?;
        let id = match msgid {
            Some(m) => m,
            None => *e.inbox.keys().next().ok_or(IucvError::NoMessage(0))?,
        };
        let inc = e.inbox.remove(&id).ok_or(IucvError::NoMessage(id))?;
        let msg = inc.msg.clone();
        let peer = e.peer.clone();
        if msg.two_way {
            e.awaiting.insert(id, inc);
        } else {
            Self::complete(&mut ends, &peer);
        }
        Ok(msg)
    }

    fn answer(
        &self,
        user: &UserId,
        path: PathId,
        msgid: u32,
        reply: Option<Vec<u8>>,
    ) -> Result<Effects, IucvError> {
        let mut ends = self.ends.lock().unwrap();
        let e = ends
            .get_mut(&(user.clone(), path))
            .ok_or(IucvError::InvalidPath(path))?;
        let inc = match e.awaiting.remove(&msgid) {
            Some(i) => i,
            // REJECT may also refuse a message before it is received.
            None if reply.is_none() => e.inbox.remove(&msgid).ok_or(IucvError::NoMessage(msgid))?,
            None => return Err(IucvError::NoMessage(msgid)),
        };
        let peer = e.peer.clone();
        Self::complete(&mut ends, &peer);
        if let Some(w) = inc.wait {
            let _ = w.send(reply.ok_or(IucvError::Rejected(msgid)));
            return Ok(Vec::new());
        }
        if !inc.msg.two_way {
            return Ok(Vec::new());
        }
        match peer {
            Peer::Vm {
                user: pu,
                generation,
                path: pp,
            } => Ok(vec![(
                pu,
                generation,
                IucvEvent::MessageComplete {
                    path: pp,
                    msgid,
                    reply,
                },
            )]),
            Peer::Service(_) => Ok(Vec::new()),
        }
    }

    /// REPLY to a two-way message.
    pub fn reply(
        &self,
        user: &UserId,
        path: PathId,
        msgid: u32,
        data: Vec<u8>,
    ) -> Result<Effects, IucvError> {
        self.answer(user, path, msgid, Some(data))
    }

    /// REJECT of a message.
    pub fn reject(&self, user: &UserId, path: PathId, msgid: u32) -> Result<Effects, IucvError> {
        self.answer(user, path, msgid, None)
    }

    /// The paths `user` holds: (path id, partner, connected).
    pub fn paths_of(&self, user: &UserId) -> Vec<(PathId, Peer, bool)> {
        let ends = self.ends.lock().unwrap();
        let mut v: Vec<_> = ends
            .iter()
            .filter(|((u, _), _)| u == user)
            .map(|((_, p), e)| (*p, e.peer.clone(), e.state == State::Connected))
            .collect();
        v.sort_by_key(|(p, _, _)| *p);
        v
    }
}
