//! The folder list: one SFS file per user (`FOLDERS IMAPLIST` in the user's top directory) of
//! variable-length records, replayed in order.
//!
//! ```text
//! list      = header *change
//! header    = "IMAPFLDS" version:u16              ; version 1
//! change    = "C" id:u32 uidvalidity:u32 special:u8 name:str    ; a folder is created
//!           / "R" id:u32 name:str                              ; renamed
//!           / "D" id:u32                                       ; deleted
//!           / "S" name:str / "U" name:str                      ; (un)subscribed
//! str       = length:u16 UTF-8
//! ```
//!
//! Each folder's directory is named from its id (`F0000001`), never from its name, so names
//! cannot collide with SFS naming rules and a rename touches only this list.

use std::collections::{BTreeMap, BTreeSet};

use super::records::{Bad, Fields, Rec};

/// File name and type of the folder list.
pub const LIST_FILE: (&str, &str) = ("FOLDERS", "IMAPLIST");

/// The list's magic.
pub const MAGIC: &[u8; 8] = b"IMAPFLDS";

/// The list's format version.
pub const VERSION: u16 = 1;

/// SPECIAL-USE attributes (RFC 6154), as bits.
pub mod special {
    /// `\All`
    pub const ALL: u8 = 1;
    /// `\Archive`
    pub const ARCHIVE: u8 = 2;
    /// `\Drafts`
    pub const DRAFTS: u8 = 4;
    /// `\Flagged`
    pub const FLAGGED: u8 = 8;
    /// `\Junk`
    pub const JUNK: u8 = 16;
    /// `\Sent`
    pub const SENT: u8 = 32;
    /// `\Trash`
    pub const TRASH: u8 = 64;

    /// The attribute names of a bit set.
    pub fn names(bits: u8) -> Vec<&'static str> {
        [
            (ALL, "\\All"),
            (ARCHIVE, "\\Archive"),
            (DRAFTS, "\\Drafts"),
            (FLAGGED, "\\Flagged"),
            (JUNK, "\\Junk"),
            (SENT, "\\Sent"),
            (TRASH, "\\Trash"),
        ]
        .into_iter()
        .filter(|(b, _)| bits & b != 0)
        .map(|(_, n)| n)
        .collect()
    }
}

/// The folders enrolment creates, with their special uses.
pub const DEFAULT_FOLDERS: &[(&str, u8)] = &[
    ("INBOX", 0),
    ("Sent", special::SENT),
    ("Drafts", special::DRAFTS),
    ("Trash", special::TRASH),
    ("Junk", special::JUNK),
];

/// One folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FolderEntry {
    /// Its number (its directory is [`dir_name`] of it).
    pub id: u32,
    /// Its name (see `names`).
    pub name: String,
    /// UIDVALIDITY.
    pub uidvalidity: u32,
    /// SPECIAL-USE bits.
    pub special: u8,
}

/// The directory of folder `id`.
pub fn dir_name(id: u32) -> String {
    format!("F{id:07}")
}

/// A user's folders and subscriptions.
#[derive(Debug, Clone, Default)]
pub struct FolderList {
    /// Folders by name.
    pub folders: BTreeMap<String, FolderEntry>,
    /// Subscribed names (they need not exist).
    pub subscribed: BTreeSet<String>,
    /// Records in the file (for compaction).
    pub records: u64,
    next_id: u32,
    last_uidvalidity: u32,
}

impl FolderList {
    /// The header record.
    pub fn header() -> Vec<u8> {
        Rec(MAGIC.to_vec()).u16(VERSION).done()
    }

    /// Reads the list from its records.
    pub fn decode(records: &[Vec<u8>]) -> Result<FolderList, Bad> {
        let (h, rest) = records
            .split_first()
            .ok_or_else(|| Bad("the folder list is empty".into()))?;
        let mut f = Fields::new(h);
        if f.bytes(8).ok() != Some(&MAGIC[..]) {
            return Err(Bad("the folder list has no IMAPFLDS header".into()));
        }
        let v = f.u16()?;
        if v != VERSION {
            return Err(Bad(format!("folder list version {v} is not supported")));
        }
        let mut l = FolderList {
            next_id: 1,
            ..Default::default()
        };
        for r in rest {
            l.apply(r)?;
        }
        l.records = records.len() as u64;
        Ok(l)
    }

    /// Applies one change record (read back, or just committed).
    pub fn apply(&mut self, r: &[u8]) -> Result<(), Bad> {
        let mut f = Fields::new(r);
        match f.u8()? {
            b'C' => {
                let id = f.u32()?;
                let uidvalidity = f.u32()?;
                let special = f.u8()?;
                let name = f.str()?;
                self.next_id = self.next_id.max(id + 1);
                self.last_uidvalidity = self.last_uidvalidity.max(uidvalidity);
                self.folders.insert(
                    name.clone(),
                    FolderEntry {
                        id,
                        name,
                        uidvalidity,
                        special,
                    },
                );
            }
            b'R' => {
                let id = f.u32()?;
                let name = f.str()?;
                let old = self
                    .folders
                    .iter()
                    .find(|(_, e)| e.id == id)
                    .map(|(n, _)| n.clone());
                if let Some(old) = old
                    && let Some(mut e) = self.folders.remove(&old)
                {
                    e.name = name.clone();
                    self.folders.insert(name, e);
                }
            }
            b'D' => {
                let id = f.u32()?;
                self.folders.retain(|_, e| e.id != id);
            }
            b'S' => {
                self.subscribed.insert(f.str()?);
            }
            b'U' => {
                let n = f.str()?;
                self.subscribed.remove(&n);
            }
            k => return Err(Bad(format!("unknown folder list record kind {k:#04x}"))),
        }
        self.records += 1;
        Ok(())
    }

    /// The folder named `name`.
    pub fn get(&self, name: &str) -> Option<&FolderEntry> {
        self.folders.get(name)
    }

    /// A number for a new folder.
    pub fn new_id(&mut self) -> u32 {
        let id = self.next_id.max(1);
        self.next_id = id + 1;
        id
    }

    /// A UIDVALIDITY for a new folder: the time in seconds, but always above every earlier one of
    /// this user's, so a folder deleted and created again under the same name in the same second
    /// still gets a new one.
    pub fn new_uidvalidity(&mut self, now: u32) -> u32 {
        let v = now.max(self.last_uidvalidity.saturating_add(1)).max(1);
        self.last_uidvalidity = v;
        v
    }

    /// Record: create.
    pub fn rec_create(e: &FolderEntry) -> Vec<u8> {
        Rec::kind(b'C')
            .u32(e.id)
            .u32(e.uidvalidity)
            .u8(e.special)
            .str(&e.name)
            .done()
    }

    /// Record: rename.
    pub fn rec_rename(id: u32, name: &str) -> Vec<u8> {
        Rec::kind(b'R').u32(id).str(name).done()
    }

    /// Record: delete.
    pub fn rec_delete(id: u32) -> Vec<u8> {
        Rec::kind(b'D').u32(id).done()
    }

    /// Record: subscribe or unsubscribe.
    pub fn rec_subscribe(name: &str, on: bool) -> Vec<u8> {
        Rec::kind(if on { b'S' } else { b'U' }).str(name).done()
    }

    /// The whole list as fresh records (header first), for a rewrite.
    pub fn snapshot(&self) -> Vec<Vec<u8>> {
        let mut v = vec![Self::header()];
        let mut es: Vec<&FolderEntry> = self.folders.values().collect();
        es.sort_by_key(|e| e.id);
        v.extend(es.into_iter().map(Self::rec_create));
        v.extend(self.subscribed.iter().map(|n| Self::rec_subscribe(n, true)));
        v
    }

    /// Whether the file has grown enough past its content to be worth rewriting.
    pub fn wants_compaction(&self) -> bool {
        self.records > 2 * (self.folders.len() + self.subscribed.len()) as u64 + 64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replay() {
        let mut l = FolderList::decode(&[FolderList::header()]).unwrap();
        let id = l.new_id();
        let uv = l.new_uidvalidity(1000);
        let e = FolderEntry {
            id,
            name: "INBOX".into(),
            uidvalidity: uv,
            special: 0,
        };
        let mut recs = vec![FolderList::header(), FolderList::rec_create(&e)];
        let e2 = FolderEntry {
            id: 2,
            name: "Work".into(),
            uidvalidity: l.new_uidvalidity(1000),
            special: special::SENT,
        };
        recs.push(FolderList::rec_create(&e2));
        recs.push(FolderList::rec_rename(2, "Play"));
        recs.push(FolderList::rec_subscribe("Play", true));
        recs.push(FolderList::rec_subscribe("Gone", true));
        recs.push(FolderList::rec_subscribe("Gone", false));
        let l = FolderList::decode(&recs).unwrap();
        assert_eq!(l.folders.len(), 2);
        assert_eq!(l.get("Play").unwrap().uidvalidity, 1001);
        assert!(l.get("Work").is_none());
        assert_eq!(l.subscribed.iter().collect::<Vec<_>>(), vec!["Play"]);
        let snap = FolderList::decode(&l.snapshot()).unwrap();
        assert_eq!(snap.folders, l.folders);
        let mut l2 = snap;
        assert_eq!(l2.new_id(), 3);
        assert!(l2.new_uidvalidity(5) > 1001);
        let mut bad = recs.clone();
        bad[0][9] = 9;
        assert!(FolderList::decode(&bad).is_err());
    }
}
