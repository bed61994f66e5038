//! `vmimap`: IPL and operate a vmimap system from the host.

mod client;
mod cmd;
mod registry;

use std::{path::PathBuf, process::ExitCode};

use clap::{Parser, Subcommand};

/// A service-level z/VM with the VM IMAP server world in it.
#[derive(Debug, Parser)]
#[command(name = "vmimap", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// Where the system folder is: `--system DIR`, else `$VMIMAP_SYSTEM`, else `./vmsys`.
#[derive(Debug, clap::Args, Clone)]
struct SystemArg {
    /// The system folder.
    #[arg(
        long,
        value_name = "DIR",
        env = "VMIMAP_SYSTEM",
        default_value = "vmsys"
    )]
    system: PathBuf,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// IPL the system (creating the folder with working defaults on first use).
    Ipl {
        #[command(flatten)]
        sys: SystemArg,
        /// Return once the system is ready and leave it running in the background.
        #[arg(long)]
        detach: bool,
        /// Internal: the background process started by --detach.
        #[arg(long, hide = true)]
        child: bool,
    },
    /// Shut the running system down in an orderly way.
    Shutdown {
        #[command(flatten)]
        sys: SystemArg,
    },
    /// A line-mode terminal: LOGON prompt, or logged on as --user (operator trust).
    Console {
        #[command(flatten)]
        sys: SystemArg,
        /// Log on (or reconnect) as this user without a password.
        #[arg(long)]
        user: Option<String>,
    },
    /// One CP command as a user; prints CP's response; the exit status is CP's return code.
    Cp {
        #[command(flatten)]
        sys: SystemArg,
        /// Issue the command as this user.
        #[arg(long)]
        user: String,
        /// The CP command.
        #[arg(required = true, trailing_var_arg = true, allow_hyphen_values = true)]
        command: Vec<String>,
    },
    /// Punch a host text file as 80-byte cards to a user's reader.
    Punch {
        #[command(flatten)]
        sys: SystemArg,
        /// Punch as this user.
        #[arg(long)]
        user: String,
        /// Send to this user's reader (default: the punching user's own).
        #[arg(long)]
        to: Option<String>,
        /// Spool class.
        #[arg(long)]
        class: Option<String>,
        /// Do not punch a `:READ` header card first.
        #[arg(long)]
        noheader: bool,
        /// The host file.
        file: PathBuf,
    },
    /// The IMAP server's administrator interface (SMSG IMAP as an administrator).
    Admin {
        #[command(flatten)]
        a: AdminArgs,
        #[command(subcommand)]
        what: AdminCmd,
    },
    /// Offline checks of the spool.
    Spool {
        #[command(subcommand)]
        what: SpoolCmd,
    },
    /// Offline checks of the SFS file pools.
    Sfs {
        #[command(subcommand)]
        what: SfsCmd,
    },
    /// Load an mbox file or a Maildir into a user's folders (the system must be shut down).
    Import {
        #[command(flatten)]
        sys: SystemArg,
        /// The enrolled user.
        #[arg(long)]
        user: String,
        /// The folder (default INBOX; a Maildir's subfolders go below it, or beside INBOX).
        #[arg(long)]
        folder: Option<String>,
        /// No progress bar.
        #[arg(long, short)]
        quiet: bool,
        /// The mbox file or Maildir.
        path: PathBuf,
    },
    /// Write a user's folder to a new mbox file or Maildir (the system must be shut down).
    Export {
        #[command(flatten)]
        sys: SystemArg,
        /// The enrolled user.
        #[arg(long)]
        user: String,
        /// The folder.
        #[arg(long)]
        folder: String,
        /// mbox (mboxrd) or maildir.
        #[arg(long, value_enum)]
        format: cmd::mailio::export::Format,
        /// No progress bar.
        #[arg(long, short)]
        quiet: bool,
        /// The new mbox file or Maildir.
        path: PathBuf,
    },
    /// The folder indexes of a stopped system's mailstore: check, migrate to the current
    /// version, dump (docs/index.md).
    Index(cmd::index::IndexArgs),
    /// Benchmarks.
    Bench {
        #[command(subcommand)]
        what: BenchCmd,
    },
}

/// Who sends an administrator request, and to which system (before or after the request).
#[derive(Debug, clap::Args, Clone)]
struct AdminArgs {
    /// The system folder.
    #[arg(
        long,
        value_name = "DIR",
        env = "VMIMAP_SYSTEM",
        default_value = "vmsys",
        global = true
    )]
    system: PathBuf,
    /// Send as this administrator (default: the first ADMIN in IMAP CONFIG).
    #[arg(long = "as", value_name = "USERID", global = true)]
    as_user: Option<String>,
}

#[derive(Debug, Subcommand)]
enum AdminCmd {
    /// Enrol a directory user in the mailstore (INBOX, Sent, Drafts, Trash, Junk).
    Enroll {
        /// The userid.
        user: String,
        /// 4K blocks of space (default: IMAP CONFIG's ENROLLBLOCKS).
        blocks: Option<u64>,
    },
    /// Delete a user's mail and folders.
    Delete {
        /// The userid.
        user: String,
    },
    /// The enrolled users with their space (QUERY USERS).
    List,
    /// QUERY USERS, QUERY CONNECTIONS or QUERY userid.
    Query {
        /// USERS, CONNECTIONS or a userid.
        what: String,
    },
    /// Change a user's space.
    Quota {
        /// The userid.
        user: String,
        /// 4K blocks.
        blocks: u64,
    },
    /// Log each IMAP command on the server's console (ON) or stop (OFF).
    Trace {
        /// ON or OFF.
        #[arg(value_parser = ["on", "off", "ON", "OFF"])]
        setting: String,
    },
    /// End the IMAP server (TCPIP restarts it).
    Shutdown,
}

impl AdminCmd {
    /// The request text.
    fn request(&self) -> String {
        match self {
            AdminCmd::Enroll { user, blocks } => match blocks {
                Some(b) => format!("ENROLL {user} {b}"),
                None => format!("ENROLL {user}"),
            },
            AdminCmd::Delete { user } => format!("DELETE {user}"),
            AdminCmd::List => "QUERY USERS".to_string(),
            AdminCmd::Query { what } => format!("QUERY {what}"),
            AdminCmd::Quota { user, blocks } => format!("QUOTA {user} {blocks}"),
            AdminCmd::Trace { setting } => format!("TRACE {setting}"),
            AdminCmd::Shutdown => "SHUTDOWN".to_string(),
        }
    }
}

#[derive(Debug, Subcommand)]
enum SpoolCmd {
    /// Verify the spool of a system that is not running; changes nothing.
    Check {
        #[command(flatten)]
        sys: SystemArg,
    },
}

#[derive(Debug, Subcommand)]
enum SfsCmd {
    /// Verify the file pools (or one) of a system that is not running; changes nothing.
    Check {
        #[command(flatten)]
        sys: SystemArg,
        /// Only this pool.
        pool: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
enum BenchCmd {
    /// Durable SFS file creates with 1 and 8 writers, a 100 MiB read, IUCV round trips.
    Sfs {
        /// Files created in each run.
        #[arg(long, default_value_t = 4000)]
        files: usize,
        /// IUCV round trips.
        #[arg(long, default_value_t = 200000)]
        trips: usize,
    },
    /// Durable CLOSE rate with 1 and 8 punchers, and QUERY RDR * ALL over a full reader.
    Spool {
        /// Closes per puncher count.
        #[arg(long, default_value_t = 2000)]
        closes: usize,
        /// Files in the reader for the QUERY timing (at most 9999: spoolids are per owner).
        #[arg(long, default_value_t = 9999)]
        reader_files: usize,
    },
    /// IMAP benchmark against any IMAP server: mixed workload, APPEND, big-mailbox open, idle memory.
    Imap(Box<cmd::bench_imap::Opts>),
    /// Mail delivery from SMTP to an IMAP INBOX: end-to-end rate and 250-to-EXISTS latency.
    Smtp(cmd::bench_smtp::Opts),
}

/// Fixes glibc's threshold above which allocations are mapped (and unmapped when freed).
///
/// By default glibc raises the threshold to the size of any mapped block that is freed (up to
/// 32 MiB), after which such blocks come from per-thread arenas and are kept there when freed.
/// A server that now and then handles one large buffer (a big message, a password hash's 19 MiB
/// working memory) would then keep that much per thread for good; with a fixed threshold large
/// buffers go back to the system when they are freed.
#[allow(unsafe_code)]
fn fix_malloc_threshold() {
    // SAFETY: mallopt only changes allocator tuning; it is called before any other thread
    // exists, with a valid parameter and value.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 256 * 1024);
    }
}

fn main() -> ExitCode {
    fix_malloc_threshold();
    let cli = Cli::parse();
    let res = match cli.command {
        Command::Ipl { sys, detach, child } => cmd::ipl::run(&sys.system, detach, child),
        Command::Shutdown { sys } => cmd::shutdown::run(&sys.system),
        Command::Console { sys, user } => cmd::console::run(&sys.system, user),
        Command::Cp { sys, user, command } => cmd::cp::run(&sys.system, &user, &command.join(" ")),
        Command::Punch {
            sys,
            user,
            to,
            class,
            noheader,
            file,
        } => cmd::punch::run(&sys.system, &user, to, class, noheader, &file),
        Command::Admin { a, what } => {
            cmd::admin::run(&a.system, a.as_user.as_deref(), &what.request())
        }
        Command::Spool {
            what: SpoolCmd::Check { sys },
        } => cmd::spool::check(&sys.system),
        Command::Sfs {
            what: SfsCmd::Check { sys, pool },
        } => cmd::sfs::check(&sys.system, pool.as_deref()),
        Command::Import {
            sys,
            user,
            folder,
            quiet,
            path,
        } => cmd::mailio::import::run(
            &sys.system,
            cmd::mailio::import::Opts {
                user,
                path,
                folder,
                quiet,
            },
        ),
        Command::Export {
            sys,
            user,
            folder,
            format,
            quiet,
            path,
        } => cmd::mailio::export::run(
            &sys.system,
            cmd::mailio::export::Opts {
                user,
                folder,
                format,
                path,
                quiet,
            },
        ),
        Command::Index(a) => cmd::index::run(a),
        Command::Bench {
            what:
                BenchCmd::Spool {
                    closes,
                    reader_files,
                },
        } => cmd::bench::spool(closes, reader_files),
        Command::Bench {
            what: BenchCmd::Sfs { files, trips },
        } => cmd::bench_sfs::run(files, trips),
        Command::Bench {
            what: BenchCmd::Imap(o),
        } => cmd::bench_imap::run(*o),
        Command::Bench {
            what: BenchCmd::Smtp(o),
        } => cmd::bench_smtp::run(o),
    };
    match res {
        Ok(code) => code,
        Err(e) => {
            eprintln!("vmimap: {e:#}");
            ExitCode::from(1)
        }
    }
}
