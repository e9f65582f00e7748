//! The datetime spellings Qdrant accepts in payloads and range bounds, parsed to microseconds
//! since the Unix epoch (UTC).
//!
//! Accepted: `YYYY-MM-DD`, optionally followed by `T` (or `t`, or a space) and `HH:MM`,
//! `HH:MM:SS` or `HH:MM:SS.fraction`, optionally followed by a zone: `Z`/`z`, `±HH:MM`,
//! `±HHMM`, `±HH` or ` UTC` (a space may precede a numeric zone). Month, day, hour, minute and
//! second may be written with one digit. A fraction longer than six digits is truncated to
//! microseconds. No zone means UTC. Leading whitespace is ignored.

/// Parses a datetime string; `None` when it is not one of the accepted spellings or names a
/// date or time that does not exist.
pub fn parse_datetime(text: &str) -> Option<i64> {
    let s = text.trim_start();
    let (date, rest) = split_date(s)?;
    let days = days_from_civil(date.0, date.1, date.2)?;
    let mut micros = days.checked_mul(86_400_000_000)?;
    if rest.is_empty() {
        return Some(micros);
    }
    let rest = rest
        .strip_prefix(['T', 't', ' '])
        .filter(|r| r.starts_with(|c: char| c.is_ascii_digit()))?;
    let (time_micros, zone) = parse_time(rest)?;
    let offset = parse_zone(zone)?;
    micros = micros.checked_add(time_micros)?.checked_sub(offset)?;
    Some(micros)
}

/// Reads `1..=max` ASCII digits from the start of `s`.
fn digits(s: &str, min: usize, max: usize) -> Option<(i64, &str)> {
    let n = s.bytes().take(max).take_while(u8::is_ascii_digit).count();
    if n < min {
        return None;
    }
    let value = s[..n].parse().ok()?;
    Some((value, &s[n..]))
}

fn split_date(s: &str) -> Option<((i64, i64, i64), &str)> {
    let (year, rest) = digits(s, 4, 4)?;
    let (month, rest) = digits(rest.strip_prefix('-')?, 1, 2)?;
    let (day, rest) = digits(rest.strip_prefix('-')?, 1, 2)?;
    Some(((year, month, day), rest))
}

/// Parses `HH:MM[:SS[.frac]]`, returning microseconds into the day and the unparsed zone.
fn parse_time(s: &str) -> Option<(i64, &str)> {
    let (hour, rest) = digits(s, 1, 2)?;
    let (minute, mut rest) = digits(rest.strip_prefix(':')?, 1, 2)?;
    let mut second = 0;
    let mut fraction = 0;
    if let Some(r) = rest.strip_prefix(':') {
        let (sec, r) = digits(r, 1, 2)?;
        second = sec;
        rest = r;
        if let Some(r) = rest.strip_prefix('.') {
            let n = r.bytes().take_while(u8::is_ascii_digit).count();
            if n == 0 {
                return None;
            }
            let kept = &r[..n.min(6)];
            let scale = 10_i64.pow(6 - kept.len() as u32);
            fraction = kept.parse::<i64>().ok()? * scale;
            rest = &r[n..];
        }
    }
    if hour > 23 || minute > 59 || second > 59 {
        return None;
    }
    Some((
        ((hour * 60 + minute) * 60 + second) * 1_000_000 + fraction,
        rest,
    ))
}

/// Parses a zone suffix into its offset from UTC in microseconds.
fn parse_zone(zone: &str) -> Option<i64> {
    if zone.is_empty() || zone == "Z" || zone == "z" || zone == " UTC" {
        return Some(0);
    }
    let zone = zone.strip_prefix(' ').unwrap_or(zone);
    let (sign, rest) = match zone.as_bytes().first()? {
        b'+' => (1, &zone[1..]),
        b'-' => (-1, &zone[1..]),
        _ => return None,
    };
    let (hours, rest) = digits(rest, 2, 2)?;
    let minutes = if rest.is_empty() {
        0
    } else {
        let rest = rest.strip_prefix(':').unwrap_or(rest);
        let (m, tail) = digits(rest, 2, 2)?;
        if !tail.is_empty() {
            return None;
        }
        m
    };
    if hours > 23 || minutes > 59 {
        return None;
    }
    Some(sign * (hours * 60 + minutes) * 60 * 1_000_000)
}

/// Days since 1970-01-01 of a proleptic Gregorian date (years 1..=9999), if it exists.
fn days_from_civil(year: i64, month: i64, day: i64) -> Option<i64> {
    if !(1..=9999).contains(&year) || !(1..=12).contains(&month) {
        return None;
    }
    let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    let month_len = match month {
        2 if leap => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    };
    if !(1..=month_len).contains(&day) {
        return None;
    }
    // Count from March so the leap day is the last day of the counted year.
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let year_of_era = y - era * 400;
    let shifted_month = (month + 9) % 12;
    let day_of_year = (153 * shifted_month + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    Some(era * 146_097 + day_of_era - 719_468)
}

/// `YYYY-MM-DD<sep>HH:MM:SS` in UTC for seconds since the epoch.
pub fn format_utc(secs: i64, sep: char) -> String {
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}{sep}{:02}:{:02}:{:02}",
        rem / 3600,
        rem / 60 % 60,
        rem % 60
    )
}

fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    const DAY: i64 = 86_400_000_000;
    const HOUR: i64 = 3_600_000_000;

    #[test]
    fn epoch_and_known_dates() {
        assert_eq!(parse_datetime("1970-01-01"), Some(0));
        assert_eq!(parse_datetime("1970-01-02"), Some(DAY));
        assert_eq!(parse_datetime("1969-12-31"), Some(-DAY));
        assert_eq!(parse_datetime("2000-03-01"), Some(11_017 * DAY));
        assert_eq!(parse_datetime("2024-02-29"), Some(19_782 * DAY));
        assert_eq!(parse_datetime("2026-01-01T00:00:00Z"), Some(20_454 * DAY));
    }

    #[test]
    fn every_spelling() {
        let base = parse_datetime("2026-01-01").expect("date");
        let t = base + 10 * HOUR + 30 * 60_000_000;
        for s in [
            "2026-01-01T10:30",
            "2026-01-01 10:30",
            "2026-01-01t10:30:00",
            "2026-01-01T10:30:00Z",
            "2026-01-01T10:30:00z",
            "2026-01-01 10:30:00 UTC",
            "2026-01-01T12:30:00+02:00",
            "2026-01-01T12:30:00+0200",
            "2026-01-01T12:30:00+02",
            "2026-01-01T12:30:00 +02:00",
            "2026-01-01T08:30:00-02:00",
            "2026-01-01T10:30:00.000000000Z",
            "2026-1-1T10:30:00",
            "  2026-01-01T10:30",
            "2026-01-01T10:30Z",
        ] {
            assert_eq!(parse_datetime(s), Some(t), "{s}");
        }
        assert_eq!(parse_datetime("2026-01-01T10:30:00.5"), Some(t + 500_000));
        assert_eq!(
            parse_datetime("2026-01-01T10:30:00.1234567"),
            Some(t + 123_456)
        );
    }

    #[test]
    fn rejects_garbage() {
        for s in [
            "",
            "2026",
            "2026-01",
            "26-01-01",
            "2026-13-01",
            "2026-02-30",
            "2025-02-29",
            "0000-01-01",
            "2026-01-01T",
            "2026-01-01T10",
            "2026-01-01T24:00",
            "2026-01-01T10:60",
            "2026-01-01T10:30:60",
            "2026-01-01T10:30:00.",
            "2026-01-01T10:30:00+24:00",
            "2026-01-01T10:30:00+2",
            "2026-01-01T10:30:00 PST",
            "2026-01-01Z",
            "2026-01-01x",
            "2026-01-01T10:30:00Zjunk",
            "١٩٧٠-01-01",
        ] {
            assert_eq!(parse_datetime(s), None, "{s}");
        }
    }
}
