//! The file pool engine: enrolment, directories, files, quota, authority, work units, recovery.

use std::path::Path;

use spool::UserId;
use vm::sfs::{
    Auth, Content, Control, DirId, DmsError, Format, Grantee, Pool, PoolConfig, PoolName,
    pool::{ConnectRule, PoolOptions, check},
};

fn u(s: &str) -> UserId {
    UserId::parse(s).unwrap()
}

fn cfg(rule: ConnectRule) -> PoolConfig {
    PoolConfig {
        name: PoolName::parse("VMSYSU").unwrap(),
        admins: vec![u("MAINT")],
        connect: rule,
        default_blocks: 100,
        enroll: Vec::new(),
    }
}

fn open(dir: &Path) -> Pool {
    Pool::open(dir, cfg(ConnectRule::Enrolled), PoolOptions::default()).unwrap()
}

fn dir(s: &str) -> vm::sfs::DirPath {
    DirId::parse(s, &PoolName::parse("VMSYSU").unwrap())
        .unwrap()
        .path
}

fn recs(v: &[&str]) -> Content {
    Content::Records {
        format: Format::V,
        records: v.iter().map(|s| s.as_bytes().to_vec()).collect(),
    }
}

#[test]
fn enrol_write_read_and_survive_reopen() {
    let tmp = tempfile::tempdir().unwrap();
    {
        let p = open(tmp.path());
        p.enroll(&u("MAINT"), &u("BOB"), Some(10)).unwrap();
        assert!(matches!(
            p.enroll(&u("BOB"), &u("ALICE"), None),
            Err(DmsError::NotAuthorized(_))
        ));
        p.create_dir(&u("BOB"), &dir("BOB.PROJ"), Control::File)
            .unwrap();
        let info = p
            .write_file(
                &u("BOB"),
                &dir("BOB.PROJ"),
                "PROFILE",
                "EXEC",
                &recs(&["say hi", "exit"]),
                false,
            )
            .unwrap();
        assert_eq!(info.records, 2);
        p.append_file(
            &u("BOB"),
            &dir("BOB.PROJ"),
            "PROFILE",
            "EXEC",
            &recs(&["/* more */"]),
        )
        .unwrap();
        p.write_file(
            &u("BOB"),
            &dir("BOB."),
            "MAIL",
            "BODY",
            &Content::Stream(b"raw\r\nbytes".to_vec()),
            false,
        )
        .unwrap();
    }
    let p = open(tmp.path());
    let (info, c) = p
        .read_file(&u("BOB"), &dir("BOB.PROJ"), "PROFILE", "EXEC")
        .unwrap();
    assert_eq!(info.records, 3);
    assert_eq!(c, recs(&["say hi", "exit", "/* more */"]));
    assert_eq!(
        p.read_range(&u("BOB"), &dir("BOB."), "MAIL", "BODY", 3, 4)
            .unwrap(),
        b"\r\nby"
    );
    let l = p.query_limits(&u("BOB"), &u("BOB")).unwrap();
    assert_eq!((l.limit, l.used), (10, 2));
    p.checkpoint().unwrap();
    drop(p);
    let p = open(tmp.path());
    assert_eq!(
        p.list(&u("BOB"), &dir("BOB.")).unwrap().subdirs,
        vec!["PROJ"]
    );
    drop(p);
    let c = check(tmp.path()).unwrap();
    assert!(c.problems.is_empty(), "{:?}", c.problems);
    assert_eq!((c.users, c.files), (1, 2));
}

#[test]
fn authority_is_enforced_and_granted() {
    let tmp = tempfile::tempdir().unwrap();
    let p = open(tmp.path());
    for who in ["BOB", "ALICE"] {
        p.enroll(&u("MAINT"), &u(who), None).unwrap();
    }
    p.write_file(
        &u("BOB"),
        &dir("BOB."),
        "SECRET",
        "DATA",
        &recs(&["x"]),
        false,
    )
    .unwrap();
    let no = |r: Result<_, DmsError>| matches!(r, Err(DmsError::NotAuthorized(_)));
    assert!(no(p
        .read_file(&u("ALICE"), &dir("BOB."), "SECRET", "DATA")
        .map(|_| ())));
    assert!(no(p.list(&u("ALICE"), &dir("BOB.")).map(|_| ())));
    assert!(no(p
        .write_file(&u("ALICE"), &dir("BOB."), "X", "Y", &recs(&["x"]), false)
        .map(|_| ())));
    // Directory READ shows the name but not the contents (FILECONTROL).
    p.grant(
        &u("BOB"),
        &dir("BOB."),
        None,
        &Grantee::User(u("ALICE")),
        Auth::READ,
        true,
    )
    .unwrap();
    assert_eq!(p.list(&u("ALICE"), &dir("BOB.")).unwrap().files.len(), 1);
    assert!(no(p
        .read_file(&u("ALICE"), &dir("BOB."), "SECRET", "DATA")
        .map(|_| ())));
    p.grant(
        &u("BOB"),
        &dir("BOB."),
        Some(("SECRET", "DATA")),
        &Grantee::User(u("ALICE")),
        Auth::READ,
        true,
    )
    .unwrap();
    assert!(
        p.read_file(&u("ALICE"), &dir("BOB."), "SECRET", "DATA")
            .is_ok()
    );
    // Only the owner grants; NEWREAD covers files created later.
    assert!(no(p.grant(
        &u("ALICE"),
        &dir("BOB."),
        None,
        &Grantee::Public,
        Auth::READ,
        true
    )));
    p.grant(
        &u("BOB"),
        &dir("BOB."),
        None,
        &Grantee::User(u("ALICE")),
        Auth::NEWREAD,
        true,
    )
    .unwrap();
    p.write_file(
        &u("BOB"),
        &dir("BOB."),
        "LATER",
        "DATA",
        &recs(&["y"]),
        false,
    )
    .unwrap();
    assert!(
        p.read_file(&u("ALICE"), &dir("BOB."), "LATER", "DATA")
            .is_ok()
    );
    p.grant(
        &u("BOB"),
        &dir("BOB."),
        Some(("SECRET", "DATA")),
        &Grantee::User(u("ALICE")),
        Auth::READ,
        false,
    )
    .unwrap();
    assert!(no(p
        .read_file(&u("ALICE"), &dir("BOB."), "SECRET", "DATA")
        .map(|_| ())));
    let auths = p.query_auth(&u("BOB"), &dir("BOB."), None).unwrap();
    assert_eq!(
        auths,
        vec![(Grantee::User(u("ALICE")), Auth::READ.with(Auth::NEWREAD))]
    );
}

#[test]
fn quota_is_enforced_and_nothing_half_written() {
    let tmp = tempfile::tempdir().unwrap();
    let p = open(tmp.path());
    p.enroll(&u("MAINT"), &u("BOB"), Some(3)).unwrap();
    let big = Content::Stream(vec![7u8; 3 * 4096]);
    p.write_file(&u("BOB"), &dir("BOB."), "A", "A", &big, false)
        .unwrap();
    let more = Content::Stream(vec![1u8; 10]);
    let e = p
        .write_file(&u("BOB"), &dir("BOB."), "B", "B", &more, false)
        .unwrap_err();
    assert!(
        matches!(
            e,
            DmsError::QuotaExceeded {
                need: 4,
                limit: 3,
                ..
            }
        ),
        "{e}"
    );
    assert_eq!(e.rc(), 101);
    // A work unit that fails part-way leaves nothing behind.
    let e = p
        .commit(|t| {
            let d = t.cat().resolve(&dir("BOB.")).unwrap();
            let dn = t.dirno();
            t.op(
                vm::sfs::catalog::Op::CreateDir {
                    dirno: dn,
                    parent: d,
                    name: "NEW".into(),
                    control: Control::File,
                },
                None,
            )?;
            let op = p.put_op(
                t,
                &u("BOB"),
                &dir("BOB.NEW"),
                "X",
                "Y",
                Format::Stream,
                1,
                9000,
                9000,
                vec![],
                false,
            )?;
            t.op(op, Some(vec![0u8; 9000]))
        })
        .unwrap_err();
    assert!(matches!(e, DmsError::QuotaExceeded { .. }));
    assert!(p.list(&u("BOB"), &dir("BOB.")).unwrap().subdirs.is_empty());
    assert_eq!(p.query_limits(&u("BOB"), &u("BOB")).unwrap().used, 3);
    // Erasing gives the blocks back; replacing charges the difference.
    p.erase_file(&u("BOB"), &dir("BOB."), "A", "A").unwrap();
    assert_eq!(p.query_limits(&u("BOB"), &u("BOB")).unwrap().used, 0);
    drop(p);
    assert!(check(tmp.path()).unwrap().problems.is_empty());
}

#[test]
fn directories_create_rename_erase() {
    let tmp = tempfile::tempdir().unwrap();
    let p = open(tmp.path());
    p.enroll(&u("MAINT"), &u("BOB"), None).unwrap();
    p.create_dir(&u("BOB"), &dir("BOB.A"), Control::File)
        .unwrap();
    p.create_dir(&u("BOB"), &dir("BOB.A.B"), Control::Dir)
        .unwrap();
    assert!(matches!(
        p.create_dir(&u("BOB"), &dir("BOB.A"), Control::File),
        Err(DmsError::DirExists(_))
    ));
    assert!(matches!(
        p.create_dir(&u("BOB"), &dir("BOB.X.Y"), Control::File),
        Err(DmsError::DirNotFound(_))
    ));
    p.write_file(&u("BOB"), &dir("BOB.A.B"), "F", "T", &recs(&["1"]), false)
        .unwrap();
    p.rename_dir(&u("BOB"), &dir("BOB.A"), "C").unwrap();
    assert!(p.read_file(&u("BOB"), &dir("BOB.C.B"), "F", "T").is_ok());
    assert!(matches!(
        p.erase_dir(&u("BOB"), &dir("BOB.C")),
        Err(DmsError::DirNotEmpty(_))
    ));
    p.erase_file(&u("BOB"), &dir("BOB.C.B"), "F", "T").unwrap();
    p.erase_dir(&u("BOB"), &dir("BOB.C.B")).unwrap();
    p.erase_dir(&u("BOB"), &dir("BOB.C")).unwrap();
    assert!(p.list(&u("BOB"), &dir("BOB.")).unwrap().subdirs.is_empty());
    drop(p);
    let p = open(tmp.path());
    assert!(p.list(&u("BOB"), &dir("BOB.")).unwrap().subdirs.is_empty());
    p.delete_user(&u("MAINT"), &u("BOB")).unwrap();
    assert!(matches!(
        p.list(&u("BOB"), &dir("BOB.")),
        Err(DmsError::NotEnrolled { .. })
    ));
}

#[test]
fn admin_only_pool_refuses_ordinary_users() {
    let tmp = tempfile::tempdir().unwrap();
    let mut c = cfg(ConnectRule::Admin);
    c.admins = vec![u("IMAP")];
    let p = Pool::open(tmp.path(), c, PoolOptions::default()).unwrap();
    p.enroll(&u("IMAP"), &u("BOB"), None).unwrap();
    assert!(p.connect_check(&u("IMAP")).is_ok());
    assert!(matches!(
        p.connect_check(&u("BOB")),
        Err(DmsError::ConnectRefused { .. })
    ));
    // An enrolled pool lets enrolled users and grantees in, nobody else.
    let tmp2 = tempfile::tempdir().unwrap();
    let q = open(tmp2.path());
    q.enroll(&u("MAINT"), &u("BOB"), None).unwrap();
    assert!(q.connect_check(&u("BOB")).is_ok());
    assert!(q.connect_check(&u("EVE")).is_err());
    q.grant(
        &u("BOB"),
        &dir("BOB."),
        None,
        &Grantee::User(u("EVE")),
        Auth::READ,
        true,
    )
    .unwrap();
    assert!(q.connect_check(&u("EVE")).is_ok());
}

#[test]
fn large_files_are_chunked_and_a_torn_tail_is_cut() {
    let tmp = tempfile::tempdir().unwrap();
    let data: Vec<u8> = (0..5_000_000u32).map(|i| (i % 251) as u8).collect();
    {
        let p = open(tmp.path());
        p.enroll(&u("MAINT"), &u("BOB"), Some(10_000)).unwrap();
        p.write_file(
            &u("BOB"),
            &dir("BOB."),
            "BIG",
            "FILE",
            &Content::Stream(data.clone()),
            false,
        )
        .unwrap();
    }
    // A crash in the middle of a write leaves a partial entry at the end of the log.
    let seg = tmp.path().join("log/00000001.jnl");
    let mut bytes = std::fs::read(&seg).unwrap();
    bytes.extend_from_slice(&[0, 0, 1, 0, 9, 9, 9, 9, 1, 2, 3]);
    std::fs::write(&seg, bytes).unwrap();
    let p = open(tmp.path());
    let (info, c) = p.read_file(&u("BOB"), &dir("BOB."), "BIG", "FILE").unwrap();
    assert_eq!(info.bytes, data.len() as u64);
    assert_eq!(c, Content::Stream(data));
    drop(p);
    assert!(check(tmp.path()).unwrap().problems.is_empty());
}

#[test]
fn bad_names_get_dms_errors() {
    let d = PoolName::parse("VMSYSU").unwrap();
    for bad in [
        "",
        "BOB.A..B",
        "TOOLONGUSER.",
        "BOB.A B",
        "BOB.12345678901234567",
    ] {
        let e = DirId::parse(bad, &d).unwrap_err();
        assert_eq!(e.rc(), 24, "{bad}: {e}");
        assert!(e.to_string().starts_with("DMSSFS1104E"), "{e}");
    }
    assert!(PoolName::parse("NOT A POOL").is_err());
    let e = vm::sfs::ids::file_part("TOOLONGNAME", "file name").unwrap_err();
    assert!(e.to_string().contains("longer than 8"), "{e}");
}
