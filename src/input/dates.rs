//! Dates as exports write them (SPEC §3.2): `2020-03-15`, `15-03-2020`, `15.03.2020`,
//! `15/03/2020`, possibly followed by a time of day, which is ignored. A two-digit year is
//! unreadable, never guessed.

use chrono::NaiveDate;

/// A field that holds text but no readable date.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UnreadableDate;

/// An empty field is `Ok(None)` (unknown); a field that is no date is `Err(UnreadableDate)`.
pub fn parse_date(field: &str) -> Result<Option<NaiveDate>, UnreadableDate> {
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
}
