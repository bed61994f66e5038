//! Virtual unit-record devices: the reader, punches, printers and the console, with the options
//! the SPOOL command sets. Data written to an output device accumulates in an *open* spool file
//! (held in memory, with its spoolid reserved) until CLOSE makes it a closed, durable spool file.

use spool::{Class, Queue, UserId};

use crate::directory::{UrDev, UrKind, UserEntry};

/// The reader's state.
#[derive(Debug, Clone)]
pub struct ReaderDev {
    /// Device number (normally 000C).
    pub vdev: u16,
    /// Device type (`2540`).
    pub devtype: String,
    /// Class read; `None` is `*` (any class).
    pub class: Option<Class>,
    /// CONT: read files continuously without end-of-file between them.
    pub cont: bool,
    /// HOLD: files read are held instead of purged on CLOSE.
    pub hold: bool,
    /// KEEP: files read are kept (held) after processing.
    pub keep: bool,
    /// EOF (default) / NOEOF.
    pub eof: bool,
    /// The file currently open for reading (its system file number and spoolid).
    pub open: Option<(u64, u16)>,
}

/// An output file being written on a device: records not yet closed into the spool.
#[derive(Debug, Clone, Default)]
pub struct OpenFile {
    /// The spoolid reserved for it in the device owner's space.
    pub spoolid: u16,
    /// Records written so far.
    pub records: Vec<Vec<u8>>,
    /// Bytes written so far.
    pub bytes: u64,
}

/// What kind of output device.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutKind {
    /// A punch: files go to the punch queue.
    Punch,
    /// A printer: files go to the printer queue.
    Printer,
    /// The console: spooled console output goes to the printer queue as CON files.
    Console,
}

impl OutKind {
    /// The queue a closed file goes to when not sent to anyone.
    pub fn queue(self) -> Queue {
        match self {
            OutKind::Punch => Queue::Pun,
            OutKind::Printer | OutKind::Console => Queue::Prt,
        }
    }

    /// The three-letter device name.
    pub fn name(self) -> &'static str {
        match self {
            OutKind::Punch => "PUN",
            OutKind::Printer => "PRT",
            OutKind::Console => "CON",
        }
    }

    /// The origin device type recorded in files it creates.
    pub fn devtype(self) -> spool::DevType {
        match self {
            OutKind::Punch => spool::DevType::Pun,
            OutKind::Printer => spool::DevType::Prt,
            OutKind::Console => spool::DevType::Con,
        }
    }
}

/// A punch, printer or console and its SPOOL options.
#[derive(Debug, Clone)]
pub struct OutputDev {
    /// Device number.
    pub vdev: u16,
    /// Device type as in the directory.
    pub devtype: String,
    /// Punch, printer or console.
    pub kind: OutKind,
    /// Class of files produced.
    pub class: Class,
    /// CONT: CLOSE requests from the guest are ignored until NOCONT.
    pub cont: bool,
    /// HOLD: files produced are user-held.
    pub hold: bool,
    /// KEEP: files are kept after processing.
    pub keep: bool,
    /// MSG: notify when processed.
    pub msg: bool,
    /// Copies, 1–255.
    pub copies: u8,
    /// `TO userid [queue]`: closed files go to that user.
    pub to: Option<(UserId, Queue)>,
    /// `FOR userid`: closed files belong to that user, on the same output queue.
    pub for_user: Option<UserId>,
    /// Distribution code (`None` = the directory's).
    pub dist: Option<String>,
    /// Form name.
    pub form: String,
    /// Destination.
    pub dest: String,
    /// Name and type for the next file.
    pub name: Option<(String, String)>,
    /// TAG text for the next file.
    pub tag: String,
    /// Console only: spooling started (SPOOL CONSOLE START).
    pub started: bool,
    /// Console only: TERM (also shown on the terminal) or NOTERM.
    pub term: bool,
    /// The file being written.
    pub open: Option<OpenFile>,
}

impl OutputDev {
    fn new(d: &UrDev, kind: OutKind) -> OutputDev {
        OutputDev {
            vdev: d.vdev,
            devtype: d.devtype.clone(),
            kind,
            class: Class::new(d.class).unwrap_or(if kind == OutKind::Console {
                Class::T
            } else {
                Class::A
            }),
            cont: false,
            hold: false,
            keep: false,
            msg: false,
            copies: 1,
            to: None,
            for_user: None,
            dist: None,
            form: "STANDARD".into(),
            dest: "OFF".into(),
            name: None,
            tag: String::new(),
            started: false,
            term: true,
            open: None,
        }
    }
}

/// All unit-record devices of a virtual machine.
#[derive(Debug, Clone, Default)]
pub struct Devices {
    /// The reader, if defined.
    pub reader: Option<ReaderDev>,
    /// Punches, printers and the console.
    pub outputs: Vec<OutputDev>,
}

/// A reference to one device by number or by generic name (`RDR`, `PUN`, `PRT`, `CON`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DevRef {
    /// By virtual device number.
    Vdev(u16),
    /// The reader.
    Reader,
    /// The first device of this kind.
    Kind(OutKind),
}

impl Devices {
    /// The devices of a directory entry, with CP's defaults.
    pub fn from_directory(e: &UserEntry) -> Devices {
        let mut d = Devices::default();
        for dev in &e.devices {
            match dev.kind {
                UrKind::Reader if d.reader.is_none() => {
                    d.reader = Some(ReaderDev {
                        vdev: dev.vdev,
                        devtype: dev.devtype.clone(),
                        class: Class::new(dev.class),
                        cont: false,
                        hold: false,
                        keep: false,
                        eof: true,
                        open: None,
                    })
                }
                UrKind::Reader => {}
                UrKind::Punch => d.outputs.push(OutputDev::new(dev, OutKind::Punch)),
                UrKind::Printer => d.outputs.push(OutputDev::new(dev, OutKind::Printer)),
                UrKind::Console => d.outputs.push(OutputDev::new(dev, OutKind::Console)),
            }
        }
        d.outputs.sort_by_key(|o| o.vdev);
        d
    }

    /// Index of the output device `r` refers to.
    pub fn output_index(&self, r: DevRef) -> Option<usize> {
        match r {
            DevRef::Vdev(v) => self.outputs.iter().position(|o| o.vdev == v),
            DevRef::Kind(k) => self.outputs.iter().position(|o| o.kind == k),
            DevRef::Reader => None,
        }
    }

    /// Whether `r` is the reader.
    pub fn is_reader(&self, r: DevRef) -> bool {
        match r {
            DevRef::Reader => self.reader.is_some(),
            DevRef::Vdev(v) => self.reader.as_ref().is_some_and(|rd| rd.vdev == v),
            DevRef::Kind(_) => false,
        }
    }

    /// The console device, if defined.
    pub fn console(&mut self) -> Option<&mut OutputDev> {
        self.outputs.iter_mut().find(|o| o.kind == OutKind::Console)
    }
}
