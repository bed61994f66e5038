//! The contract between CP and guest programs.

use std::{collections::BTreeMap, sync::Arc};

use crate::{directory::Ipl, system::VmHandle};

/// A guest program: what a virtual machine runs after IPL.
///
/// CP starts `run` on the virtual machine's own thread (its virtual CPU) when the machine logs on
/// and logs the machine off when `run` returns. A guest sees only what a virtual machine sees,
/// through its [`VmHandle`]: CP commands, its unit-record devices, its interrupt queue (console
/// input, reader arrivals, messages, IUCV) and the system's async runtime for network work.
/// It must return promptly on [`crate::machine::Interrupt::Shutdown`] and
/// [`crate::machine::Interrupt::LoggedOff`].
pub trait Guest: Send {
    /// Runs the guest until it ends (LOGOFF) or is told to stop.
    fn run(self: Box<Self>, vm: VmHandle) -> anyhow::Result<()>;

    /// Whether lines typed at the machine's terminal go to this program (as CMS reads its
    /// console) rather than to CP. Decided before the program starts, so that no line typed
    /// right after logon can go to the wrong place.
    fn reads_console(&self) -> bool {
        false
    }

    /// Whether the program tells CP when it is ready for work ([`VmHandle::ready`]). IPL waits
    /// for its startup machines to be ready before it says the system is; a program that does
    /// not signal is ready as soon as it starts.
    fn signals_ready(&self) -> bool {
        false
    }
}

/// Makes a guest program for a virtual machine from its directory `IPL` statement.
pub type GuestFactory = Arc<dyn Fn(&Ipl) -> anyhow::Result<Box<dyn Guest>> + Send + Sync>;

/// Guest programs by name: the directory's `IPL name` picks one.
#[derive(Clone, Default)]
pub struct Registry {
    programs: BTreeMap<String, GuestFactory>,
}

impl std::fmt::Debug for Registry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.programs.keys()).finish()
    }
}

impl Registry {
    /// An empty registry.
    pub fn new() -> Registry {
        Registry::default()
    }

    /// Registers a program under `name` (upper-cased).
    pub fn register(
        &mut self,
        name: &str,
        factory: impl Fn(&Ipl) -> anyhow::Result<Box<dyn Guest>> + Send + Sync + 'static,
    ) {
        self.programs
            .insert(name.to_ascii_uppercase(), Arc::new(factory));
    }

    /// The factory for `name`, if registered.
    pub fn get(&self, name: &str) -> Option<GuestFactory> {
        self.programs.get(&name.to_ascii_uppercase()).cloned()
    }

    /// Registered program names.
    pub fn names(&self) -> Vec<String> {
        self.programs.keys().cloned().collect()
    }
}
