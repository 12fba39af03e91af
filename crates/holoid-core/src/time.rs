//! Points in time and calendar dates, as plain values.
//!
//! Time is always an input in holoid: no core function reads the clock. The CLI and the
//! service read it once and pass a [`UnixMillis`] down. This module parses and prints
//! times and dates (UTC, proleptic Gregorian calendar) and must not depend on any I/O.

use std::fmt;
use std::str::FromStr;

/// Milliseconds since the Unix epoch (1970-01-01T00:00:00Z). Times before the epoch are
/// not representable; holoid has no use for them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct UnixMillis(pub u64);

/// Why a time or date string was refused.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum TimeError {
    /// The text is neither Unix seconds nor an RFC 3339 time.
    BadTime(String),
    /// The text is not a `YYYY-MM-DD` date, or names a day that does not exist.
    BadDate(String),
    /// The time lies before 1970-01-01 or after the year 9999.
    OutOfRange(String),
}

impl fmt::Display for TimeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TimeError::BadTime(s) => write!(
                f,
                "`{s}` is not a time: give Unix seconds (1795603792 or 1795603792.250) \
                 or RFC 3339 (2026-11-25T10:49:52Z, 2026-11-25T19:49:52.250+09:00)"
            ),
            TimeError::BadDate(s) => {
                write!(
                    f,
                    "`{s}` is not a calendar date: give YYYY-MM-DD, e.g. 1990-03-15"
                )
            }
            TimeError::OutOfRange(s) => {
                write!(f, "`{s}` lies outside 1970-01-01 .. 9999-12-31 (UTC)")
            }
        }
    }
}

impl std::error::Error for TimeError {}

impl UnixMillis {
    /// The time `secs` whole seconds after the epoch.
    pub const fn from_secs(secs: u64) -> Self {
        UnixMillis(secs * 1000)
    }

    /// Seconds since the epoch, with the milliseconds as a fraction.
    pub fn as_secs_f64(self) -> f64 {
        self.0 as f64 / 1000.0
    }

    /// The calendar date (UTC) this time falls on.
    pub fn date(self) -> Date {
        Date::from_days((self.0 / 86_400_000) as i64)
    }

    /// Milliseconds since midnight UTC.
    pub fn millis_of_day(self) -> u32 {
        (self.0 % 86_400_000) as u32
    }

    /// This time as RFC 3339 in UTC with milliseconds: `2026-11-25T10:49:52.250Z`.
    pub fn to_rfc3339(self) -> String {
        let ms = self.millis_of_day();
        format!(
            "{}T{:02}:{:02}:{:02}.{:03}Z",
            self.date(),
            ms / 3_600_000,
            ms / 60_000 % 60,
            ms / 1000 % 60,
            ms % 1000
        )
    }
}

impl fmt::Display for UnixMillis {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_rfc3339())
    }
}

impl FromStr for UnixMillis {
    type Err = TimeError;

    /// Accepts Unix seconds with up to three decimals, or RFC 3339 with a `Z` or `±HH:MM`
    /// offset and up to nine fraction digits (truncated to milliseconds).
    fn from_str(s: &str) -> Result<Self, TimeError> {
        let t = s.trim();
        if !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
            return parse_unix_seconds(t).ok_or_else(|| TimeError::BadTime(s.to_string()));
        }
        parse_rfc3339(t, s)
    }
}

fn parse_unix_seconds(t: &str) -> Option<UnixMillis> {
    let (whole, frac) = t.split_once('.').unwrap_or((t, ""));
    if whole.is_empty() || whole.len() > 12 || frac.len() > 3 || frac.contains('.') {
        return None;
    }
    let secs: u64 = whole.parse().ok()?;
    let mut ms = 0u64;
    for (i, b) in frac.bytes().enumerate() {
        ms += u64::from(b - b'0') * [100, 10, 1][i];
    }
    Some(UnixMillis(secs * 1000 + ms))
}

fn parse_rfc3339(t: &str, original: &str) -> Result<UnixMillis, TimeError> {
    let bad = || TimeError::BadTime(original.to_string());
    let b = t.as_bytes();
    if b.len() < 20 || !matches!(b[10], b'T' | b't' | b' ') {
        return Err(bad());
    }
    let date: Date = t[..10].parse().map_err(|_| bad())?;
    let num = |r: std::ops::Range<usize>| -> Option<u64> {
        let part = t.get(r)?;
        part.bytes()
            .all(|c| c.is_ascii_digit())
            .then(|| part.parse().ok())?
    };
    if b[13] != b':' || b[16] != b':' {
        return Err(bad());
    }
    let (hh, mm, ss) = (
        num(11..13).ok_or_else(bad)?,
        num(14..16).ok_or_else(bad)?,
        num(17..19).ok_or_else(bad)?,
    );
    if hh > 23 || mm > 59 || ss > 59 {
        return Err(bad());
    }
    let mut rest = &t[19..];
    let mut ms = 0u64;
    if let Some(frac) = rest.strip_prefix('.') {
        let digits = frac.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 || digits > 9 {
            return Err(bad());
        }
        for (i, c) in frac.bytes().take(3).enumerate() {
            ms += u64::from(c - b'0') * [100, 10, 1][i];
        }
        rest = &frac[digits..];
    }
    let offset_secs: i64 = match rest {
        "Z" | "z" => 0,
        _ if rest.len() == 6 && rest.as_bytes()[3] == b':' => {
            let sign = match rest.as_bytes()[0] {
                b'+' => 1,
                b'-' => -1,
                _ => return Err(bad()),
            };
            let oh = num(t.len() - 5..t.len() - 3).ok_or_else(bad)? as i64;
            let om = num(t.len() - 2..t.len()).ok_or_else(bad)? as i64;
            if oh > 23 || om > 59 {
                return Err(bad());
            }
            sign * (oh * 3600 + om * 60)
        }
        _ => return Err(bad()),
    };
    let local = date.days_since_epoch() * 86_400 + (hh * 3600 + mm * 60 + ss) as i64;
    let utc = local - offset_secs;
    if utc < 0 {
        return Err(TimeError::OutOfRange(original.to_string()));
    }
    Ok(UnixMillis(utc as u64 * 1000 + ms))
}

/// A calendar day (proleptic Gregorian), years 1..=9999.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date {
    year: u16,
    month: u8,
    day: u8,
}

impl Date {
    /// The date with these parts, or `None` when no such day exists.
    pub fn new(year: u16, month: u8, day: u8) -> Option<Date> {
        let ok = (1..=9999).contains(&year)
            && (1..=12).contains(&month)
            && day >= 1
            && day <= days_in_month(year, month);
        ok.then_some(Date { year, month, day })
    }

    /// The year, 1..=9999.
    pub fn year(self) -> u16 {
        self.year
    }

    /// The month, 1..=12.
    pub fn month(self) -> u8 {
        self.month
    }

    /// The day of the month, 1..=31.
    pub fn day(self) -> u8 {
        self.day
    }

    /// Days from 1970-01-01 to this date (negative before it).
    pub fn days_since_epoch(self) -> i64 {
        // Howard Hinnant's days_from_civil.
        let y = i64::from(self.year) - i64::from(self.month <= 2);
        let era = y.div_euclid(400);
        let yoe = y - era * 400;
        let m = i64::from(self.month);
        let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(self.day) - 1;
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        era * 146_097 + doe - 719_468
    }

    /// The date `days` days after 1970-01-01 (clamped to the representable years).
    pub fn from_days(days: i64) -> Date {
        let z = days + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z - era * 146_097;
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = (doy - (153 * mp + 2) / 5 + 1) as u8;
        let month = if mp < 10 { mp + 3 } else { mp - 9 } as u8;
        let year = (yoe + era * 400 + i64::from(month <= 2)).clamp(1, 9999) as u16;
        Date { year, month, day }
    }

    /// The age in completed years on `today` of someone born on this date (0 before the
    /// first birthday, and for a `today` before birth). A 29 February birthday is reached on
    /// 1 March in common years.
    pub fn age_on(self, today: Date) -> u16 {
        let years = today.year.saturating_sub(self.year);
        let before_birthday = (today.month, today.day) < (self.month, self.day);
        years.saturating_sub(u16::from(before_birthday))
    }

    /// The first millisecond of this day (UTC), or `None` before the epoch.
    pub fn start(self) -> Option<UnixMillis> {
        let d = self.days_since_epoch();
        (d >= 0).then(|| UnixMillis(d as u64 * 86_400_000))
    }
}

fn days_in_month(year: u16, month: u8) -> u8 {
    match month {
        4 | 6 | 9 | 11 => 30,
        2 if (year.is_multiple_of(4) && !year.is_multiple_of(100)) || year.is_multiple_of(400) => 29,
        2 => 28,
        _ => 31,
    }
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

impl FromStr for Date {
    type Err = TimeError;

    fn from_str(s: &str) -> Result<Self, TimeError> {
        let bad = || TimeError::BadDate(s.to_string());
        let b = s.as_bytes();
        let digits = |r: std::ops::Range<usize>| b[r].iter().all(u8::is_ascii_digit);
        if b.len() != 10 || b[4] != b'-' || b[7] != b'-' || !digits(0..4) {
            return Err(bad());
        }
        if !digits(5..7) || !digits(8..10) {
            return Err(bad());
        }
        let year = s[0..4].parse().map_err(|_| bad())?;
        let month = s[5..7].parse().map_err(|_| bad())?;
        let day = s[8..10].parse().map_err(|_| bad())?;
        Date::new(year, month, day).ok_or_else(bad)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_unix_seconds_and_rfc3339() {
        let t: UnixMillis = "1795603792.25".parse().unwrap();
        assert_eq!(t, UnixMillis(1_795_603_792_250));
        let z: UnixMillis = "2026-11-25T10:49:52.250Z".parse().unwrap();
        assert_eq!(z, t);
        let kst: UnixMillis = "2026-11-25T19:49:52.250+09:00".parse().unwrap();
        assert_eq!(kst, t);
        assert_eq!(t.to_rfc3339(), "2026-11-25T10:49:52.250Z");
    }

    #[test]
    fn refuses_bad_times_and_dates() {
        for s in [
            "",
            "abc",
            "1.2.3",
            "2026-11-25",
            "2026-11-25T25:00:00Z",
            "2026-02-30T00:00:00Z",
        ] {
            assert!(s.parse::<UnixMillis>().is_err(), "{s}");
        }
        assert!(matches!(
            "1969-12-31T23:59:59Z".parse::<UnixMillis>(),
            Err(TimeError::OutOfRange(_))
        ));
        for s in [
            "2023-02-29",
            "2024-13-01",
            "99-01-01",
            "2024-1-01",
            "２０２４-01-01",
        ] {
            assert!(s.parse::<Date>().is_err(), "{s}");
        }
    }

    #[test]
    fn ages_count_completed_years() {
        let d = |y, m, day| Date::new(y, m, day).unwrap();
        let born = d(2007, 11, 28);
        assert_eq!(
            born.age_on(d(2026, 11, 27)),
            18,
            "the day before the 19th birthday"
        );
        assert_eq!(born.age_on(d(2026, 11, 28)), 19, "on it");
        assert_eq!(born.age_on(d(2026, 12, 31)), 19);
        assert_eq!(born.age_on(d(2027, 1, 1)), 19);
        assert_eq!(born.age_on(d(2007, 11, 28)), 0);
        assert_eq!(born.age_on(d(2000, 1, 1)), 0, "before birth");
        let leap = d(2004, 2, 29);
        assert_eq!(leap.age_on(d(2023, 2, 28)), 18);
        assert_eq!(leap.age_on(d(2023, 3, 1)), 19);
        assert_eq!(leap.age_on(d(2024, 2, 29)), 20);
    }

    #[test]
    fn days_round_trip_over_four_centuries() {
        for d in -719_162..2_932_896 {
            if d % 97 != 0 {
                continue;
            }
            let date = Date::from_days(d);
            assert_eq!(date.days_since_epoch(), d);
            assert_eq!(date.to_string().parse::<Date>(), Ok(date));
        }
        assert_eq!(Date::new(2024, 2, 29).unwrap().days_since_epoch(), 19_782);
    }
}
