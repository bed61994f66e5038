//! The operator's log: `logs/system.log` in the system folder, echoed to standard output when the
//! system runs in the foreground. Nothing that contains a password is ever written here.

use std::{
    fs::{File, OpenOptions},
    io::Write,
    path::Path,
    sync::Mutex,
};

use crate::clock::{self, TimeZone};

pub(crate) struct OpLog {
    file: Mutex<Option<File>>,
    echo: bool,
    tz: TimeZone,
}

impl OpLog {
    pub(crate) fn open(dir: &Path, echo: bool, tz: TimeZone) -> OpLog {
        let logs = dir.join("logs");
        let _ = std::fs::create_dir_all(&logs);
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(logs.join("system.log"))
            .ok();
        OpLog {
            file: Mutex::new(file),
            echo,
            tz,
        }
    }

    pub(crate) fn line(&self, line: &str) {
        if self.echo {
            println!("{line}");
        }
        let now = clock::now();
        if let Some(f) = self.file.lock().unwrap().as_mut() {
            let _ = writeln!(f, "{} {} {line}", self.tz.isodate(now), self.tz.hhmmss(now));
        }
    }
}
