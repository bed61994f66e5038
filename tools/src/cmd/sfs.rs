//! `vmimap sfs check [--system DIR] [POOL]`

use std::{path::Path, process::ExitCode};

use anyhow::bail;

/// Every pool stored in the system folder: (pool name, storage folder). A pool is a folder
/// `dasd/<server>/<POOL>/` holding a `log/` folder.
fn pools(dir: &Path) -> anyhow::Result<Vec<(String, std::path::PathBuf)>> {
    let mut out = Vec::new();
    let dasd = dir.join("dasd");
    let Ok(servers) = std::fs::read_dir(&dasd) else {
        return Ok(out);
    };
    for s in servers.flatten() {
        let Ok(items) = std::fs::read_dir(s.path()) else {
            continue;
        };
        for p in items.flatten() {
            if p.path().join("log").is_dir() {
                out.push((p.file_name().to_string_lossy().into_owned(), p.path()));
            }
        }
    }
    out.sort();
    Ok(out)
}

/// Verifies the file pools of a stopped system.
pub fn check(dir: &Path, only: Option<&str>) -> anyhow::Result<ExitCode> {
    if !dir.join("USER DIRECT").exists() {
        bail!("{} is not a system folder", dir.display());
    }
    let all = pools(dir)?;
    let chosen: Vec<_> = all
        .into_iter()
        .filter(|(n, _)| only.is_none_or(|o| n.eq_ignore_ascii_case(o.trim_end_matches(':'))))
        .collect();
    if chosen.is_empty() {
        match only {
            Some(p) => bail!("no file pool {p} in {}", dir.display()),
            None => {
                println!("no file pools in {}", dir.display());
                return Ok(ExitCode::SUCCESS);
            }
        }
    }
    let mut bad = false;
    for (name, path) in chosen {
        let r =
            vm::sfs::pool::check(&path).map_err(|e| anyhow::anyhow!("file pool {name}: {e}"))?;
        println!(
            "file pool {name}: {} users, {} directories, {} files, {} bytes verified",
            r.users, r.dirs, r.files, r.bytes
        );
        if r.problems.is_empty() {
            println!("file pool {name} is consistent");
        } else {
            bad = true;
            for p in &r.problems {
                println!("problem in {name}: {p}");
            }
        }
    }
    Ok(if bad {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}
