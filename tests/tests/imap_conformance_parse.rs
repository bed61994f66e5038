//! Tests of the imaptest-format script parser and matcher, without any server.
//!
//! The scripts are read from the shared conformance folder (`IMAP_CONFORMANCE_DIR`, else
//! `../shared/imap-conformance/scripts` beside the repository); they are never copied into the
//! repository. If the folder does not exist the tests that need it say so and return.

use std::path::{Path, PathBuf};

use system_tests::imaptest::matcher::{FULL, Judge};
use system_tests::imaptest::mbox::{Mbox, parse_from_line};
use system_tests::imaptest::parse::{Existence, MessageCount, Script, StartState, UserSpec};
use system_tests::imaptest::tokens::{Response, Token, parse_args, parse_response};
use system_tests::imaptest::{parse_script, parse_script_file, script_paths, scripts_dir};

fn dir() -> Option<PathBuf> {
    let d = scripts_dir();
    if d.is_none() {
        eprintln!(
            "SKIPPED: the imap-conformance scripts folder does not exist \
             (set IMAP_CONFORMANCE_DIR or provide ../shared/imap-conformance/scripts)"
        );
    }
    d
}

fn shared(name: &str) -> Option<Script> {
    let d = dir()?;
    Some(parse_script_file(&d.join(name)).unwrap_or_else(|e| panic!("{name}: {e}")))
}

fn script(text: &str) -> Script {
    parse_script(
        "t",
        Path::new("t"),
        Path::new("default.mbox"),
        text.as_bytes(),
    )
    .unwrap_or_else(|e| panic!("{e}"))
}

fn parse_err(text: &str) -> String {
    match parse_script("t", Path::new("t"), Path::new("x"), text.as_bytes()) {
        Ok(_) => panic!("expected a parse error for {text:?}"),
        Err(e) => e.message,
    }
}

fn atom(s: &str) -> Token {
    Token::Atom(s.as_bytes().to_vec())
}

fn judge() -> Judge {
    let mut j = Judge::new(true);
    j.vars.set("mailbox", b"imaptest");
    j
}

/// Runs group `gi` of `s` against the response lines; returns the failures.
fn run(j: &mut Judge, s: &Script, gi: usize, known: u32, lines: &[&str]) -> Vec<String> {
    let lines: Vec<&[u8]> = lines.iter().map(|l| l.as_bytes()).collect();
    j.simulate_group(&s.groups[gi], known, &lines)
}

fn untagged(line: &str) -> Vec<Token> {
    match parse_response(line.as_bytes()).unwrap() {
        Response::Untagged(a) => a,
        other => panic!("not untagged: {other:?}"),
    }
}

// ---------------------------------------------------------------------------------------------
// The shared scripts

#[test]
fn every_shared_script_parses() {
    let Some(d) = dir() else { return };
    let paths = script_paths(&d).expect("read scripts folder");
    let names: Vec<String> = paths
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names.len(), 35, "{names:?}");
    assert!(names.iter().all(|n| !n.ends_with(".mbox")));
    let mut sorted = names.clone();
    sorted.sort();
    assert_eq!(names, sorted, "byte-wise order");
    let mut extensions = 0;
    for p in &paths {
        let s = parse_script_file(p).unwrap_or_else(|e| panic!("{e}"));
        assert!(!s.groups.is_empty(), "{}", s.name);
        assert!(
            s.mbox_path.exists(),
            "{}: {}",
            s.name,
            s.mbox_path.display()
        );
        for g in &s.groups {
            assert!(g.connection < s.connections, "{}", s.name);
            assert!(!g.commands.is_empty(), "{}", s.name);
            for c in &g.commands {
                assert!(!c.reply.is_empty(), "{} line {}", s.name, c.line);
            }
        }
        let last = s.groups.last().unwrap();
        let has_logout = s.groups.iter().any(|g| {
            g.have_untagged_bye
                || g.commands
                    .iter()
                    .any(|c| c.text.eq_ignore_ascii_case(b"logout") && c.line != 0)
        });
        if !has_logout {
            assert_eq!(last.commands[0].line, 0, "{}: automatic LOGOUT", s.name);
            assert_eq!(last.commands[0].text, b"logout");
        }
        if s.is_extension() {
            extensions += 1;
        }
        // the NAME.mbox rule
        let own = d.join(format!("{}.mbox", s.name));
        if own.exists() {
            assert_eq!(s.mbox_path, own);
        } else {
            assert_eq!(s.mbox_path, d.join("default.mbox"));
        }
    }
    assert_eq!(extensions, 10);
}

#[test]
fn headers_of_shared_scripts() {
    let Some(s) = shared("append") else { return };
    assert_eq!(s.connections, 3);
    assert_eq!(s.state, StartState::Created);
    assert_eq!(s.messages, MessageCount::Count(0));
    assert_eq!(s.capabilities, None);
    let s = shared("esearch").unwrap();
    assert_eq!(s.capabilities, Some(vec!["ESEARCH".to_string()]));
    assert_eq!(s.messages, MessageCount::All);
    assert_eq!(s.state, StartState::Selected);
    let s = shared("logout").unwrap();
    assert_eq!(s.state, StartState::NonAuth);
    assert_eq!(s.connections, 2);
    let s = shared("id").unwrap();
    assert_eq!(s.capabilities, Some(vec!["id".to_string()]));
    // one command with a ~31 KB list of strings
    assert_eq!(s.groups.len(), 2);
    assert!(s.groups[0].commands[0].text.len() > 30000);
}

#[test]
fn logout_script_groups_and_bye() {
    let Some(s) = shared("logout") else { return };
    // no automatic LOGOUT: the script has `logout` commands and `* bye` groups
    assert_eq!(s.groups.len(), 5);
    let conns: Vec<usize> = s.groups.iter().map(|g| g.connection).collect();
    assert_eq!(conns, [0, 1, 0, 1, 1]);
    assert!(
        !s.groups[0].have_untagged_bye,
        "`! bye` is an ordinary line"
    );
    assert_eq!(s.groups[0].untagged[0].existence, Existence::MustNot);
    assert!(s.groups[2].have_untagged_bye);
    assert!(s.groups[4].have_untagged_bye);
}

#[test]
fn pipeline_script_groups() {
    let Some(s) = shared("pipeline") else { return };
    assert_eq!(
        s.groups.len(),
        3,
        "two pipelined groups and the automatic LOGOUT"
    );
    for g in &s.groups[..2] {
        let tags: Vec<u32> = g.commands.iter().map(|c| c.tag).collect();
        assert_eq!(tags, [1, 2, 3, 4]);
        for c in &g.commands {
            assert_eq!(c.reply, vec![atom("ok")]);
        }
    }
    assert_eq!(s.groups[0].commands[1].text, b"create ${mailbox}2");
    assert_eq!(s.groups[1].untagged.len(), 4);
    // status list gets $!unordered=2
    assert_eq!(
        s.groups[1].untagged[0].args,
        vec![
            atom("status"),
            atom("${mailbox}"),
            Token::List(vec![atom("$!unordered=2"), atom("messages"), atom("0")]),
        ]
    );
}

#[test]
fn select_script_reply_line() {
    let Some(s) = shared("select") else { return };
    let g = s
        .groups
        .iter()
        .find(|g| g.commands[0].text == b"examine $mailbox")
        .expect("examine group");
    assert_eq!(g.commands[0].reply, vec![atom("ok"), atom("[read-only]")]);
    assert_eq!(g.untagged.len(), 5);
    assert_eq!(
        g.untagged[3].args,
        vec![atom("ok"), atom("[uidvalidity"), atom("$uidvalidity]")]
    );
}

#[test]
fn multiappend_literal_blocks() {
    let Some(s) = shared("multiappend") else {
        return;
    };
    let m1 = "From: user@domain.org\r\nDate: Sat, 24 Mar 2007 23:00:00 +0200\r\nSubject: mail1\r\n\r\nbody1";
    let m2 = m1.replace("mail1", "mail2").replace("body1", "body2");
    let expect = format!(
        "append $mailbox {{{}}}\r\n{m1} {{{}}}\r\n{m2}",
        m1.len(),
        m2.len()
    );
    assert_eq!(
        String::from_utf8_lossy(&s.groups[0].commands[0].text),
        expect
    );
    // in an expectation the block is a string; an empty line before }}} adds the CRLF
    let fetch = &s.groups[2];
    let Token::List(items) = &fetch.untagged[0].args[2] else {
        panic!("fetch list")
    };
    assert_eq!(
        items.last(),
        Some(&Token::Literal(b"Subject: mail1\r\n\r\n".to_vec()))
    );
    // (FORMAT.md calls this 16 bytes; it is 18)
}

#[test]
fn binary_literal_blocks() {
    let Some(s) = shared("append-binary") else {
        return;
    };
    let text = &s.groups[0].commands[0].text;
    assert!(text.starts_with(b"append $mailbox ~{165}\r\nFrom: user@domain.org\r\n"));
    // LF-joined, CRs of the file kept, NUL and 8-bit bytes allowed
    // (the file's header lines end in CR; the body lines are `\0-\xe4`, `\r`, ``, ``)
    assert!(
        text.ends_with(b"binary\r\n\r\n\x00-\xe4\n\r\n\n"),
        "{text:?}"
    );
    let Some(s) = shared("fetch-binary-mime-base64") else {
        return;
    };
    // `}}} binary[2] {{{` continues the logical line and opens the next literal
    let g = &s.groups[1];
    let Token::List(items) = &g.untagged[0].args[2] else {
        panic!()
    };
    assert_eq!(items[0], atom("$!unordered=2"));
    assert_eq!(items[1], atom("binary[1]"));
    assert_eq!(items[2], Token::Literal(b"hello world".to_vec()));
    assert_eq!(items[3], atom("binary[2]"));
    assert_eq!(items[9], atom("binary[5]"));
    assert_eq!(
        items[10],
        Token::Literal8(b"abcdefg\rhijkl\r\nmno\npqrstuvqxyz".to_vec())
    );
}

#[test]
fn default_directives_in_shared_scripts() {
    let Some(s) = shared("fetch") else { return };
    let g = s
        .groups
        .iter()
        .find(|g| g.commands[0].text == b"fetch 1 full")
        .unwrap();
    let Token::List(items) = &g.untagged[0].args[2] else {
        panic!()
    };
    assert_eq!(items[0], atom("$!unordered=2"));
    // FETCH FLAGS gets the exact-set defaults; explicit ($!unordered) stays as written
    assert_eq!(
        items[2],
        Token::List(vec![
            atom("$!ignore=$HasNoAttachment"),
            atom("$!ignore=$HasAttachment"),
            atom("$!ignore=\\recent"),
            atom("$!noextra"),
            atom("$!unordered"),
        ])
    );
    assert_eq!(items[8], Token::List(vec![atom("$!unordered")]));
    let s = shared("listext").unwrap();
    let g = s
        .groups
        .iter()
        .find(|g| {
            g.commands[0]
                .text
                .ends_with(b"return (children subscribed)")
        })
        .unwrap();
    assert_eq!(
        g.untagged[1].args[1],
        Token::List(vec![
            atom("$!unordered"),
            atom("$!ban=\\subscribed"),
            atom("\\haschildren")
        ])
    );
    // LIST flags get $!unordered, the CHILDINFO extension list does not
    let g = s
        .groups
        .iter()
        .find(|g| g.commands[0].text.ends_with(b"test2% return (children)"))
        .unwrap();
    assert_eq!(
        g.untagged[0].args[1],
        Token::List(vec![atom("$!unordered"), atom("\\haschildren")])
    );
    assert_eq!(
        g.untagged[0].args[4],
        Token::List(vec![
            atom("childinfo"),
            Token::List(vec![atom("subscribed")])
        ])
    );
}

#[test]
fn multi_connection_script() {
    let Some(s) = shared("append") else { return };
    let g = &s.groups[0];
    assert_eq!(g.connection, 0);
    assert_eq!(g.commands[0].text, b"select $mailbox");
    assert_eq!(s.groups[1].connection, 1);
    // `1 append ${mailbox}nonexistent` / `no [trycreate]`
    let last = &s.groups[s.groups.len() - 2];
    assert_eq!(last.commands[0].text, b"append ${mailbox}nonexistent");
    assert_eq!(
        last.commands[0].reply,
        vec![atom("no"), atom("[trycreate]")]
    );
    // the automatic LOGOUT runs on connection 1
    assert_eq!(s.groups.last().unwrap().connection, 0);
}

// ---------------------------------------------------------------------------------------------
// Parser rules and errors

#[test]
fn command_line_forms() {
    let s = script(
        "state: auth\n\nok noop\n\"\" delete x\nbad list (imaptest) \"\" \"\"\ncreate y\nno [trycreate]\n",
    );
    let c: Vec<_> = s.groups.iter().map(|g| &g.commands[0]).collect();
    assert_eq!(c[0].reply, vec![atom("ok")]);
    assert_eq!(c[0].text, b"noop");
    assert_eq!(c[1].reply, vec![atom("")]);
    assert_eq!(c[2].reply, vec![atom("bad")]);
    assert_eq!(c[2].text, b"list (imaptest) \"\" \"\"");
    assert_eq!(c[3].reply, vec![atom("no"), atom("[trycreate]")]);
    assert_eq!(s.state, StartState::Auth);
    // header without any headers: the file starts with an empty line
    let s = script("\nok noop\n");
    assert_eq!(s.state, StartState::Selected);
    assert_eq!(s.connections, 1);
    // with one connection a leading number is part of the command, which then has no
    // status word and waits for a reply line
    let s = script("\n1 ok noop\nok\n");
    assert_eq!(s.groups[0].commands[0].text, b"1 ok noop");
    assert_eq!(s.groups[0].commands[0].reply, vec![atom("ok")]);
    assert!(
        parse_err("\n1 ok noop\n").starts_with("Missing reply from previous command at line 2")
    );
}

#[test]
fn pipelining_rules() {
    // replies may come in any order and an open pipeline reads `tag2 ok noop` as a reply
    let s = script("\ntag1 noop\ntag2 check\ntag2 ok noop\ntag1 ok\n");
    assert_eq!(s.groups.len(), 2);
    assert_eq!(s.groups[0].commands.len(), 2);
    assert_eq!(
        s.groups[0].commands[1].reply,
        vec![atom("ok"), atom("noop")]
    );
    assert_eq!(s.groups[0].commands[0].reply, vec![atom("ok")]);
    // a tagged command with a status closes its group at once
    let s = script("\ntag1 ok noop\ntag2 ok noop\n");
    assert_eq!(s.groups.len(), 3);
    // errors
    assert_eq!(
        parse_err("\ntag1 noop\ntag1 check\n"),
        "Tag reused within command group"
    );
    assert_eq!(parse_err("\ntag1 noop\ntag2 ok\n"), "Reply for unknown tag");
    assert_eq!(
        parse_err("\ntag1 noop\ntag2 check\ntag1 ok\ntag1 ok\n"),
        "Command already has a reply"
    );
    assert_eq!(
        parse_err("\nnoop\ncheck\n"),
        "Missing reply from previous command group"
    );
    assert!(parse_err("\nnoop\n").starts_with("Missing reply from previous command at line 2"));
}

#[test]
fn multiple_connection_rules() {
    let s = script("connections: 2\n\n1 ok noop\n2 ok noop\n* 1 exists\n2 tag1 ok check\n");
    assert_eq!(s.groups[0].connection, 0);
    assert_eq!(s.groups[1].connection, 1);
    assert_eq!(s.groups[1].untagged.len(), 1);
    assert_eq!(s.groups[2].commands[0].tag, 1);
    // a higher prefix raises the count
    let s = script("connections: 2\n\n3 ok noop\n");
    assert_eq!(s.connections, 3);
    assert_eq!(s.groups[0].connection, 2);
    let s = script("connections: n\n\n2 ok noop\n");
    assert_eq!(s.connections, 2);
    assert_eq!(
        parse_err("connections: 2\n\nok noop\n"),
        "Missing client index"
    );
    // imaptest 2.3: any group of two commands fails in a multi-connection test
    assert_eq!(
        parse_err("connections: 2\n\n1 tag1 noop\n1 tag2 noop\ntag1 ok\ntag2 ok\n"),
        "All pipelined commands must use the same connection"
    );
}

#[test]
fn header_rules() {
    let s = script(
        "Capabilities : IMAP4rev1  MOVE\nSTATE: created\nmessages: 5\nuser 2: $user2\nignore_extra_untagged: no\n\nok noop\n",
    );
    assert_eq!(
        s.capabilities,
        Some(vec!["IMAP4rev1".to_string(), "MOVE".to_string()])
    );
    assert!(s.is_extension());
    assert_eq!(s.state, StartState::Created);
    assert_eq!(s.messages, MessageCount::Count(5));
    assert_eq!(s.users, vec![None, Some(UserSpec::User2)]);
    assert!(s.require_user2);
    assert!(!s.ignore_extra_untagged);
    let s = script("capabilities:\n\nok noop\n");
    assert_eq!(s.capabilities, Some(vec![]));
    assert!(
        s.is_extension(),
        "an empty capabilities header still files it as an extension"
    );
    assert_eq!(parse_err("state auth\n\nok noop\n"), "Missing ':'");
    assert_eq!(parse_err("foo: bar\n\nok noop\n"), "Unknown setting");
    assert_eq!(
        parse_err("state: weird\n\nok noop\n"),
        "Unknown state value"
    );
}

#[test]
fn file_structure_errors() {
    assert_eq!(parse_err("\nok noop"), "Last line doesn't end with LF");
    assert_eq!(
        parse_err("state: auth\n\n# nothing\n"),
        "No commands in file"
    );
    assert_eq!(
        parse_err("\nok append x {{{\nabc\n"),
        "Multiline reply at line 2 not ended"
    );
    assert_eq!(parse_err("\n!else\n"), "!else without !ifenv");
    assert_eq!(parse_err("\n!endif\n"), "!endif without !ifenv");
    assert_eq!(
        parse_err("\n!ifenv X\n!else\n!else\n!endif\nok noop\n"),
        "!else already seen"
    );
    assert!(
        parse_err("\nok check\n!ifenv X\nok noop\n").starts_with("!ifenv at line 3 not closed")
    );
    assert_eq!(
        parse_err("\nok noop\n? bye\n"),
        "? BYE not currently supported"
    );
    assert!(parse_err("\nok noop\n!sleep soon\n").starts_with("Invalid !sleep value"));
    assert_eq!(
        parse_err("\nok noop\n* 1 fetch ($!frobnicate uid 1)\n"),
        "Unknown directive: $!frobnicate"
    );
    assert_eq!(
        parse_err("\nok noop\n* 1 fetch ($!unordered=x uid 1)\n"),
        "Broken $!unordered directive"
    );
    assert_eq!(
        parse_err("\nok noop\n* 1 fetch ($!unordered=2 uid 1 flags)\n"),
        "Invalid list argument count, chain size=2"
    );
    assert_eq!(parse_err("\nok noop\n* 1 fetch (uid 1\n"), "Missing ')'");
}

#[test]
fn conditionals() {
    // SAFETY-free: the variable name is unique to this test and never set
    let s = script(
        "\n!ifenv IMAPTEST_SURELY_UNSET_VAR_42\nok noop\n!else\nok check\n!endif\n!ifnenv IMAPTEST_SURELY_UNSET_VAR_42\nok close\n!endif\n",
    );
    let texts: Vec<&[u8]> = s
        .groups
        .iter()
        .map(|g| g.commands[0].text.as_slice())
        .collect();
    assert_eq!(texts, [&b"check"[..], b"close", b"logout"]);
    // PATH is always set
    let s = script("\n!ifenv PATH\nok noop\n!else\nok check\n!endif\n");
    assert_eq!(s.groups[0].commands[0].text, b"noop");
    assert_eq!(s.groups.len(), 2);
}

#[test]
fn attached_lines_and_bye() {
    let s = script("\nok noop\n!sleep 10ms\n!output seen $x\n? 1 exists\n* bye\n! bye now\n");
    let g = &s.groups[0];
    assert_eq!(g.sleep, Some(std::time::Duration::from_millis(10)));
    assert_eq!(g.outputs, vec![b"seen $x".to_vec()]);
    assert_eq!(g.untagged[0].existence, Existence::May);
    assert!(g.have_untagged_bye);
    assert_eq!(
        s.groups.len(),
        1,
        "a `* bye` group means no automatic LOGOUT"
    );
}

// ---------------------------------------------------------------------------------------------
// Token model

#[test]
fn token_model() {
    assert_eq!(
        parse_args(b"[UNSEEN 1]", false).unwrap(),
        vec![atom("[UNSEEN"), atom("1]")]
    );
    assert_eq!(
        parse_args(b"BODY[HEADER.FIELDS (SUBJECT)] x", false).unwrap(),
        vec![
            atom("BODY[HEADER.FIELDS"),
            Token::List(vec![atom("SUBJECT")]),
            atom("]"),
            atom("x")
        ]
    );
    assert_eq!(
        parse_args(b"OK Done (0.001 + 0.000 secs).", false).unwrap(),
        vec![
            atom("OK"),
            atom("Done"),
            Token::List(vec![atom("0.001"), atom("+"), atom("0.000"), atom("secs")]),
            atom(".")
        ]
    );
    assert_eq!(parse_args(b"a)b", false).unwrap(), vec![atom("a)b")]);
    assert_eq!(
        parse_args(b"nil NIL \"NIL\" ~foo", false).unwrap(),
        vec![
            Token::Nil(b"nil".to_vec()),
            Token::Nil(b"NIL".to_vec()),
            Token::Quoted(b"NIL".to_vec()),
            atom("~foo")
        ]
    );
    assert_eq!(
        parse_args(b"\"a\\\"b\\\\c\" {3}\r\nx y ~{2}\r\n\0z", false).unwrap(),
        vec![
            Token::Quoted(b"a\"b\\c".to_vec()),
            Token::Literal(b"x y".to_vec()),
            Token::Literal8(b"\0z".to_vec())
        ]
    );
    assert_eq!(
        parse_args(b"((NIL NIL \"g\" NIL)(NIL NIL NIL NIL))", false).unwrap(),
        vec![Token::List(vec![
            Token::List(vec![
                Token::Nil(b"NIL".to_vec()),
                Token::Nil(b"NIL".to_vec()),
                Token::Quoted(b"g".to_vec()),
                Token::Nil(b"NIL".to_vec())
            ]),
            Token::List(vec![Token::Nil(b"NIL".to_vec()); 4]),
        ])]
    );
    assert!(parse_args(b"a )", false).is_err());
    assert!(parse_args(b"\"abc", false).is_err());
    assert!(parse_args(b"{5}\r\nab", false).is_err());
    assert_eq!(
        parse_response(b"+ go ahead").unwrap(),
        Response::Continuation(b"go ahead".to_vec())
    );
    assert_eq!(
        parse_response(b"1.5 OK [READ-ONLY] done").unwrap(),
        Response::Tagged {
            tag: "1.5".into(),
            args: vec![atom("OK"), atom("[READ-ONLY]"), atom("done")]
        }
    );
}

// ---------------------------------------------------------------------------------------------
// Matching

#[test]
fn tagged_replies_prefix_mode() {
    let s = script(
        "\nok noop\nok [read-only] examine x\n\"\" delete y\nno select z\nexamine q\nok [read-only]\n",
    );
    let mut j = judge();
    assert!(run(&mut j, &s, 0, 0, &["T1 OK NOOP completed."]).is_empty());
    // a STATUS on the command line is only that one token
    assert_eq!(s.groups[1].commands[0].text, b"[read-only] examine x");
    assert!(run(&mut j, &s, 2, 0, &["T1 NO [NONEXISTENT] no such mailbox"]).is_empty());
    assert!(run(&mut j, &s, 2, 0, &["T1 OK"]).is_empty());
    let f = run(&mut j, &s, 3, 0, &["T1 OK selected"]);
    assert_eq!(f, ["Expected tagged reply 'no', got 'OK selected'"]);
    assert!(run(&mut j, &s, 4, 0, &["T1 OK [READ-ONLY] EXAMINE completed"]).is_empty());
    let f = run(&mut j, &s, 4, 0, &["T1 OK [READ-WRITE] done"]);
    assert_eq!(f.len(), 1);
    assert!(
        f[0].contains("Expected tagged reply 'ok [read-only]'"),
        "{f:?}"
    );
    // the final token is a case-insensitive prefix
    assert!(run(&mut j, &s, 4, 0, &["T1 ok [read-only]xyz"]).is_empty());
    assert!(
        run(&mut j, &s, 0, 0, &[])
            .iter()
            .any(|f| f.contains("Missing reply"))
    );
}

#[test]
fn variables_bind_and_reuse() {
    let s = script(
        "messages: 2\n\nok fetch 1:2 uid\n* 1 fetch (uid $uid1)\n* 2 fetch (uid $uid2)\nok fetch 1 uid\n* 1 fetch (uid $uid1)\nok status $mailbox (uidvalidity)\n* status $mailbox (uidvalidity $uidvalidity)\nok uid search all\n* search $uid1 $uid2\nok noop\n* ok [uidvalidity $uidvalidity]\n",
    );
    let mut j = judge();
    assert!(
        run(
            &mut j,
            &s,
            0,
            2,
            &["* 2 FETCH (UID 12)", "* 1 FETCH (UID 11)", "T1 OK"]
        )
        .is_empty()
    );
    assert_eq!(j.vars.get("uid1"), Some(&b"11"[..]));
    assert_eq!(j.vars.get("uid2"), Some(&b"12"[..]));
    // bound: must be equal
    let f = run(&mut j, &s, 1, 2, &["* 1 FETCH (UID 13)", "T1 OK"]);
    assert_eq!(f.len(), 1);
    assert!(
        f[0].starts_with("Missing 1 untagged replies (1 mismatches)"),
        "{f:?}"
    );
    assert!(f[0].contains("first expanded: 1 fetch ( uid 11)"), "{f:?}");
    assert!(f[0].contains("best match: 1 FETCH (UID 13)"), "{f:?}");
    assert!(run(&mut j, &s, 1, 2, &["* 1 FETCH (UID 11)", "T1 OK"]).is_empty());
    // `$mailbox` is bound (predefined), quoted strings compare like atoms
    assert!(
        run(
            &mut j,
            &s,
            2,
            2,
            &["* STATUS \"imaptest\" (UIDVALIDITY 1234)", "T1 OK"]
        )
        .is_empty()
    );
    assert_eq!(j.vars.get("uidvalidity"), Some(&b"1234"[..]));
    assert!(run(&mut j, &s, 3, 2, &["* SEARCH 11 12", "T1 OK"]).is_empty());
    assert!(!run(&mut j, &s, 3, 2, &["* SEARCH 11 12 13", "T1 OK"]).is_empty());
    // an unbound variable stops at the next pattern character: `$uidvalidity]`
    let mut j2 = judge();
    assert!(
        run(
            &mut j2,
            &s,
            4,
            2,
            &["* OK [UIDVALIDITY 1795659884] UIDs valid", "T1 OK"]
        )
        .is_empty()
    );
    assert_eq!(j2.vars.get("uidvalidity"), Some(&b"1795659884"[..]));
}

#[test]
fn bound_variables_are_case_sensitive() {
    let s = script("\nok noop\n* x $s\nok noop\n* y $s\n");
    let mut j = judge();
    assert!(run(&mut j, &s, 0, 0, &["* X Hello", "T1 OK"]).is_empty());
    assert_eq!(j.vars.get("s"), Some(&b"Hello"[..]));
    assert!(!run(&mut j, &s, 1, 0, &["* Y HELLO", "T1 OK"]).is_empty());
    assert!(run(&mut j, &s, 1, 0, &["* y Hello", "T1 OK"]).is_empty());
}

#[test]
fn rejected_attempts_revert_bindings() {
    // the first line binds $a while trying and then fails on "zzz": $a must be unbound again
    let s = script("\nok noop\n* list $a zzz\n* list $b yyy\nok noop\n* other $a\n");
    let mut j = judge();
    let f = run(&mut j, &s, 0, 0, &["* LIST one yyy", "T1 OK"]);
    assert_eq!(f.len(), 1, "{f:?}");
    assert_eq!(j.vars.get("a"), None);
    assert_eq!(j.vars.get("b"), Some(&b"one"[..]));
    assert!(run(&mut j, &s, 1, 0, &["* OTHER anything", "T1 OK"]).is_empty());
    assert_eq!(j.vars.get("a"), Some(&b"anything"[..]));
}

#[test]
fn esearch_sets_and_tag_variable() {
    let s = script(
        "\nok search return (all) all\n* esearch (tag $tag) uid all $uid1:$uid3,$uid4:$uid6\n",
    );
    let mut j = judge();
    let lines = ["* ESEARCH (TAG \"T1\") UID ALL 1:3,5:7", "T1 OK"];
    assert!(run(&mut j, &s, 0, 0, &lines).is_empty());
    assert_eq!(j.vars.get("uid1"), Some(&b"1"[..]));
    assert_eq!(j.vars.get("uid3"), Some(&b"3"[..]));
    assert_eq!(j.vars.get("uid4"), Some(&b"5"[..]));
    assert_eq!(j.vars.get("uid6"), Some(&b"7"[..]));
    assert_eq!(j.vars.get("tag"), None, "$tag exists only while matching");
    // another command's tag does not match
    let mut j = judge();
    let f = run(
        &mut j,
        &s,
        0,
        0,
        &["* ESEARCH (TAG \"9.9\") UID ALL 1:3,5:7", "T1 OK"],
    );
    assert_eq!(f.len(), 1);
}

#[test]
fn list_matching_rules() {
    let mut j = judge();
    let mut m = |pat: &str, resp: &str| {
        let s = script(&format!("\nok noop\n* {pat}\n"));
        let args = untagged(&format!("* {resp}"));
        j.match_line(&s.groups[0].untagged[0].args, &args, false) == FULL
    };
    // FETCH: item pairs in any order, extra items allowed
    assert!(m(
        "1 fetch (uid 5 flags ())",
        "1 FETCH (FLAGS () UID 5 MODSEQ (3))"
    ));
    assert!(!m("1 fetch (uid 5)", "1 FETCH (UID 6)"));
    assert!(!m("1 fetch (uid 5)", "2 FETCH (UID 5)"));
    // FETCH FLAGS: exact set, any order, \Recent and $HasAttachment ignored
    assert!(m(
        "1 fetch (flags (\\seen \\flagged))",
        "1 FETCH (FLAGS (\\Flagged \\Recent \\Seen))"
    ));
    assert!(m(
        "1 fetch (flags ())",
        "1 FETCH (FLAGS (\\Recent $HasNoAttachment))"
    ));
    assert!(!m(
        "1 fetch (flags (\\seen))",
        "1 FETCH (FLAGS (\\Seen \\Flagged))"
    ));
    assert!(!m(
        "1 fetch (flags (\\seen \\draft))",
        "1 FETCH (FLAGS (\\Seen))"
    ));
    // explicit directives replace the defaults: ordered and exact
    assert!(!m(
        "1 fetch (flags ($!extra \\seen))",
        "1 FETCH (FLAGS (\\Flagged \\Seen))"
    ));
    assert!(m(
        "1 fetch (flags ($!extra \\seen \\flagged))",
        "1 FETCH (FLAGS (\\Seen \\Flagged))"
    ));
    assert!(!m(
        "1 fetch (flags ($!extra \\seen \\flagged))",
        "1 FETCH (FLAGS (\\Flagged \\Seen))"
    ));
    // `($!unordered)` matches any list; nested lists are ordered and exact
    assert!(m(
        "1 fetch (envelope ($!unordered))",
        "1 FETCH (ENVELOPE (NIL \"x\" NIL))"
    ));
    assert!(m(
        "1 fetch (body (\"TEXT\" \"PLAIN\"))",
        "1 FETCH (BODY (\"text\" \"plain\"))"
    ));
    assert!(!m(
        "1 fetch (body (\"TEXT\" \"PLAIN\"))",
        "1 FETCH (BODY (\"plain\" \"text\"))"
    ));
    assert!(!m(
        "1 fetch (body (\"TEXT\"))",
        "1 FETCH (BODY (\"text\" \"plain\"))"
    ));
    // STATUS pairs
    assert!(m(
        "status x (messages 1 unseen 0)",
        "STATUS x (UNSEEN 0 RECENT 0 MESSAGES 1)"
    ));
    assert!(!m(
        "status x (messages 1 unseen 0)",
        "STATUS x (UNSEEN 1 MESSAGES 1)"
    ));
    // LIST flags: any order, extras allowed, `()` matches any flags
    assert!(m("list () \".\" x", "LIST (\\HasNoChildren) \".\" x"));
    assert!(m(
        "list (\\noselect) \".\" x",
        "LIST (\\HasChildren \\Noselect) \".\" x"
    ));
    assert!(!m(
        "list (\\noselect) \".\" x",
        "LIST (\\HasChildren) \".\" x"
    ));
    assert!(!m(
        "list ($!noextra) \"/\" x",
        "LIST (\\HasNoChildren) \"/\" x"
    ));
    // bans and ignores
    let ban = "list ($!unordered $!ban=\\subscribed \\haschildren) \".\" x";
    assert!(m(ban, "LIST (\\HasChildren) \".\" x"));
    assert!(!m(ban, "LIST (\\HasChildren \\Subscribed) \".\" x"));
    let ign = "list ($!unordered $!noextra $!ignore=\\marked \\haschildren) \".\" x";
    assert!(m(ign, "LIST (\\Marked \\HasChildren) \".\" x"));
    assert!(!m(ign, "LIST (\\Unmarked \\HasChildren) \".\" x"));
    // chains: $!unordered=2 needs even lengths
    assert!(!m("x ($!unordered=2 a 1)", "X (A 1 B)"));
    assert!(m("x ($!unordered=2 b 2)", "X (A 1 B 2)"));
    // `$` matches any token and any whole list
    assert!(m(
        "1 fetch (envelope $ uid $)",
        "1 FETCH (UID 4 ENVELOPE (NIL NIL))"
    ));
    // top-level counts must be equal (prefix mode is for OK/NO/BAD/BYE, see below)
    assert!(!m("search 1", "SEARCH 1 2"));
    assert!(!m("ok [unseen 1]", "OK [UNSEEN 1] First unseen."));
    let s = script("\nok noop\n* ok [unseen 1]\n");
    let args = untagged("* OK [UNSEEN 1] First unseen.");
    assert_eq!(
        j.match_line(&s.groups[0].untagged[0].args, &args, true),
        FULL
    );
}

#[test]
fn chains_are_not_used_up() {
    // `($!unordered \seen $pf)`: both chains may match the same element
    let mut j = judge();
    let s = script("\nok noop\n* 1 fetch (flags ($!unordered \\answered $pf))\n");
    let args = untagged("* 1 FETCH (FLAGS (\\Answered \\Seen))");
    assert_eq!(
        j.match_line(&s.groups[0].untagged[0].args, &args, false),
        FULL
    );
    assert_eq!(j.vars.get("pf"), Some(&b"\\Answered"[..]));
}

#[test]
fn nil_matching() {
    let mut j = judge();
    let mut m = |pat: &str, resp: &str| {
        let s = script(&format!("\nok noop\n* {pat}\n"));
        let args = untagged(&format!("* {resp}"));
        j.match_line(&s.groups[0].untagged[0].args, &args, false) == FULL
    };
    // pattern NIL matches only NIL, in any case
    assert!(m("x NIL", "X nil"));
    assert!(m("x nil", "X NIL"));
    assert!(!m("x NIL", "X \"NIL\""));
    assert!(!m("x NIL", "X ()"));
    assert!(!m("x NIL", "X \"\""));
    // a pattern atom or string compares with a NIL response as the text NIL (FORMAT.md 6.3)
    assert!(m("x \"nil\"", "X NIL"));
    assert!(m("x $", "X NIL"));
    assert!(m("x $v", "X NIL"));
    assert!(m(
        "1 fetch (envelope (NIL \"s\" ((NIL NIL \"u\" \"d\"))))",
        "1 FETCH (ENVELOPE (NIL \"s\" ((NIL NIL \"u\" \"d\"))))"
    ));
    assert!(!m(
        "1 fetch (envelope (NIL \"s\"))",
        "1 FETCH (ENVELOPE (\"d\" \"s\"))"
    ));
}

#[test]
fn must_not_lines() {
    let s = script("messages: 3\n\nok uid fetch 5 uid\n! 1 fetch (uid $uid1)\n! 2 fetch (uid 9)\n");
    let mut j = judge();
    j.vars.set("uid1", b"4");
    assert!(run(&mut j, &s, 0, 3, &["* 2 FETCH (UID 5)", "T1 OK"]).is_empty());
    let f = run(&mut j, &s, 0, 3, &["* 1 FETCH (UID 4)", "T1 OK"]);
    assert_eq!(f.len(), 1);
    assert!(f[0].starts_with("Unexpected untagged match"), "{f:?}");
    assert!(f[0].contains("Reply: 1 FETCH (UID 4)"), "{f:?}");
    // a `!` line never counts as missing
    assert!(run(&mut j, &s, 0, 3, &["T1 OK"]).is_empty());
}

#[test]
fn one_response_satisfies_several_lines() {
    let s = script(
        "messages: 1\n\nok fetch 1 rfc822.text\n* 1 fetch (rfc822.text {{{\nbody1\n\n\n}}})\n* 1 fetch (flags (\\seen))\n",
    );
    let mut j = judge();
    let f = run(
        &mut j,
        &s,
        0,
        1,
        &[
            "* 1 FETCH (RFC822.TEXT {9}\r\nbody1\r\n\r\n FLAGS (\\Seen \\Recent))",
            "T1 OK",
        ],
    );
    assert!(f.is_empty(), "{f:?}");
    // literal blocks compare case-insensitively, and a wrong body is reported
    assert!(
        run(
            &mut j,
            &s,
            0,
            1,
            &[
                "* 1 FETCH (RFC822.TEXT {9}\r\nBODY1\r\n\r\n FLAGS (\\Seen))",
                "T1 OK"
            ]
        )
        .is_empty()
    );
    let f = run(
        &mut j,
        &s,
        0,
        1,
        &[
            "* 1 FETCH (RFC822.TEXT {7}\r\nbody1\r\n FLAGS (\\Seen))",
            "T1 OK",
        ],
    );
    assert_eq!(f.len(), 1, "{f:?}");
    assert!(f[0].starts_with("Missing 1 untagged replies"), "{f:?}");
}

#[test]
fn ignore_extra_untagged() {
    let s = script("messages: 1\n\nok noop\n* 1 exists\nok noop\n");
    let mut j = judge();
    assert!(run(&mut j, &s, 0, 1, &["* 1 EXISTS", "* 1 RECENT", "T1 OK"]).is_empty());
    let s = script("messages: 1\nignore_extra_untagged: no\n\nok noop\n* 1 exists\nok noop\n");
    let mut j = Judge::new(false);
    let f = run(&mut j, &s, 0, 1, &["* 1 EXISTS", "* 1 RECENT", "T1 OK"]);
    assert_eq!(
        f,
        ["1 unexpected untagged replies received, first: 1 RECENT"]
    );
    // in strict mode a group without expectation lines treats every response as extra
    let f = run(&mut j, &s, 1, 1, &["* 2 EXISTS", "T1 OK"]);
    assert_eq!(
        f,
        ["1 unexpected untagged replies received, first: 2 EXISTS"]
    );
    // ...except on a connection that is logging out
    let g = &s.groups[2];
    assert_eq!(g.commands[0].text, b"logout");
    j.begin_group(g, 1);
    j.untagged(g, &untagged("* BYE bye"), None, true);
    j.end_group(g);
    assert!(j.take_failures().is_empty());
}

#[test]
fn untagged_ok_is_prefix_matched() {
    let s = script("\nok select x\n* ok [uidnext $next]\n* ok [read-write]\n");
    let mut j = judge();
    let f = run(
        &mut j,
        &s,
        0,
        0,
        &[
            "* OK [UIDNEXT 7] Predicted next UID",
            "* OK [READ-WRITE] whatever",
            "T1 OK",
        ],
    );
    assert!(f.is_empty(), "{f:?}");
    assert_eq!(j.vars.get("next"), Some(&b"7"[..]));
}

#[test]
fn relative_sequences() {
    let s = script("connections: 2\nmessages: 3\n\n2 ok noop\n* $1 expunge\n* $3 expunge\n");
    let mut j = judge();
    // expunging 1 then 3 arrives as 1, 2 or as 3, 1
    assert!(run(&mut j, &s, 0, 3, &["* 1 EXPUNGE", "* 2 EXPUNGE", "T1 OK"]).is_empty());
    assert!(run(&mut j, &s, 0, 3, &["* 3 EXPUNGE", "* 1 EXPUNGE", "T1 OK"]).is_empty());
    assert!(!run(&mut j, &s, 0, 3, &["* 1 EXPUNGE", "* 1 EXPUNGE", "T1 OK"]).is_empty());
    // beyond the starting count never matches
    assert!(!run(&mut j, &s, 0, 2, &["* 1 EXPUNGE", "* 2 EXPUNGE", "T1 OK"]).is_empty());
    // in commands, $N is the current number of "the message that was N"
    j.begin_group(&s.groups[0], 3);
    j.after_untagged(&untagged("* 1 EXPUNGE"));
    assert_eq!(
        j.expand_command(b"fetch $3,$2"),
        (b"fetch 2,1".to_vec(), None)
    );
    assert_eq!(j.expand_command(b"fetch $1").0, b"fetch <expunged>");
    assert_eq!(j.expand_command(b"fetch $9").0, b"fetch <out of range>");
}

#[test]
fn command_expansion() {
    let mut j = judge();
    j.vars.set("sep", b"/");
    assert_eq!(
        j.expand_command(b"create $mailbox${sep}test $$hello"),
        (b"create imaptest/test $hello".to_vec(), None)
    );
    assert_eq!(
        j.expand_command(b"x $!unordered y").0,
        b"x  y",
        "directives are dropped up to the next space"
    );
    assert_eq!(
        j.expand_command(b"uid fetch $nosuch uid"),
        (
            b"uid fetch ".to_vec(),
            Some("Uninitialized variable: nosuch".to_string())
        ),
        "the text before an unbound variable is still sent"
    );
    assert_eq!(
        j.expand_command(b"a ${x").1,
        Some("Missing '}'".to_string())
    );
    assert_eq!(j.expand_command(b"cost 5$").0, b"cost 5$");
}

#[test]
fn bye_lines_and_any_reply() {
    let s = script("state: nonauth\n\nok logout\n* bye\n");
    let mut j = judge();
    assert!(
        run(
            &mut j,
            &s,
            0,
            0,
            &["* BYE Logging out", "T1 OK Logout completed."]
        )
        .is_empty()
    );
    let f = run(&mut j, &s, 0, 0, &["T1 OK Logout completed."]);
    assert_eq!(f.len(), 1);
    assert!(
        f[0].contains("first unexpanded (script line 4): bye"),
        "{f:?}"
    );
}

#[test]
fn mbox_reader() {
    let Some(d) = dir() else { return };
    let m = Mbox::load(&d.join("default.mbox")).unwrap();
    assert_eq!(m.messages.len(), 6);
    assert_eq!(
        m.messages[0].data.len(),
        87,
        "message 1 is 87 bytes on the wire"
    );
    assert!(m.messages[0].data.ends_with(b"body1\r\n\r\n"));
    assert_eq!(m.messages[0].internaldate, "22-Feb-2008 17:06:23 +0000");
    let m = Mbox::load(&d.join("search-date.mbox")).unwrap();
    assert_eq!(m.messages[0].internaldate, "24-Mar-2007 23:00:00 +0200");
    assert_eq!(
        parse_from_line(b"From user@domain  Fri Feb  2 17:06:23 2008").as_deref(),
        Some("02-Feb-2008 17:06:23 +0000")
    );
    assert_eq!(parse_from_line(b"From: user@domain"), None);
    assert_eq!(parse_from_line(b"From here to eternity"), None);
    let m = Mbox::parse(b"junk\nFrom a Mon Jan  1 00:00:00 2001\nA: b\r\n\nFrom x y\n");
    assert_eq!(m.messages.len(), 1);
    assert_eq!(m.messages[0].data, b"A: b\r\n\r\nFrom x y\r\n");
}
