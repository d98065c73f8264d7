//! The 98 Danish municipality codes (`data/kommuner.csv`, a copy of `shared/data/kommuner.csv`),
//! built into the binary.

use std::collections::HashMap;
use std::sync::OnceLock;

const KOMMUNER_CSV: &str = include_str!("../../data/kommuner.csv");

fn table() -> &'static HashMap<&'static str, &'static str> {
    static TABLE: OnceLock<HashMap<&'static str, &'static str>> = OnceLock::new();
    TABLE.get_or_init(|| {
        KOMMUNER_CSV
            .lines()
            .skip(1)
            .filter_map(|line| {
                let mut parts = line.split(',');
                Some((parts.next()?.trim(), parts.next()?.trim()))
            })
            .collect()
    })
}

/// Whether `code` is one of the 98 kommunekoder (looked up by number: every row asks).
pub fn is_known(code: &str) -> bool {
    static KNOWN: OnceLock<[bool; 1000]> = OnceLock::new();
    let known = KNOWN.get_or_init(|| {
        let mut known = [false; 1000];
        for code in table().keys() {
            if let Ok(n) = code.parse::<usize>()
                && n < known.len()
            {
                known[n] = code.len() == 3;
            }
        }
        known
    });
    match crate::input::trim(code).as_bytes() {
        &[a, b, c] if [a, b, c].iter().all(u8::is_ascii_digit) => {
            known[usize::from(a - b'0') * 100 + usize::from(b - b'0') * 10 + usize::from(c - b'0')]
        }
        _ => false,
    }
}

/// The municipality's name, for the report.
pub fn name(code: &str) -> Option<&'static str> {
    table().get(code.trim()).copied()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn all_98_municipalities_are_built_in() {
        assert_eq!(table().len(), 98);
        assert!(is_known("101") && is_known("461") && is_known("851"));
        assert!(!is_known("999") && !is_known(""));
        assert_eq!(name("461"), Some("Odense"));
    }
}
