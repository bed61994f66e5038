//! The mailstore, kept in the SFS mailstore pool (`MAILPOOL:` by default), of which the IMAP
//! machine is the only administrator and the only user that may connect.
//!
//! ```text
//! MAILPOOL:USER.                     the user's file space (ENROLL USER)
//!   FOLDERS  IMAPLIST                the folder list (see `folders`)
//!   F0000001.                        a folder's directory (INBOX, Sent, …)
//!     INDEX    IMAPIDX               its index (see `index`)
//!     00000001 MAIL                  one file per message, named by UID in hex
//! ```

pub mod error;
pub mod folder;
pub mod folders;
pub mod index;
pub mod names;
pub mod records;
pub mod user;

pub use error::StoreError;
pub use folder::{FlagMode, Folder, FolderState, Msg, NewMsg};
pub use user::{Mailstore, UserStore};
