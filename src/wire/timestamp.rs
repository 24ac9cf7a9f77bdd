//! Timestamps as the wire carries them: RFC 3339 in UTC with milliseconds
//! (event history, meta API `created`, WAMP-CRA challenges), and back
//! (signed HTTP bridge requests).

use std::time::SystemTime;

/// `at` as an RFC 3339 UTC timestamp with milliseconds, e.g. `2026-12-07T13:45:12.123Z`.
pub fn rfc3339(at: SystemTime) -> String {
    let since = at
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap_or_default();
    let secs = since.as_secs();
    let (days, rem) = (secs / 86_400, secs % 86_400);
    let (y, m, d) = civil_from_days(days as i64);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{:03}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60,
        since.subsec_millis()
    )
}

/// The time of an RFC 3339 UTC timestamp `YYYY-MM-DDTHH:MM:SS[.fraction]Z`
/// (a lowercase `t` or `z` too); `None` for anything else, or a time before
/// 1970.
pub fn parse_rfc3339(text: &str) -> Option<SystemTime> {
    let b = text.as_bytes();
    let digits = |from: usize, len: usize| -> Option<u64> {
        let part = b.get(from..from + len)?;
        part.iter().try_fold(0u64, |n, c| {
            c.is_ascii_digit().then(|| n * 10 + u64::from(c - b'0'))
        })
    };
    let seps = [(4, b'-'), (7, b'-'), (13, b':'), (16, b':')];
    if b.len() < 20 || seps.iter().any(|(i, c)| b[*i] != *c) || !b"Tt".contains(&b[10]) {
        return None;
    }
    let (y, m, d) = (digits(0, 4)?, digits(5, 2)?, digits(8, 2)?);
    let (hh, mm, ss) = (digits(11, 2)?, digits(14, 2)?, digits(17, 2)?);
    let leap = y % 4 == 0 && (y % 100 != 0 || y % 400 == 0);
    let month_days = [
        31,
        28 + u64::from(leap),
        31,
        30,
        31,
        30,
        31,
        31,
        30,
        31,
        30,
        31,
    ];
    let days_in_month = *month_days.get((m as usize).checked_sub(1)?)?;
    if d == 0 || d > days_in_month || hh > 23 || mm > 59 || ss > 60 {
        return None;
    }
    let rest = &b[19..];
    let (fraction, zone) = match rest.first() {
        Some(b'.') => {
            let n = rest[1..].iter().take_while(|c| c.is_ascii_digit()).count();
            (&rest[1..=n], &rest[1 + n..])
        }
        _ => (&rest[..0], rest),
    };
    if (rest.first() == Some(&b'.') && fraction.is_empty()) || !matches!(zone, b"Z" | b"z") {
        return None;
    }
    let nanos = fraction
        .iter()
        .chain(std::iter::repeat(&b'0'))
        .take(9)
        .fold(0u32, |n, c| n * 10 + u32::from(c - b'0'));
    let days = u64::try_from(days_from_civil(y as i64, m as u32, d as u32)).ok()?;
    let secs = days * 86_400 + hh * 3600 + mm * 60 + ss;
    Some(SystemTime::UNIX_EPOCH + std::time::Duration::new(secs, nanos))
}

/// The day count since 1970-01-01 of a proleptic Gregorian date.
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let mp = i64::from((m + 9) % 12);
    let doy = (153 * mp + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The proleptic Gregorian date of a day count since 1970-01-01.
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn timestamps_are_rfc3339_utc() {
        let at = SystemTime::UNIX_EPOCH + Duration::from_millis(1_796_651_112_123);
        assert_eq!(rfc3339(at), "2026-12-07T13:45:12.123Z");
        assert_eq!(rfc3339(SystemTime::UNIX_EPOCH), "1970-01-01T00:00:00.000Z");
        let leap = SystemTime::UNIX_EPOCH + Duration::from_secs(951_782_400);
        assert_eq!(rfc3339(leap), "2000-02-29T00:00:00.000Z");
    }

    #[test]
    fn rfc3339_timestamps_parse_back() {
        for ms in [0, 951_782_400_000, 1_796_651_112_123, 4_102_444_799_999] {
            let at = SystemTime::UNIX_EPOCH + Duration::from_millis(ms);
            assert_eq!(parse_rfc3339(&rfc3339(at)), Some(at), "{ms}");
        }
        let at = |t| parse_rfc3339(t).map(|t| t.duration_since(SystemTime::UNIX_EPOCH).unwrap());
        assert_eq!(
            at("2011-10-14T16:59:51.123456Z"),
            Some(Duration::new(1_318_611_591, 123_456_000))
        );
        assert_eq!(
            at("2011-10-14t16:59:51z"),
            Some(Duration::from_secs(1_318_611_591))
        );
        for bad in [
            "",
            "2011-10-14T16:59:51",
            "2011-10-14T16:59:51.Z",
            "2011-10-14T16:59:51+00:00",
            "2011-13-14T16:59:51Z",
            "2011-02-29T16:59:51Z",
            "2011-10-14T24:00:00Z",
            "2011-10-14 16:59:51Z",
            "1969-12-31T23:59:59Z",
            "+011-10-14T16:59:51Z",
            "2011-10-14T16:59:51.1x3Z",
        ] {
            assert_eq!(parse_rfc3339(bad), None, "{bad}");
        }
    }
}
