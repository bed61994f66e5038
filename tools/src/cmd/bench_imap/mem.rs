//! Memory of a server process and all its descendants, from /proc.

use std::{collections::HashMap, fs};

use anyhow::{Context, bail};

/// Memory of a process tree.
#[derive(Debug, Clone, Copy)]
pub struct Mem {
    /// Sum of VmRSS over the processes, KiB (shared pages count once per process).
    pub rss_kib: u64,
    /// Sum of Pss (proportional set size, shared pages divided among their users), KiB; None
    /// when smaps_rollup could not be read for some process.
    pub pss_kib: Option<u64>,
    /// Processes in the tree.
    pub procs: usize,
}

fn field_kib(text: &str, name: &str) -> Option<u64> {
    text.lines()
        .find_map(|l| l.strip_prefix(name))
        .and_then(|r| r.split_ascii_whitespace().next())
        .and_then(|v| v.parse().ok())
}

/// The parent of each process.
fn parents() -> anyhow::Result<HashMap<u32, Vec<u32>>> {
    let mut kids: HashMap<u32, Vec<u32>> = HashMap::new();
    for e in fs::read_dir("/proc").context("reading /proc")? {
        let Ok(e) = e else { continue };
        let Some(pid) = e.file_name().to_str().and_then(|s| s.parse::<u32>().ok()) else {
            continue;
        };
        let Ok(stat) = fs::read_to_string(format!("/proc/{pid}/stat")) else {
            continue;
        };
        // "pid (comm) state ppid ...": comm may contain anything, so split after the last ')'.
        let Some(rest) = stat.rfind(')').map(|i| &stat[i + 1..]) else {
            continue;
        };
        if let Some(ppid) = rest
            .split_ascii_whitespace()
            .nth(1)
            .and_then(|p| p.parse().ok())
        {
            kids.entry(ppid).or_default().push(pid);
        }
    }
    Ok(kids)
}

/// The memory of `pid` and all its descendants.
pub fn tree(pid: u32) -> anyhow::Result<Mem> {
    let status = fs::read_to_string(format!("/proc/{pid}/status")).with_context(|| {
        format!("--server-pid {pid}: no such process (reading /proc/{pid}/status)")
    })?;
    let Some(root_rss) = field_kib(&status, "VmRSS:") else {
        bail!("--server-pid {pid}: /proc/{pid}/status has no VmRSS (a kernel thread or a zombie?)");
    };
    let kids = parents()?;
    let mut m = Mem {
        rss_kib: root_rss,
        pss_kib: Some(0),
        procs: 1,
    };
    let pss = |p: u32| {
        fs::read_to_string(format!("/proc/{p}/smaps_rollup"))
            .ok()
            .and_then(|t| field_kib(&t, "Pss:"))
    };
    m.pss_kib = pss(pid);
    let mut todo: Vec<u32> = kids.get(&pid).cloned().unwrap_or_default();
    while let Some(p) = todo.pop() {
        // A process that went away meanwhile is simply not counted.
        let Ok(s) = fs::read_to_string(format!("/proc/{p}/status")) else {
            continue;
        };
        let p_pss = pss(p);
        if p_pss.is_none() && !std::path::Path::new(&format!("/proc/{p}")).exists() {
            continue;
        }
        m.rss_kib += field_kib(&s, "VmRSS:").unwrap_or(0);
        m.pss_kib = match (m.pss_kib, p_pss) {
            (Some(a), Some(b)) => Some(a + b),
            _ => None,
        };
        m.procs += 1;
        todo.extend(kids.get(&p).cloned().unwrap_or_default());
    }
    Ok(m)
}

#[cfg(test)]
mod tests {
    #[test]
    fn own_tree() {
        let m = super::tree(std::process::id()).unwrap();
        assert!(m.rss_kib > 0 && m.procs >= 1);
    }
}
