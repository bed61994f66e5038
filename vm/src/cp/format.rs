//! Column-exact response formats shared by several commands (cp-cms.md §2.7, §2.8, §2.10).

use spool::{Queue, SpoolFile};

use crate::clock::TimeZone;

/// The 4-character record count of a FILE SENT line: `nnnn`, or `nnnK`/`nnnM` past 9999.
pub fn recs_field(n: u32) -> String {
    if n <= 9999 {
        format!("{n:04}")
    } else if n < 1_000_000 {
        format!("{:03}K", (n / 1000).min(999))
    } else {
        format!("{:03}M", (n / 1_000_000).min(999))
    }
}

/// Which side of a transfer a FILE SENT line is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// `… SENT TO   user … AS  id` (the sender).
    To,
    /// `… SENT FROM user … WAS id` (the receiver).
    From,
}

/// One `… FILE nnnn SENT TO/FROM …` line.
///
/// `own` is the queue and spoolid in the viewer's space, `other_*` the other party's.
pub fn sent_line(
    side: Side,
    own_queue: &str,
    own_id: u16,
    other_user: &str,
    other_queue: &str,
    other_id: u16,
    f: &SpoolFile,
) -> String {
    let (dir, as_was) = match side {
        Side::To => ("TO  ", "AS "),
        Side::From => ("FROM", "WAS"),
    };
    format!(
        "{own_queue} FILE {own_id:04} SENT {dir} {other_user:<8} {other_queue} {as_was} {other_id:04} RECS {} CPY  {:03} {} {:<6} {}",
        recs_field(f.records),
        f.attrs.copies,
        f.attrs.class,
        if f.attrs.hold.user { "HOLD" } else { "NOHOLD" },
        if f.attrs.keep { "KEEP" } else { "NOKEEP" },
    )
}

/// Header of the basic QUERY RDR/PRT/PUN form.
pub const QUERY_HEADER: &str = "ORIGINID FILE CLASS RECORDS  CPY HOLD FORM     DEST     KEEP MSG";
/// Header of the ALL form with short dates (exactly 76 characters).
pub const QUERY_ALL_HEADER: &str =
    "ORIGINID FILE CLASS RECORDS  CPY HOLD DATE  TIME     NAME      TYPE     DIST";
/// Header of the ALL form with 10-character dates (FULLDATE, ISODATE).
pub const QUERY_ALL_HEADER_LONG: &str =
    "ORIGINID FILE CLASS RECORDS  CPY HOLD DATE       TIME     NAME      TYPE     DIST";

/// Date style of the ALL form.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DateStyle {
    /// `mm/dd`
    Short,
    /// `mm/dd/yyyy`
    Full,
    /// `yyyy-mm-dd`
    Iso,
}

fn first_col(f: &SpoolFile, owner_col: bool) -> String {
    if owner_col {
        f.owner.padded()
    } else {
        f.origin.padded()
    }
}

fn name8(s: &str) -> String {
    let t: String = s.chars().take(8).collect();
    format!("{t:<8}")
}

/// A row of the basic form: originid, spoolid, class, device, records, copies, hold, form, dest,
/// keep, msg at the columns of cp-cms.md §2.8.
pub fn query_row(f: &SpoolFile, owner_col: bool) -> String {
    format!(
        "{} {:04} {} {} {:08} {:03} {} {} {} {:<4} {}",
        first_col(f, owner_col),
        f.spoolid,
        f.attrs.class,
        f.origin_dev.name(),
        f.records,
        f.attrs.copies,
        f.attrs.hold.column(),
        name8(&f.attrs.form),
        name8(&f.attrs.dest),
        if f.attrs.keep { "ON" } else { "OFF" },
        if f.attrs.msg { "ON" } else { "OFF" },
    )
}

/// A row of the ALL form: the date, time, name, type and distribution code replace form and dest.
pub fn query_all_row(f: &SpoolFile, owner_col: bool, tz: &TimeZone, style: DateStyle) -> String {
    let date = match style {
        DateStyle::Short => tz.mmdd(f.created),
        DateStyle::Full => tz.fulldate(f.created),
        DateStyle::Iso => tz.isodate(f.created),
    };
    format!(
        "{} {:04} {} {} {:08} {:03} {} {} {} {}  {} {}",
        first_col(f, owner_col),
        f.spoolid,
        f.attrs.class,
        f.origin_dev.name(),
        f.records,
        f.attrs.copies,
        f.attrs.hold.column(),
        date,
        tz.hhmmss(f.created),
        name8(&f.attrs.fname),
        name8(&f.attrs.ftype),
        name8(&f.attrs.dist),
    )
}

/// `NO RDR FILES` and friends.
pub fn no_files(q: Queue) -> String {
    format!("NO {} FILES", q.name())
}

/// The `FILES: nnnn RDR, nnnn PRT, nnnn PUN` line (QUERY FILES and LOGON).
pub fn files_line(rdr: usize, prt: usize, pun: usize) -> String {
    let n = |c: usize| {
        if c == 0 {
            "  NO".to_string()
        } else {
            format!("{:04}", c.min(9999))
        }
    };
    format!("FILES: {} RDR, {} PRT, {} PUN", n(rdr), n(prt), n(pun))
}

/// `nnnnnnn FILE(S) verb` / `NO FILES verb` (PURGE, CHANGE, ORDER, TRANSFER).
pub fn count_line(n: usize, verb: &str) -> String {
    match n {
        0 => format!("NO FILES {verb}"),
        1 => format!("{n:07} FILE  {verb}"),
        _ => format!("{n:07} FILES {verb}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use spool::{Class, DataRef, DevType, FileAttrs, UserId};

    fn file() -> SpoolFile {
        let mut attrs = FileAttrs::with_class(Class::A, "UBUNTU");
        attrs.fname = "t".into();
        attrs.ftype = "txt".into();
        SpoolFile {
            sfid: 1,
            owner: UserId::parse("MAINT").unwrap(),
            queue: Queue::Rdr,
            spoolid: 1,
            origin: UserId::parse("UBUNTU").unwrap(),
            origin_dev: DevType::Pun,
            prev: None,
            attrs,
            created: 1718886896, // 2024-06-20 12:34:56 UTC
            records: 1,
            order: 1,
            data: DataRef::default(),
        }
    }

    #[test]
    fn all_form_is_column_exact() {
        assert_eq!(QUERY_ALL_HEADER.len(), 76);
        let row = query_all_row(&file(), false, &TimeZone::default(), DateStyle::Short);
        assert_eq!(
            row,
            "UBUNTU   0001 A PUN 00000001 001 NONE 06/20 12:34:56 t         txt      UBUNTU  "
        );
        assert_eq!(row.len(), 80);
        // The SMAPI parser's slices.
        assert_eq!(&row[0..8], "UBUNTU  ");
        assert_eq!(&row[9..13], "0001");
        assert_eq!(&row[14..15], "A");
        assert_eq!(&row[20..28], "00000001");
        assert_eq!(&row[29..32], "001");
        assert_eq!(&row[33..37], "NONE");
        assert_eq!(&row[38..43], "06/20");
        assert_eq!(&row[44..52], "12:34:56");
        assert_eq!(row[53..62].trim(), "t");
        assert_eq!(row[63..71].trim(), "txt");
        assert_eq!(row[72..80].trim(), "UBUNTU");
    }

    #[test]
    fn basic_form_columns() {
        let row = query_row(&file(), false);
        assert_eq!(
            row,
            "UBUNTU   0001 A PUN 00000001 001 NONE STANDARD OFF      OFF  OFF"
        );
        assert_eq!(QUERY_HEADER.find("KEEP"), row.find("OFF  OFF"));
    }

    #[test]
    fn sent_lines_match_the_transcripts() {
        let mut f = file();
        f.records = 20;
        f.attrs.class = Class::new('0').unwrap();
        assert_eq!(
            sent_line(Side::To, "PUN", 21, "DIRMAINT", "RDR", 51, &f),
            "PUN FILE 0021 SENT TO   DIRMAINT RDR AS  0051 RECS 0020 CPY  001 0 NOHOLD NOKEEP"
        );
        f.records = 18;
        f.attrs.class = Class::T;
        assert_eq!(
            sent_line(Side::From, "RDR", 244, "MIKEMAC", "CON", 244, &f),
            "RDR FILE 0244 SENT FROM MIKEMAC  CON WAS 0244 RECS 0018 CPY  001 T NOHOLD NOKEEP"
        );
        assert_eq!(recs_field(12345), "012K");
    }

    #[test]
    fn counts_and_files_line() {
        assert_eq!(count_line(1, "PURGED"), "0000001 FILE  PURGED");
        assert_eq!(count_line(0, "PURGED"), "NO FILES PURGED");
        assert_eq!(files_line(3, 0, 0), "FILES: 0003 RDR,   NO PRT,   NO PUN");
    }
}
