//! Instants, as milliseconds since the Unix epoch. Core never reads a clock: callers pass the
//! time in, so every evaluation is reproducible.

use std::fmt;

/// An instant in milliseconds since 1970-01-01T00:00:00Z.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(i64);

impl Timestamp {
    /// The instant `millis` milliseconds after the Unix epoch (negative: before it).
    pub const fn from_unix_millis(millis: i64) -> Self {
        Timestamp(millis)
    }

    /// Milliseconds since the Unix epoch.
    pub const fn unix_millis(self) -> i64 {
        self.0
    }

    /// Parses an RFC 3339 date-time such as `2026-03-01T12:00:00Z` or
    /// `2026-03-01T14:00:00.250+02:00` (`T` or a space between date and time, `Z` or an
    /// offset, up to nanosecond fractions, which are truncated to milliseconds). Years 0000 to
    /// 9999; leap seconds are not accepted.
    pub fn parse_rfc3339(text: &str) -> Option<Self> {
        let b = text.as_bytes();
        let year = digits(b, 0, 4)?;
        let month = digits(b, 5, 2)?;
        let day = digits(b, 8, 2)?;
        let hour = digits(b, 11, 2)?;
        let minute = digits(b, 14, 2)?;
        let second = digits(b, 17, 2)?;
        if b.get(4) != Some(&b'-')
            || b.get(7) != Some(&b'-')
            || !matches!(b.get(10), Some(b'T' | b't' | b' '))
            || b.get(13) != Some(&b':')
            || b.get(16) != Some(&b':')
        {
            return None;
        }
        if !(1..=12).contains(&month)
            || day < 1
            || day > days_in_month(year, month)
            || hour > 23
            || minute > 59
            || second > 59
        {
            return None;
        }
        let mut i = 19;
        let mut millis = 0i64;
        if b.get(i) == Some(&b'.') {
            i += 1;
            let start = i;
            while b.get(i).is_some_and(u8::is_ascii_digit) {
                if i - start < 3 {
                    millis = millis * 10 + i64::from(b.get(i).copied().unwrap_or(b'0') - b'0');
                }
                i += 1;
            }
            let n = i - start;
            if n == 0 || n > 9 {
                return None;
            }
            for _ in n..3 {
                millis *= 10;
            }
        }
        let offset_minutes = match b.get(i) {
            Some(b'Z' | b'z') if i + 1 == b.len() => 0,
            Some(sign @ (b'+' | b'-')) if i + 6 == b.len() && b.get(i + 3) == Some(&b':') => {
                let h = digits(b, i + 1, 2)?;
                let m = digits(b, i + 4, 2)?;
                if h > 23 || m > 59 {
                    return None;
                }
                let total = h * 60 + m;
                if *sign == b'-' { -total } else { total }
            }
            _ => return None,
        };
        let days = days_from_civil(year, month, day);
        let seconds = days * 86_400 + hour * 3_600 + minute * 60 + second - offset_minutes * 60;
        Some(Timestamp(seconds * 1_000 + millis))
    }
}

impl Timestamp {
    /// The earliest instant RFC 3339 can write here: 0000-01-01T00:00:00.000Z.
    pub const MIN_RFC3339: Timestamp = Timestamp(-62_167_219_200_000);
    /// The latest: 9999-12-31T23:59:59.999Z.
    pub const MAX_RFC3339: Timestamp = Timestamp(253_402_300_799_999);

    /// RFC 3339 in UTC with milliseconds, `2026-11-27T10:00:00.123Z` (the format every SDK
    /// sends), or None outside years 0000 to 9999.
    pub fn to_rfc3339(self) -> Option<String> {
        if self < Self::MIN_RFC3339 || self > Self::MAX_RFC3339 {
            return None;
        }
        let days = self.0.div_euclid(86_400_000);
        let in_day = self.0.rem_euclid(86_400_000);
        let (year, month, day) = civil_from_days(days);
        let (s, ms) = (in_day / 1000, in_day % 1000);
        Some(format!(
            "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{ms:03}Z",
            s / 3600,
            s / 60 % 60,
            s % 60
        ))
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}ms", self.0)
    }
}

fn digits(b: &[u8], at: usize, n: usize) -> Option<i64> {
    let slice = b.get(at..at + n)?;
    slice.iter().try_fold(0i64, |acc, &c| {
        c.is_ascii_digit().then(|| acc * 10 + i64::from(c - b'0'))
    })
}

fn is_leap(year: i64) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's `days_from_civil`).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The proleptic Gregorian date of days since 1970-01-01 (H. Hinnant's `civil_from_days`).
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(text: &str) -> Option<i64> {
        Timestamp::parse_rfc3339(text).map(Timestamp::unix_millis)
    }

    #[test]
    fn formats_round_trip() {
        for text in [
            "1970-01-01T00:00:00.000Z",
            "2026-11-27T10:00:00.123Z",
            "2000-02-29T23:59:59.999Z",
            "0000-01-01T00:00:00.000Z",
            "9999-12-31T23:59:59.999Z",
            "1969-12-31T23:59:59.999Z",
        ] {
            let t = Timestamp::parse_rfc3339(text);
            assert_eq!(t.and_then(Timestamp::to_rfc3339).as_deref(), Some(text));
        }
        assert_eq!(Timestamp(Timestamp::MAX_RFC3339.0 + 1).to_rfc3339(), None);
        assert_eq!(Timestamp(Timestamp::MIN_RFC3339.0 - 1).to_rfc3339(), None);
    }

    #[test]
    fn known_instants() {
        assert_eq!(ms("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(ms("2026-11-26T21:37:11Z"), Some(1_795_729_031_000));
        assert_eq!(ms("2000-02-29T12:00:00.5Z"), Some(951_825_600_500));
        assert_eq!(ms("2026-03-01T14:00:00.250+02:00"), Some(1_772_366_400_250));
        assert_eq!(
            ms("2026-03-01 12:00:00.250123456z"),
            Some(1_772_366_400_250)
        );
        assert_eq!(ms("1969-12-31T23:59:59-00:30"), Some(1_799_000));
        assert_eq!(ms("0000-01-01T00:00:00Z"), Some(-62_167_219_200_000));
    }

    #[test]
    fn rejects_malformed() {
        for bad in [
            "",
            "2026-11-26",
            "2026-11-26T21:37Z",
            "2026-13-01T00:00:00Z",
            "2025-02-29T00:00:00Z",
            "2026-01-01T24:00:00Z",
            "2026-01-01T00:00:60Z",
            "2026-01-01T00:00:00",
            "2026-01-01T00:00:00.Z",
            "2026-01-01T00:00:00+0100",
            "2026-01-01T00:00:00Zjunk",
            "２０２６-01-01T00:00:00Z",
            "2026-01-01T00:00:00.1234567890Z",
        ] {
            assert_eq!(ms(bad), None, "{bad:?}");
        }
    }
}
