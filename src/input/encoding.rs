//! Text encodings of exports (SPEC §3.2): UTF-8 with or without a byte-order mark, or
//! Windows-1252 / ISO-8859-1, detected from the first bytes; `--encoding` overrides.

use std::borrow::Cow;

use clap::ValueEnum;

/// What the operator asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum EncodingChoice {
    #[default]
    Auto,
    #[value(name = "utf-8")]
    Utf8,
    #[value(name = "windows-1252")]
    Windows1252,
}

/// How one input's fields are decoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decoding {
    /// UTF-8; a field that is not valid UTF-8 is read as Windows-1252 (auto-detection saw UTF-8
    /// in the first bytes, but exports are sometimes stitched together).
    Utf8OrLatin,
    /// UTF-8 as forced; invalid bytes become U+FFFD.
    Utf8Strict,
    Windows1252,
}

pub const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";

/// Chooses the decoding from the first bytes (after any byte-order mark) and names it for the
/// summary.
pub fn detect(choice: EncodingChoice, had_bom: bool, sample: &[u8]) -> (Decoding, &'static str) {
    match choice {
        EncodingChoice::Utf8 => (
            Decoding::Utf8Strict,
            if had_bom { "utf-8-bom" } else { "utf-8" },
        ),
        EncodingChoice::Windows1252 => (Decoding::Windows1252, "windows-1252"),
        EncodingChoice::Auto if had_bom => (Decoding::Utf8OrLatin, "utf-8-bom"),
        EncodingChoice::Auto => {
            let valid = match std::str::from_utf8(sample) {
                Ok(_) => true,
                // A sample cut inside a character is still UTF-8.
                Err(e) => e.error_len().is_none(),
            };
            if valid {
                (Decoding::Utf8OrLatin, "utf-8")
            } else {
                (Decoding::Windows1252, "windows-1252")
            }
        }
    }
}

/// `bytes` as text, when they are UTF-8. Checked 32 or 64 bytes at a time (`simdutf8`, already
/// in the tree through `encoding_rs`): the standard library's check goes byte by byte through
/// every `æ`, `ø` and `å` of a Danish refusal text, and it ran on every bonus-related row (2 %
/// of a 10M-row scan's processor time, `perf`).
pub fn utf8(bytes: &[u8]) -> Option<&str> {
    simdutf8::basic::from_utf8(bytes).ok()
}

/// Decodes one field.
pub fn decode(bytes: &[u8], decoding: Decoding) -> Cow<'_, str> {
    match decoding {
        Decoding::Utf8OrLatin => match utf8(bytes) {
            Some(s) => Cow::Borrowed(s),
            None => {
                encoding_rs::WINDOWS_1252
                    .decode_without_bom_handling(bytes)
                    .0
            }
        },
        Decoding::Utf8Strict => String::from_utf8_lossy(bytes),
        Decoding::Windows1252 => {
            encoding_rs::WINDOWS_1252
                .decode_without_bom_handling(bytes)
                .0
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_1252_reads_as_its_utf8_twin() {
        let latin = b"Afsl\xe5et, familiesammenf\xf8rt, \xa7 16, \xe6";
        let (decoding, name) = detect(EncodingChoice::Auto, false, latin);
        assert_eq!(name, "windows-1252");
        assert_eq!(
            decode(latin, decoding),
            "Afslået, familiesammenført, § 16, æ"
        );
        let utf8 = "Afslået, familiesammenført, § 16, æ".as_bytes();
        let (decoding, name) = detect(EncodingChoice::Auto, false, utf8);
        assert_eq!(name, "utf-8");
        assert_eq!(
            decode(utf8, decoding),
            "Afslået, familiesammenført, § 16, æ"
        );
    }

    #[test]
    fn a_sample_cut_inside_a_character_is_still_utf8() {
        let text = "æøå".as_bytes();
        assert_eq!(detect(EncodingChoice::Auto, false, &text[..3]).1, "utf-8");
    }
}
