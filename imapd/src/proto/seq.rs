//! Sequence sets: message numbers or UIDs, ranges, `*`, and SEARCHRES's `$`.
//!
//! ```text
//! sequence-set = (seq-number / seq-range / "$") *("," (seq-number / seq-range))
//! seq-range    = seq-number ":" seq-number        ; either order
//! seq-number   = nz-number / "*"                  ; "*" is the largest number in use
//! ```

/// One end of a range.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SeqNum {
    /// A number.
    Num(u32),
    /// `*`: the largest number in use.
    Star,
}

/// A sequence set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SeqSet {
    /// Ranges (a single number is a range of one).
    Ranges(Vec<(SeqNum, SeqNum)>),
    /// `$`: the result of the last SEARCH with RETURN (SAVE).
    Saved,
}

impl SeqSet {
    /// Whether `n` is in the set, given the largest number in use (`*`).
    pub fn contains(&self, n: u32, max: u32) -> bool {
        match self {
            SeqSet::Saved => false,
            SeqSet::Ranges(r) => r.iter().any(|(a, b)| {
                let a = resolve(*a, max);
                let b = resolve(*b, max);
                let (lo, hi) = if a <= b { (a, b) } else { (b, a) };
                n >= lo && n <= hi
            }),
        }
    }

    /// The ranges with `*` resolved against `max`, each as (low, high).
    pub fn resolved(&self, max: u32) -> Vec<(u32, u32)> {
        match self {
            SeqSet::Saved => Vec::new(),
            SeqSet::Ranges(r) => r
                .iter()
                .map(|(a, b)| {
                    let a = resolve(*a, max);
                    let b = resolve(*b, max);
                    if a <= b { (a, b) } else { (b, a) }
                })
                .collect(),
        }
    }
}

fn resolve(n: SeqNum, max: u32) -> u32 {
    match n {
        SeqNum::Num(v) => v,
        SeqNum::Star => max,
    }
}

/// Formats numbers as a compact set (`1:3,5,7:9`), for ESEARCH and COPYUID.
pub fn compact(nums: &[u32]) -> String {
    let mut s = String::new();
    let mut i = 0;
    while i < nums.len() {
        let start = nums[i];
        let mut end = start;
        while i + 1 < nums.len() && nums[i + 1] == end.wrapping_add(1) {
            i += 1;
            end = nums[i];
        }
        if !s.is_empty() {
            s.push(',');
        }
        if start == end {
            s.push_str(&start.to_string());
        } else {
            s.push_str(&format!("{start}:{end}"));
        }
        i += 1;
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_and_compact() {
        let s = SeqSet::Ranges(vec![
            (SeqNum::Num(5), SeqNum::Num(2)),
            (SeqNum::Star, SeqNum::Star),
        ]);
        assert!(s.contains(3, 10) && s.contains(10, 10) && !s.contains(6, 10));
        assert_eq!(compact(&[1, 2, 3, 5, 7, 8]), "1:3,5,7:8");
        assert_eq!(compact(&[]), "");
    }
}
