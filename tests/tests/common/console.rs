//! A console session on the control socket, driven line by line: each `enter` returns the
//! output the line produced (up to the system's "done" for it).

use std::{
    io::{BufRead, BufReader, Write},
    os::unix::net::UnixStream,
    time::Duration,
};

use serde_json::{Value, json};

/// A terminal logged on as a user (operator trust).
pub struct Console {
    rd: BufReader<UnixStream>,
    wr: UnixStream,
    sent: u64,
    /// Lines received before the first entered line (the logon banner).
    pub banner: Vec<String>,
}

/// Why a line got no complete answer.
#[derive(Debug)]
pub enum ConsoleError {
    /// The connection broke (the system died).
    Broken,
    /// The session ended (LOGOFF, FORCE, shutdown).
    Ended(Vec<String>),
}

impl Console {
    /// Logs on as `user` through the control socket of the system in `dir`.
    pub fn open(dir: &std::path::Path, user: &str) -> Result<Console, ConsoleError> {
        let s = UnixStream::connect(dir.join("control.sock")).map_err(|_| ConsoleError::Broken)?;
        s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
        let mut wr = s.try_clone().unwrap();
        let line = json!({"op": "console", "user": user}).to_string() + "\n";
        wr.write_all(line.as_bytes())
            .map_err(|_| ConsoleError::Broken)?;
        let mut c = Console {
            rd: BufReader::new(s),
            wr,
            sent: 0,
            banner: Vec::new(),
        };
        // An empty line marks the end of the banner.
        c.banner = c.enter("")?;
        Ok(c)
    }

    /// Enters a line; returns the console lines up to its completion.
    pub fn enter(&mut self, text: &str) -> Result<Vec<String>, ConsoleError> {
        let line = json!({"op": "line", "text": text}).to_string() + "\n";
        self.wr
            .write_all(line.as_bytes())
            .map_err(|_| ConsoleError::Broken)?;
        self.sent += 1;
        let mut out = Vec::new();
        loop {
            let mut buf = String::new();
            match self.rd.read_line(&mut buf) {
                Ok(0) | Err(_) => return Err(ConsoleError::Broken),
                Ok(_) => {}
            }
            let v: Value =
                serde_json::from_str(buf.trim_end()).map_err(|_| ConsoleError::Broken)?;
            if let Some(l) = v.get("line").and_then(Value::as_str) {
                out.push(l.to_string());
            } else if let Some(n) = v.get("done").and_then(Value::as_u64) {
                if n >= self.sent {
                    return Ok(out);
                }
            } else if v.get("end").is_some() {
                return Err(ConsoleError::Ended(out));
            }
        }
    }

    /// Enters a line and returns (CMS return code from the Ready line, the other lines).
    pub fn cms(&mut self, text: &str) -> Result<(i32, Vec<String>), ConsoleError> {
        let mut lines = self.enter(text)?;
        let ready = lines
            .iter()
            .rposition(|l| l.starts_with("Ready"))
            .ok_or(ConsoleError::Broken)?;
        let r = lines.remove(ready);
        let rc = match r.strip_prefix("Ready(") {
            Some(rest) => rest[..rest.find(')').unwrap()].parse().unwrap(),
            None => 0,
        };
        Ok((rc, lines))
    }
}

impl super::TestSystem {
    /// A folder with this USER DIRECT and SYSTEM CONFIG, IPLed with `--detach`.
    pub fn ipl_with(direct: &str, config: &str) -> super::TestSystem {
        let tmp = tempfile::tempdir().expect("tempdir");
        let dir = tmp.path().join("vmsys");
        super::write_system_folder(&dir, direct, config);
        let ports = super::write_network_config(&dir);
        let t = super::TestSystem {
            _tmp: tmp,
            dir,
            ports,
            passwords: Default::default(),
            first_ipl_output: String::new(),
        };
        t.reipl();
        t
    }

    /// A console session logged on as `user`.
    pub fn session(&self, user: &str) -> Console {
        Console::open(&self.dir, user).unwrap_or_else(|e| panic!("console for {user}: {e:?}"))
    }
}

/// SYSTEM CONFIG that starts the file pool server.
pub const SFS_CONFIG: &str = "\
System_Identifier_Default VMIMAP
Timezone_Definition UTC East 00.00.00
System_Userids Operator OPERATOR
System_Userids Startup VMSERVS
";

/// A directory for SFS tests: MAINT (VMSYSU administrator), three users, the file pool server,
/// and an IMAP machine that runs CMS (so a test can act as the mail store's administrator).
pub fn sfs_directory(users: &[&str]) -> String {
    let mut d = String::from(
        "PROFILE IBMDFLT\n CONSOLE 0009 3215 T\n SPOOL 000C 2540 READER *\n SPOOL 000D 2540 PUNCH A\n SPOOL 000E 1403 A\n\
USER OPERATOR OPPW 32M 64M ABCDEG\n INCLUDE IBMDFLT\n\
USER MAINT MAINTPW 64M 128M ABCDEG\n INCLUDE IBMDFLT\n IPL CMS\n\
USER VMSERVS AUTOONLY 64M 256M BG\n INCLUDE IBMDFLT\n IPL SFS\n IUCV ALLOW\n OPTION MAXCONN 4000\n\
USER IMAP AUTOONLY 64M 128M BG\n INCLUDE IBMDFLT\n IPL CMS\n IUCV ANY\n",
    );
    for u in users {
        d.push_str(&format!(
            "USER {u} PW{u} 32M 64M G\n INCLUDE IBMDFLT\n IPL CMS\n MDISK 0191 3390 0001 0010 {u}1 MR\n"
        ));
    }
    d
}
