//! Dates as exports write them (SPEC §3.2): `2020-03-15`, `15-03-2020`, `15.03.2020`,
//! `15/03/2020`, possibly followed by a time of day, which is ignored. A two-digit year is
//! unreadable, never guessed.

use chrono::{Datelike, NaiveDate};

/// A field that holds text but no readable date.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UnreadableDate;

/// An empty field is `Ok(None)` (unknown); a field that is no date is `Err(UnreadableDate)`.
pub fn parse_date(field: &str) -> Result<Option<NaiveDate>, UnreadableDate> {
    if let Some(date) = plain_date(field.as_bytes()) {
        return Ok(Some(date));
    }
    let field = field.trim();
    if field.is_empty() {
        return Ok(None);
    }
    let date = field.split([' ', 'T']).next().unwrap_or_default();
    let sep = date
        .chars()
        .find(|c| matches!(c, '-' | '.' | '/'))
        .ok_or(UnreadableDate)?;
    let mut parts = date.split(sep);
    let (Some(a), Some(b), Some(c), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(UnreadableDate);
    };
    let number = |s: &str, max_len: usize| -> Result<u32, UnreadableDate> {
        if s.is_empty() || s.len() > max_len || !s.bytes().all(|b| b.is_ascii_digit()) {
            return Err(UnreadableDate);
        }
        s.parse().map_err(|_| UnreadableDate)
    };
    let (year, month, day) = if a.len() == 4 {
        (number(a, 4)?, number(b, 2)?, number(c, 2)?)
    } else if c.len() == 4 {
        (number(c, 4)?, number(b, 2)?, number(a, 2)?)
    } else {
        return Err(UnreadableDate);
    };
    NaiveDate::from_ymd_opt(year as i32, month, day)
        .map(Some)
        .ok_or(UnreadableDate)
}

/// The shapes nearly every row holds, read without splitting: exactly `YYYY-MM-DD` or
/// `DD-MM-YYYY` (with `-`, `.` or `/`, the same twice) and a valid date. Anything else, `None`,
/// is left to the general reading, which gives these shapes the same date.
fn plain_date(b: &[u8]) -> Option<NaiveDate> {
    let &[a0, a1, a2, a3, a4, a5, a6, a7, a8, a9] = b else {
        return None;
    };
    let digit = |c: u8| c.is_ascii_digit().then(|| u32::from(c - b'0'));
    let two = |x: u8, y: u8| Some(digit(x)? * 10 + digit(y)?);
    let four = |w: u8, x: u8, y: u8, z: u8| Some(two(w, x)? * 100 + two(y, z)?);
    let sep = |c: u8| matches!(c, b'-' | b'.' | b'/');
    let (year, month, day) = if sep(a4) && a7 == a4 {
        (four(a0, a1, a2, a3)?, two(a5, a6)?, two(a8, a9)?)
    } else if sep(a2) && a5 == a2 {
        (four(a6, a7, a8, a9)?, two(a3, a4)?, two(a0, a1)?)
    } else {
        return None;
    };
    NaiveDate::from_ymd_opt(year as i32, month, day)
}

/// Writes a date as `Display` does (`YYYY-MM-DD`) for the years 0-9999, without a formatter.
pub fn push_iso(out: &mut Vec<u8>, date: NaiveDate) {
    let (year, month, day) = (date.year(), date.month(), date.day());
    if !(0..=9999).contains(&year) {
        out.extend_from_slice(date.to_string().as_bytes());
        return;
    }
    let year = year as u32;
    let digit = |n: u32| b'0' + (n % 10) as u8;
    out.extend_from_slice(&[
        digit(year / 1000),
        digit(year / 100),
        digit(year / 10),
        digit(year),
        b'-',
        digit(month / 10),
        digit(month),
        b'-',
        digit(day / 10),
        digit(day),
    ]);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> Option<NaiveDate> {
        NaiveDate::from_ymd_opt(y, m, day)
    }

    #[test]
    fn every_export_format_reads_the_same_date() {
        for text in [
            "2020-03-15",
            "15-03-2020",
            "15.03.2020",
            "15/03/2020",
            "2020-03-15 00:00:00",
            "2020-03-15T10:30",
            " 15.3.2020 ",
        ] {
            assert_eq!(parse_date(text), Ok(d(2020, 3, 15)), "{text}");
        }
    }

    #[test]
    fn two_digit_years_and_impossible_dates_are_unreadable() {
        for text in [
            "15-03-20",
            "15.03.20",
            "2020-02-30",
            "2020/13/01",
            "i går",
            "2020",
            "1-2-3-4",
        ] {
            assert_eq!(parse_date(text), Err(UnreadableDate), "{text}");
        }
        assert_eq!(parse_date("  "), Ok(None));
    }

    #[test]
    fn the_quick_reading_agrees_with_the_general_one() {
        // Every 10-byte shape the quick reading takes, valid or not, and near misses.
        let mut texts = Vec::new();
        for sep in ["-", ".", "/"] {
            for (y, m, d) in [
                (2020, 3, 15),
                (2021, 2, 29),
                (2020, 2, 29),
                (1999, 12, 31),
                (0, 1, 1),
            ] {
                for (m, d) in [(m, d), (13, 1), (0, 5), (4, 31)] {
                    texts.push(format!("{y:04}{sep}{m:02}{sep}{d:02}"));
                    texts.push(format!("{d:02}{sep}{m:02}{sep}{y:04}"));
                }
            }
        }
        texts.extend(
            [
                "2020-03.15",
                "15.03-2020",
                "2020/3/15",
                "+020-03-15",
                "2020-03-1x",
                " 2020-03-15",
            ]
            .map(String::from),
        );
        // Every byte at every place of a plain date: the digits' bounds (`/` and `:` beside
        // `0` and `9`) and high halves other than 3.
        for base in ["2020-03-15", "15.03.2020"] {
            for at in 0..base.len() {
                for byte in 0..=0x7fu8 {
                    let mut text = base.as_bytes().to_vec();
                    text[at] = byte;
                    texts.push(String::from_utf8(text).expect("ASCII"));
                }
            }
        }
        for text in texts {
            let general = {
                // The general reading alone.
                let quick = plain_date(text.as_bytes());
                let all = parse_date(&format!("{text} ")); // a trailing space skips the quick one
                (quick, all)
            };
            if let Some(quick) = general.0 {
                assert_eq!(general.1, Ok(Some(quick)), "{text}");
            }
            assert_eq!(parse_date(&text), general.1, "{text}");
        }
    }

    #[test]
    fn dates_are_written_as_display_writes_them() {
        for (y, m, d) in [
            (2020, 3, 5),
            (1, 1, 1),
            (999, 12, 31),
            (9999, 12, 31),
            (10000, 1, 1),
            (-5, 6, 7),
        ] {
            let date = NaiveDate::from_ymd_opt(y, m, d).unwrap();
            let mut out = Vec::new();
            push_iso(&mut out, date);
            assert_eq!(String::from_utf8(out).unwrap(), date.to_string());
        }
    }
}
