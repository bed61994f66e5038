//! The result table (stdout) and latency statistics.

use std::time::Duration;

/// One figure of the benchmark.
#[derive(Debug, Clone)]
pub struct Row {
    pub what: String,
    pub value: String,
    pub unit: String,
    pub note: String,
}

/// Latency of one command of the mix: (command, median, p99, number of commands).
pub type OpStat = (String, Duration, Duration, usize);

/// The figures collected so far, printed as a table at the end.
#[derive(Debug, Default)]
pub struct Report {
    pub header: Vec<String>,
    rows: Vec<Row>,
    /// Per-command latency breakdown of the mixed workload: (clients, [(command, median, p99, n)]).
    pub breakdown: Vec<(usize, Vec<OpStat>)>,
    pub failures: usize,
}

/// A number with a sensible number of decimals.
pub fn num(v: f64) -> String {
    if v.abs() >= 100.0 {
        format!("{v:.0}")
    } else if v.abs() >= 10.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.2}")
    }
}

/// Milliseconds.
pub fn ms(d: Duration) -> String {
    num(d.as_secs_f64() * 1e3)
}

/// The value at quantile `q` (nearest rank) of sorted durations.
pub fn quantile(sorted: &[Duration], q: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1]
}

impl Report {
    /// Adds a figure and shows it on stderr at once.
    pub fn add(
        &mut self,
        what: impl Into<String>,
        value: String,
        unit: &str,
        note: impl Into<String>,
    ) {
        let r = Row {
            what: what.into(),
            value,
            unit: unit.to_string(),
            note: note.into(),
        };
        eprintln!("  => {}: {} {}  {}", r.what, r.value, r.unit, r.note);
        self.rows.push(r);
    }

    /// Records a part that could not be measured.
    pub fn fail(&mut self, what: impl Into<String>, e: &anyhow::Error) {
        let what = what.into();
        eprintln!("vmimap bench imap: {what}: {e:#}");
        self.failures += 1;
        self.rows.push(Row {
            what,
            value: "FAILED".into(),
            unit: String::new(),
            note: format!("{e:#}"),
        });
    }

    /// Prints the table to stdout.
    pub fn print(&self) {
        for h in &self.header {
            println!("{h}");
        }
        println!();
        let w = self
            .rows
            .iter()
            .map(|r| r.what.chars().count())
            .max()
            .unwrap_or(0)
            .max(11);
        println!(
            "{:<w$}  {:>10}  {:<8}  note",
            "measurement", "value", "unit"
        );
        println!("{}", "-".repeat(w + 2 + 10 + 2 + 8 + 2 + 40));
        for r in &self.rows {
            println!("{:<w$}  {:>10}  {:<8}  {}", r.what, r.value, r.unit, r.note);
        }
        if !self.breakdown.is_empty() {
            println!();
            println!("mixed workload by command: median / p99 latency in ms (number of commands)");
            let names: Vec<&String> = self.breakdown[0].1.iter().map(|(n, ..)| n).collect();
            let nw = names.iter().map(|n| n.len()).max().unwrap_or(0);
            let mut head = format!("{:<nw$}", "command");
            for (clients, _) in &self.breakdown {
                head.push_str(&format!("  {:>26}", format!("{clients} client(s)")));
            }
            println!("{head}");
            for (i, name) in names.iter().enumerate() {
                let mut line = format!("{name:<nw$}");
                for (_, ops) in &self.breakdown {
                    let (_, med, p99, n) = &ops[i];
                    line.push_str(&format!(
                        "  {:>26}",
                        format!("{} / {} ({n})", ms(*med), ms(*p99))
                    ));
                }
                println!("{line}");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles() {
        let v: Vec<Duration> = (1..=100).map(Duration::from_millis).collect();
        assert_eq!(quantile(&v, 0.5), Duration::from_millis(50));
        assert_eq!(quantile(&v, 0.99), Duration::from_millis(99));
        assert_eq!(quantile(&v[..1], 0.99), Duration::from_millis(1));
    }
}
