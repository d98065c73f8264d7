//! Who decides a reopening (`decided_by`): the authority that last handled the case, how it is
//! written in the lists and read back from them, and the file name of its own list.

use std::fmt;

use super::case::Appeal;

/// Who decides the reopening (`decided_by`): the authority that last handled the case.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Authority {
    Ankestyrelsen,
    /// A three-digit municipality code, its ASCII digits (no allocation for the million rows
    /// that name one; ordered as the code's text).
    Kommune([u8; 3]),
    /// The municipality code is not three digits.
    KommuneUkendt,
}

impl Authority {
    pub fn of(municipality_code: &str, appeal: Option<Appeal>) -> Authority {
        if appeal == Some(Appeal::Upheld) {
            return Authority::Ankestyrelsen;
        }
        match crate::input::trim(municipality_code).as_bytes() {
            &[a, b, c] if [a, b, c].iter().all(u8::is_ascii_digit) => Authority::Kommune([a, b, c]),
            _ => Authority::KommuneUkendt,
        }
    }

    /// The authority a `decided_by` column names, as [`Authority`]'s `Display` writes it; an
    /// unreadable one is [`Authority::KommuneUkendt`].
    pub fn from_decided_by(decided_by: &str) -> Authority {
        match decided_by.strip_prefix("kommune:") {
            Some(code) => Authority::of(code, None),
            None if decided_by == "ankestyrelsen" => Authority::Ankestyrelsen,
            None => Authority::KommuneUkendt,
        }
    }

    /// A name safe for a file: built from the validated code only.
    pub fn file_stem(&self) -> String {
        match self {
            Authority::Ankestyrelsen => "ankestyrelsen".to_string(),
            Authority::Kommune(code) => format!("kommune-{}", Self::digits(code)),
            Authority::KommuneUkendt => "kommune-ukendt".to_string(),
        }
    }

    /// Appends what `Display` writes, without the formatter: `decided_by` is written on every
    /// list row.
    pub fn push_to(&self, out: &mut Vec<u8>) {
        match self {
            Authority::Ankestyrelsen => out.extend_from_slice(b"ankestyrelsen"),
            Authority::Kommune(code) => {
                out.extend_from_slice(b"kommune:");
                out.extend_from_slice(code);
            }
            Authority::KommuneUkendt => out.extend_from_slice(b"kommune:ukendt"),
        }
    }

    fn digits(code: &[u8; 3]) -> &str {
        std::str::from_utf8(code).expect("ASCII digits")
    }
}

impl fmt::Display for Authority {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Authority::Ankestyrelsen => f.write_str("ankestyrelsen"),
            Authority::Kommune(code) => write!(f, "kommune:{}", Self::digits(code)),
            Authority::KommuneUkendt => f.write_str("kommune:ukendt"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_authority_is_written_alike_by_display_and_push_to_and_read_back() {
        let cases = [
            ("101", None, "kommune:101", "kommune-101"),
            (" 851 ", Some(Appeal::Changed), "kommune:851", "kommune-851"),
            (
                "461",
                Some(Appeal::Upheld),
                "ankestyrelsen",
                "ankestyrelsen",
            ),
            ("46", None, "kommune:ukendt", "kommune-ukendt"),
            ("4610", None, "kommune:ukendt", "kommune-ukendt"),
            ("4a1", None, "kommune:ukendt", "kommune-ukendt"),
            ("", None, "kommune:ukendt", "kommune-ukendt"),
        ];
        for (code, appeal, shown, stem) in cases {
            let authority = Authority::of(code, appeal);
            assert_eq!(authority.to_string(), shown, "{code:?}");
            let mut pushed = b"x".to_vec();
            authority.push_to(&mut pushed);
            assert_eq!(pushed, format!("x{shown}").into_bytes());
            assert_eq!(authority.file_stem(), stem);
            assert_eq!(Authority::from_decided_by(shown), authority);
        }
        // Ordered as the codes' text, as before they were kept as bytes.
        assert!(Authority::of("099", None) < Authority::of("101", None));
    }
}
