//! Reading exports: opening inputs and finding their encoding and delimiter (`source`,
//! `encoding`), matching headers to canonical columns (`columns`), value words (`values`), dates
//! (`dates`), the municipality codes (`kommuner`), one record into a case (`record`), the records
//! of one input as every command reads them (`records`), and the mapping file (`mapping`).

pub mod columns;
pub mod dates;
pub mod encoding;
pub mod kommuner;
pub mod mapping;
pub mod record;
pub mod records;
pub mod scan;
pub mod source;
pub mod values;

/// `text.trim()`, without decoding a character when `text` begins and ends with a printable
/// ASCII byte, as nearly every field of an export does (no whitespace is one, and no other
/// character ends in one). The rows' fields are trimmed several times each.
#[inline(always)]
pub fn trim(text: &str) -> &str {
    let bytes = text.as_bytes();
    let printable = |b: &u8| (b'!'..=b'~').contains(b);
    match (bytes.first(), bytes.last()) {
        (Some(first), Some(last)) if printable(first) && printable(last) => text,
        (None, _) => text,
        _ => text.trim(),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn trim_is_str_trim() {
        for text in [
            "",
            " ",
            "a",
            " a ",
            "\u{a0}a\u{a0}",
            "a\u{3000}",
            "\u{b}x",
            "x\u{85}",
            "æ",
            " æ",
            "1234",
            "\t1234\r\n",
            "a b",
            "~",
            "!x!",
        ] {
            assert_eq!(super::trim(text), text.trim(), "{text:?}");
        }
    }
}
