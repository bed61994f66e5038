//! `vmimap import` and `vmimap export`: mbox files and Maildirs in and out of a user's folders
//! in the mailstore of a stopped system (docs/import-export.md).

pub mod export;
pub mod import;
pub mod maildir;
pub mod mbox;
pub mod offline;

use indicatif::{ProgressBar, ProgressStyle};

/// A progress bar over `total` bytes, hidden with `--quiet` or when standard output is not a
/// terminal.
fn progress(total: u64, quiet: bool) -> ProgressBar {
    use std::io::IsTerminal;
    if quiet || !std::io::stdout().is_terminal() {
        return ProgressBar::hidden();
    }
    let pb = ProgressBar::new(total);
    if let Ok(style) = ProgressStyle::with_template(
        "[{elapsed_precise}] {wide_bar} {bytes}/{total_bytes} {msg} (eta {eta})",
    ) {
        pb.set_style(style);
    }
    pb
}

/// `1234567` → `1,234,567`.
fn grouped(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn grouped() {
        assert_eq!(super::grouped(0), "0");
        assert_eq!(super::grouped(999), "999");
        assert_eq!(super::grouped(1000), "1,000");
        assert_eq!(super::grouped(1234567), "1,234,567");
    }
}
