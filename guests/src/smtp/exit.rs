//! The external command exit (this system's IMAPCMDX): a host program named by SMTP CONFIG's
//! EXIT statement, run once per consultation. It reads one line on standard input and writes one
//! line on standard output:
//!
//! ```text
//! question = "MAIL" SP path SP origin LF
//!          / "RCPT" SP path SP path SP origin LF        ; sender, recipient
//!          / "DATA" SP path SP count SP origin LF       ; sender, number of recipients
//! path     = "<" address ">"                            ; "<>" is the null sender
//! origin   = "TCP" SP ip-address / "BATCH" SP userid
//! answer   = "DEFAULT" [SP text] LF                     ; the built-in exit decides
//!          / "REJECT" SP code [SP text] LF              ; code 4xx or 5xx: that reply
//!          / "IMAP" SP userid LF                        ; RCPT only: to IMAP for userid
//!          / "LOCAL" SP userid LF                       ; RCPT only: to userid's reader
//!          / "RELAY" LF                                 ; RCPT only: to the smart host
//! ```
//!
//! Anything else — no answer within EXITTIMEOUT (the program is killed), a program that cannot be
//! started or ends without answering, an answer that does not parse or does not fit the question
//! — is logged, and the built-in exit decides: mail is never lost because an exit failed.

use std::{
    io::{Read, Write},
    path::PathBuf,
    process::{Command, Stdio},
    time::Duration,
};

use nom::{
    IResult, Parser,
    branch::alt,
    bytes::complete::{tag, take_while_m_n},
    character::complete::{char, one_of, space1},
    combinator::{all_consuming, map, opt, recognize, rest},
    sequence::preceded,
};
use vm::{UserId, grammar::userid};

/// Longest answer line read from the program.
const MAX_ANSWER: usize = 1024;

/// What the exit program said.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    /// Let the built-in exit decide.
    Default,
    /// Refuse with this code and text.
    Reject(u16, String),
    /// Route to IMAP for this user.
    Imap(UserId),
    /// Route to this user's reader.
    Local(UserId),
    /// Route to the smart host.
    Relay,
}

/// The kind of question, to check that an answer fits it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// MAIL.
    Mail,
    /// RCPT.
    Rcpt,
    /// DATA.
    Data,
}

/// `code = ("4" / "5") 2DIGIT`
fn code(i: &str) -> IResult<&str, u16> {
    map(
        recognize((
            one_of("45"),
            take_while_m_n(2, 2, |c: char| c.is_ascii_digit()),
        )),
        |d: &str| d.parse::<u16>().unwrap_or(550),
    )
    .parse(i)
}

/// `answer` (see the module documentation), without its line end.
fn answer(i: &str) -> IResult<&str, Answer> {
    let uid = |i| map(userid, |u: &str| UserId::parse(u).ok()).parse(i);
    alt((
        map((tag("DEFAULT"), opt(preceded(char(' '), rest))), |_| {
            Answer::Default
        }),
        map(
            (tag("REJECT"), space1, code, opt(preceded(char(' '), rest))),
            |(_, _, c, t): (_, _, u16, Option<&str>)| {
                Answer::Reject(c, t.unwrap_or("").trim().to_string())
            },
        ),
        map((tag("IMAP"), space1, uid), |(_, _, u)| {
            u.map_or(Answer::Reject(0, String::new()), Answer::Imap)
        }),
        map((tag("LOCAL"), space1, uid), |(_, _, u)| {
            u.map_or(Answer::Reject(0, String::new()), Answer::Local)
        }),
        map(tag("RELAY"), |_| Answer::Relay),
    ))
    .parse(i)
}

/// Parses an answer line for a question of `kind`; `Err` says why it is not one.
pub fn parse_answer(line: &str, kind: Kind) -> Result<Answer, String> {
    let line = line.trim_end_matches(['\r', '\n']).trim();
    let a = all_consuming(answer)
        .parse(line)
        .map(|(_, a)| a)
        .map_err(|_| format!("unrecognised answer {:?}", shorten(line)))?;
    match (&a, kind) {
        (Answer::Reject(0, _), _) => Err(format!("bad userid in {:?}", shorten(line))),
        (Answer::Default | Answer::Reject(..), _) => Ok(a),
        (_, Kind::Rcpt) => Ok(a),
        _ => Err(format!("{:?} is an answer for RCPT only", shorten(line))),
    }
}

fn shorten(s: &str) -> String {
    s.chars().take(60).collect()
}

/// The exit program.
#[derive(Debug, Clone)]
pub struct ExitRunner {
    /// The program.
    pub program: PathBuf,
    /// Its arguments.
    pub args: Vec<String>,
    /// Longest wait for its answer.
    pub timeout: Duration,
}

impl ExitRunner {
    /// Runs the program for one question; its answer, or why there is none.
    pub fn ask(&self, question: &str, kind: Kind) -> Result<Answer, String> {
        let mut cmd = Command::new(&self.program);
        cmd.args(&self.args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null());
        {
            use std::os::unix::process::CommandExt;
            // Its own process group, so that a timeout kills whatever it started too.
            cmd.process_group(0);
        }
        let mut child = cmd
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", self.program.display()))?;
        let pid = child.id();
        if let Some(mut stdin) = child.stdin.take() {
            // A program that does not read its input is its own business: ignore EPIPE.
            let _ = stdin.write_all(question.as_bytes());
            let _ = stdin.write_all(b"\n");
        }
        let mut stdout = child.stdout.take().ok_or("no standard output")?;
        let (tx, rx) = crossbeam_channel::bounded(1);
        std::thread::Builder::new()
            .name("smtp-exit-read".into())
            .spawn(move || {
                let mut buf = Vec::new();
                let mut byte = [0u8; 256];
                loop {
                    match stdout.read(&mut byte) {
                        Ok(0) | Err(_) => break,
                        Ok(n) => {
                            buf.extend_from_slice(&byte[..n]);
                            if buf.contains(&b'\n') || buf.len() >= MAX_ANSWER {
                                break;
                            }
                        }
                    }
                }
                let _ = tx.send(buf);
            })
            .map_err(|e| format!("cannot start a reader thread: {e}"))?;
        let got = rx.recv_timeout(self.timeout);
        let kill = |child: &mut std::process::Child| {
            let _ = Command::new("kill")
                .args(["-9", "--", &format!("-{pid}")])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status();
            let _ = child.kill();
            let _ = child.wait();
        };
        let buf = match got {
            Ok(b) => b,
            Err(_) => {
                kill(&mut child);
                return Err(format!(
                    "no answer within {} seconds; the program was ended",
                    self.timeout.as_secs()
                ));
            }
        };
        // The answer is in; the program has no more to say.
        match child.try_wait() {
            Ok(Some(_)) => {}
            _ => kill(&mut child),
        }
        let line = buf.split(|&b| b == b'\n').next().unwrap_or(&[]);
        if line.is_empty() && !buf.contains(&b'\n') {
            return Err("the program ended without answering".into());
        }
        let line = std::str::from_utf8(line).map_err(|_| "the answer is not text".to_string())?;
        parse_answer(line, kind)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_parse_and_must_fit_the_question() {
        let demo = UserId::parse("DEMO").unwrap();
        assert_eq!(parse_answer("DEFAULT\n", Kind::Mail), Ok(Answer::Default));
        assert_eq!(
            parse_answer("DEFAULT why not", Kind::Data),
            Ok(Answer::Default)
        );
        assert_eq!(
            parse_answer("REJECT 550 go away", Kind::Mail),
            Ok(Answer::Reject(550, "go away".into()))
        );
        assert_eq!(
            parse_answer("REJECT 451", Kind::Rcpt),
            Ok(Answer::Reject(451, String::new()))
        );
        assert_eq!(
            parse_answer("IMAP demo", Kind::Rcpt),
            Ok(Answer::Imap(demo.clone()))
        );
        assert_eq!(
            parse_answer("LOCAL DEMO\r\n", Kind::Rcpt),
            Ok(Answer::Local(demo))
        );
        assert_eq!(parse_answer("RELAY", Kind::Rcpt), Ok(Answer::Relay));
        for bad in [
            "",
            "OK",
            "REJECT 250 fine",
            "REJECT 5500",
            "IMAP",
            "IMAP a b",
            "RELAY now",
            "imap demo",
        ] {
            assert!(parse_answer(bad, Kind::Rcpt).is_err(), "{bad:?}");
        }
        assert!(parse_answer("IMAP DEMO", Kind::Mail).is_err());
        assert!(parse_answer("RELAY", Kind::Data).is_err());
    }

    fn sh(script: &str, timeout_ms: u64) -> ExitRunner {
        ExitRunner {
            program: "sh".into(),
            args: vec!["-c".into(), script.into()],
            timeout: Duration::from_millis(timeout_ms),
        }
    }

    #[test]
    fn programs_that_answer_hang_crash_or_babble() {
        let q = "RCPT <a@b> <demo@vmimap> TCP 127.0.0.1";
        assert_eq!(
            sh(
                "read l; case \"$l\" in RCPT*) echo LOCAL MAINT;; esac",
                5000
            )
            .ask(q, Kind::Rcpt),
            Ok(Answer::Local(UserId::parse("MAINT").unwrap()))
        );
        let t = std::time::Instant::now();
        let e = sh("sleep 30", 300).ask(q, Kind::Rcpt).unwrap_err();
        assert!(e.contains("no answer"), "{e}");
        assert!(t.elapsed() < Duration::from_secs(5));
        let e = sh("exit 3", 5000).ask(q, Kind::Rcpt).unwrap_err();
        assert!(e.contains("without answering"), "{e}");
        let e = sh("echo garbage", 5000).ask(q, Kind::Rcpt).unwrap_err();
        assert!(e.contains("unrecognised"), "{e}");
        let e = ExitRunner {
            program: "/nonexistent/exit".into(),
            args: vec![],
            timeout: Duration::from_secs(1),
        }
        .ask(q, Kind::Rcpt)
        .unwrap_err();
        assert!(e.contains("cannot start"), "{e}");
    }
}
