//! The system clock as CP displays it: in the time zone of SYSTEM CONFIG, with its label.

use chrono::{DateTime, Datelike, FixedOffset, TimeZone as _, Timelike, Utc};

/// The system's time zone: a label (`UTC`, `EST`…) and an offset east of UTC in seconds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimeZone {
    /// Label shown after times, e.g. `UTC`.
    pub label: String,
    /// Offset east of UTC, in seconds.
    pub east_secs: i32,
}

impl Default for TimeZone {
    fn default() -> Self {
        TimeZone {
            label: "UTC".into(),
            east_secs: 0,
        }
    }
}

/// A point in time, seconds since the Unix epoch.
pub type Epoch = i64;

/// The current time in seconds since the epoch.
pub fn now() -> Epoch {
    Utc::now().timestamp()
}

impl TimeZone {
    /// `t` in this zone.
    pub fn local(&self, t: Epoch) -> DateTime<FixedOffset> {
        let off =
            FixedOffset::east_opt(self.east_secs).unwrap_or(FixedOffset::east_opt(0).unwrap());
        off.timestamp_opt(t, 0)
            .single()
            .unwrap_or_else(|| off.timestamp_opt(0, 0).unwrap())
    }

    /// `hh:mm:ss ZONE WEEKDAY mm/dd/yy`, as in `LOGON AT …` and `TIME IS …`.
    pub fn stamp(&self, t: Epoch) -> String {
        let d = self.local(t);
        let weekday = match d.weekday() {
            chrono::Weekday::Mon => "MONDAY",
            chrono::Weekday::Tue => "TUESDAY",
            chrono::Weekday::Wed => "WEDNESDAY",
            chrono::Weekday::Thu => "THURSDAY",
            chrono::Weekday::Fri => "FRIDAY",
            chrono::Weekday::Sat => "SATURDAY",
            chrono::Weekday::Sun => "SUNDAY",
        };
        format!(
            "{} {} {} {}",
            self.hhmmss(t),
            self.label,
            weekday,
            self.mmddyy(t)
        )
    }

    /// `hh:mm:ss`
    pub fn hhmmss(&self, t: Epoch) -> String {
        let d = self.local(t);
        format!("{:02}:{:02}:{:02}", d.hour(), d.minute(), d.second())
    }

    /// `hh:mm`
    pub fn hhmm(&self, t: Epoch) -> String {
        let d = self.local(t);
        format!("{:02}:{:02}", d.hour(), d.minute())
    }

    /// `mm/dd`
    pub fn mmdd(&self, t: Epoch) -> String {
        let d = self.local(t);
        format!("{:02}/{:02}", d.month(), d.day())
    }

    /// `mm/dd/yy`
    pub fn mmddyy(&self, t: Epoch) -> String {
        let d = self.local(t);
        format!("{:02}/{:02}/{:02}", d.month(), d.day(), d.year() % 100)
    }

    /// `mm/dd/yyyy`
    pub fn fulldate(&self, t: Epoch) -> String {
        let d = self.local(t);
        format!("{:02}/{:02}/{:04}", d.month(), d.day(), d.year())
    }

    /// `yyyy-mm-dd`
    pub fn isodate(&self, t: Epoch) -> String {
        let d = self.local(t);
        format!("{:04}-{:02}-{:02}", d.year(), d.month(), d.day())
    }
}

/// `hh:mm:ss` of a duration in seconds (CONNECT= on LOGOFF).
pub fn duration(secs: i64) -> String {
    let s = secs.max(0);
    format!("{:02}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats() {
        let tz = TimeZone {
            label: "EST".into(),
            east_secs: -5 * 3600,
        };
        // 2024-05-21 15:05:22 UTC = 10:05:22 EST, a Tuesday.
        let t = 1716303922;
        assert_eq!(tz.stamp(t), "10:05:22 EST TUESDAY 05/21/24");
        assert_eq!(tz.mmdd(t), "05/21");
        assert_eq!(tz.isodate(t), "2024-05-21");
        assert_eq!(duration(3725), "01:02:05");
    }
}
