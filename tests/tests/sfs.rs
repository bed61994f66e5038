//! The Shared File System through CMS: authority between users, the mail store pool's refusal of
//! ordinary users, quota, directory commands and bad input — each ending with a clean offline
//! `vmimap sfs check`.

mod common;

use common::{
    TestSystem,
    console::{SFS_CONFIG, sfs_directory},
};

fn check_clean(t: &TestSystem) {
    t.shutdown();
    let out = t.run(&["sfs", "check"]);
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "sfs check: {text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(text.contains("file pool VMSYSU is consistent"), "{text}");
    assert!(text.contains("file pool MAILPOOL is consistent"), "{text}");
}

#[test]
fn users_cannot_read_each_others_files_without_grant() {
    let t = TestSystem::ipl_with(&sfs_directory(&["BOB", "ALICE"]), SFS_CONFIG);
    let mut maint = t.session("MAINT");
    for u in ["BOB", "ALICE"] {
        assert_eq!(
            maint
                .cms(&format!("ENROLL USER {u} VMSYSU: (BLOCKS 100"))
                .unwrap()
                .0,
            0
        );
    }
    let mut bob = t.session("BOB");
    let mut alice = t.session("ALICE");
    assert_eq!(bob.cms("ACCESS VMSYSU:BOB. B").unwrap().0, 0);
    assert_eq!(
        bob.cms("EXECIO 1 DISKW PLAN TXT B (STRING the secret plan")
            .unwrap()
            .0,
        0
    );
    // Alice can neither list Bob's directory nor read the file.
    let (rc, l) = alice.cms("ACCESS VMSYSU:BOB. C").unwrap();
    assert_eq!(rc, 76, "{l:?}");
    assert_eq!(l, vec!["DMSSFS1109E Not authorized for VMSYSU:BOB."]);
    // With READ on the directory she sees the name, not the contents (FILECONTROL).
    assert_eq!(bob.cms("GRANT AUTH BOB. TO ALICE (READ").unwrap().0, 0);
    assert_eq!(
        alice.cms("ACCESS VMSYSU:BOB. C").unwrap(),
        (0, vec!["DMSACP723I C (VMSYSU:BOB.) R/O".into()])
    );
    let (rc, l) = alice.cms("LISTFILE * * C").unwrap();
    assert_eq!((rc, l), (0, vec!["PLAN     TXT      C1".to_string()]));
    let (rc, l) = alice.cms("TYPE PLAN TXT C").unwrap();
    assert_eq!(rc, 100, "{l:?}");
    assert!(
        l[0].contains("DMSSFS1109E Not authorized for PLAN TXT VMSYSU:BOB."),
        "{l:?}"
    );
    // With READ on the file, she can read it; she still cannot write in Bob's directory.
    assert_eq!(
        bob.cms("GRANT AUTH PLAN TXT B TO ALICE (READ").unwrap().0,
        0
    );
    let (rc, l) = alice.cms("TYPE PLAN TXT C").unwrap();
    assert_eq!((rc, l), (0, vec!["the secret plan".to_string()]));
    let (rc, l) = alice.cms("EXECIO 1 DISKW MINE TXT C (STRING x").unwrap();
    assert_ne!(rc, 0, "{l:?}");
    // Revoked: gone again.
    assert_eq!(bob.cms("REVOKE AUTH PLAN TXT B FROM ALICE").unwrap().0, 0);
    assert_eq!(alice.cms("TYPE PLAN TXT C").unwrap().0, 100);
    let (rc, l) = bob.cms("QUERY AUTH BOB.").unwrap();
    assert_eq!(
        (rc, l),
        (
            0,
            vec!["DIRECTORY = VMSYSU:BOB.".into(), "  ALICE    READ".into()]
        )
    );
    check_clean(&t);
}

#[test]
fn the_mail_store_pool_refuses_everyone_but_its_administrator() {
    let t = TestSystem::ipl_with(&sfs_directory(&["BOB"]), SFS_CONFIG);
    // IMAP (the administrator) enrols Bob in the mail store.
    let mut imap = t.session("IMAP");
    assert_eq!(
        imap.cms("ENROLL USER BOB MAILPOOL: (BLOCKS 50").unwrap().0,
        0
    );
    assert_eq!(
        imap.cms("CREATE DIRECTORY MAILPOOL:BOB.INBOX").unwrap().0,
        0
    );
    let (rc, l) = imap.cms("QUERY LIMITS FOR BOB MAILPOOL:").unwrap();
    assert_eq!(rc, 0, "{l:?}");
    assert!(l[1].starts_with("BOB "), "{l:?}");
    // Bob, though enrolled, cannot connect; nor can MAINT, an administrator of VMSYSU only.
    let mut bob = t.session("BOB");
    for cmd in ["ACCESS MAILPOOL:BOB.INBOX B", "QUERY LIMITS MAILPOOL:"] {
        let (rc, l) = bob.cms(cmd).unwrap();
        assert_eq!(rc, 76, "{cmd}: {l:?}");
        assert_eq!(
            l,
            vec!["DMSSFS1106E BOB is not authorized to connect to file pool MAILPOOL"]
        );
    }
    let mut maint = t.session("MAINT");
    let (rc, l) = maint.cms("ENROLL USER MAINT MAILPOOL:").unwrap();
    assert_eq!(rc, 76, "{l:?}");
    check_clean(&t);
}

#[test]
fn quota_is_enforced_and_shown() {
    let t = TestSystem::ipl_with(&sfs_directory(&["BOB"]), SFS_CONFIG);
    let mut maint = t.session("MAINT");
    assert_eq!(maint.cms("ENROLL USER BOB VMSYSU: (BLOCKS 2").unwrap().0, 0);
    let mut bob = t.session("BOB");
    assert_eq!(bob.cms("ACCESS VMSYSU:BOB. B").unwrap().0, 0);
    for i in 0..2 {
        assert_eq!(
            bob.cms(&format!("EXECIO 1 DISKW F{i} DATA B (STRING {i}"))
                .unwrap()
                .0,
            0
        );
    }
    let (rc, l) = bob.cms("EXECIO 1 DISKW F2 DATA B (STRING no room").unwrap();
    assert_eq!(rc, 101, "{l:?}");
    assert_eq!(
        l,
        vec!["DMSSFS1115E File space limit exceeded for BOB: 3 blocks needed, limit 2"]
    );
    // Nothing half-written: no F2 DATA.
    let (rc, l) = bob.cms("LISTFILE * * B").unwrap();
    assert_eq!((rc, l.len()), (0, 2), "{l:?}");
    let (rc, l) = bob.cms("QUERY LIMITS").unwrap();
    assert_eq!(rc, 0);
    assert_eq!(
        l,
        vec![
            "Userid   Storage Group  4K Block Limit  4K Blocks Committed  Threshold".to_string(),
            "BOB                  2               2                2-99%        90%".to_string(),
        ]
    );
    // More blocks, and the write goes through.
    assert_eq!(maint.cms("MODIFY USER +3 FOR BOB VMSYSU:").unwrap().0, 0);
    assert_eq!(
        bob.cms("EXECIO 1 DISKW F2 DATA B (STRING room now")
            .unwrap()
            .0,
        0
    );
    check_clean(&t);
}

#[test]
fn directories_are_created_renamed_and_erased() {
    let t = TestSystem::ipl_with(&sfs_directory(&["BOB"]), SFS_CONFIG);
    let mut maint = t.session("MAINT");
    assert_eq!(maint.cms("ENROLL USER BOB").unwrap().0, 0);
    let mut bob = t.session("BOB");
    assert_eq!(bob.cms("CREATE DIRECTORY BOB.PROJ").unwrap().0, 0);
    assert_eq!(
        bob.cms("CREATE DIRECTORY BOB.PROJ.OLD (DIRCONTROL")
            .unwrap()
            .0,
        0
    );
    let (rc, l) = bob.cms("CREATE DIRECTORY BOB.PROJ").unwrap();
    assert_eq!(
        (rc, l),
        (
            70,
            vec!["DMSSFS1111E Directory VMSYSU:BOB.PROJ already exists".into()]
        )
    );
    assert_eq!(bob.cms("ACCESS BOB.PROJ.OLD D").unwrap().0, 0);
    assert_eq!(
        bob.cms("EXECIO 1 DISKW NOTE TXT D (STRING kept").unwrap().0,
        0
    );
    assert_eq!(bob.cms("RELEASE D").unwrap().0, 0);
    assert_eq!(
        bob.cms("RENAME DIRECTORY BOB.PROJ.OLD ARCHIVE").unwrap().0,
        0
    );
    assert_eq!(bob.cms("ACCESS BOB.PROJ.ARCHIVE D").unwrap().0, 0);
    assert_eq!(
        bob.cms("TYPE NOTE TXT D").unwrap(),
        (0, vec!["kept".into()])
    );
    let (rc, l) = bob.cms("ERASE DIRECTORY BOB.PROJ.ARCHIVE").unwrap();
    assert_eq!(
        (rc, l),
        (
            70,
            vec!["DMSSFS1112E Directory VMSYSU:BOB.PROJ.ARCHIVE is not empty".into()]
        )
    );
    assert_eq!(bob.cms("ERASE NOTE TXT D").unwrap().0, 0);
    assert_eq!(bob.cms("ERASE DIRECTORY BOB.PROJ.ARCHIVE").unwrap().0, 0);
    assert_eq!(bob.cms("ACCESS BOB.PROJ.ARCHIVE E").unwrap().0, 28);
    // Files cross between a minidisk and SFS; RECEIVE stores into SFS; PUNCH reads from it.
    assert_eq!(bob.cms("ACCESS BOB.PROJ C").unwrap().0, 0);
    assert_eq!(
        bob.cms("EXECIO 1 DISKW LOCAL TXT A (STRING on the minidisk")
            .unwrap()
            .0,
        0
    );
    assert_eq!(bob.cms("COPYFILE LOCAL TXT A = = C").unwrap().0, 0);
    assert_eq!(
        bob.cms("TYPE LOCAL TXT C").unwrap(),
        (0, vec!["on the minidisk".into()])
    );
    let (rc, l) = bob.cms("PUNCH LOCAL TXT C").unwrap();
    assert_eq!(rc, 0, "{l:?}");
    assert!(l[0].starts_with("PUN FILE 0001 TO  BOB"), "{l:?}");
    assert_eq!(bob.cms("CP TRANSFER PUN ALL TO BOB RDR").unwrap().0, 0);
    let (rc, l) = bob.cms("RECEIVE * COPY TXT C").unwrap();
    assert_eq!(rc, 0, "{l:?}");
    assert_eq!(
        bob.cms("TYPE COPY TXT C").unwrap(),
        (0, vec!["on the minidisk".into()])
    );
    check_clean(&t);
}

#[test]
fn bad_names_pools_and_requests_get_dms_errors() {
    let t = TestSystem::ipl_with(&sfs_directory(&["BOB"]), SFS_CONFIG);
    let mut maint = t.session("MAINT");
    assert_eq!(maint.cms("ENROLL USER BOB").unwrap().0, 0);
    assert_eq!(maint.cms("ENROLL USER MAINT").unwrap().0, 0);
    let mut bob = t.session("BOB");
    let cases: &[(&str, i32, &str)] = &[
        (
            "ACCESS BOB..X B",
            24,
            "DMSSFS1104E Invalid directory id BOB..X",
        ),
        ("ACCESS TOOLONGUSERID. B", 24, "DMSSFS1104E"),
        (
            "ACCESS BOB.A.B.C.D.E.F.G.H.I B",
            24,
            "more than 8 directory levels",
        ),
        ("ACCESS BOB.ABCDEFGHIJKLMNOPQ B", 24, "longer than 16"),
        (
            "ACCESS NOPOOL:BOB. B",
            36,
            "DMSSFS1102E File pool NOPOOL is not defined",
        ),
        ("ACCESS BAD/POOL:BOB. B", 24, "DMSSFS1101E"),
        (
            "ACCESS VMSYSU:NOSUCH. B",
            76,
            "DMSSFS1107E NOSUCH is not enrolled",
        ),
        ("CREATE DIRECTORY MAINT.STUFF", 76, "DMSSFS1109E"),
        ("ENROLL USER EVE", 76, "file pool administrators only"),
        ("GRANT AUTH MAINT. TO BOB (READ", 76, "DMSSFS1109E"),
        ("QUERY LIMITS FOR MAINT", 76, "DMSSFS1109E"),
    ];
    for (cmd, rc, text) in cases {
        let (got, l) = bob.cms(cmd).unwrap();
        assert_eq!(got, *rc, "{cmd}: {l:?}");
        assert!(l.iter().any(|x| x.contains(text)), "{cmd}: {l:?}");
    }
    assert_eq!(bob.cms("ACCESS BOB. B").unwrap().0, 0);
    let (rc, l) = bob
        .cms("EXECIO 1 DISKW TOOLONGNAME TXT B (STRING x")
        .unwrap();
    assert_eq!(rc, 24, "{l:?}");
    assert!(l[0].contains("longer than 8 characters"), "{l:?}");
    let (rc, l) = bob.cms("EXECIO 1 DISKW F T$YPE%% B (STRING x").unwrap();
    assert_eq!(rc, 24, "{l:?}");
    t.assert_healthy();
    check_clean(&t);
}
