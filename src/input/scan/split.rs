//! A record split into its fields where it stands in the input ([`SplitRow`]): the fields of a
//! record whose quotes, if it has any, only enclose whole fields, found from the bit masks of
//! its quotes and delimiters without copying a field out.

use std::sync::OnceLock;

use super::kernels::{Kernel, Simd, below};
use crate::input::records::Fields;

/// A record split where it stands: what the csv crate's parser makes of it, without copying its
/// fields out.
pub struct SplitRow<'a> {
    /// The record, its line end left out.
    pub raw: &'a [u8],
    /// Where each field's content starts and ends in `raw` (inside its quotes when quoted).
    pub fields: &'a [(usize, usize)],
    /// The delimiter is ASCII: every field then starts and ends beside an ASCII byte (a
    /// delimiter or a quote) or at an end of `raw`.
    ascii_delimiter: bool,
}

impl<'a> SplitRow<'a> {
    /// Splits `raw` (one record, its line end left out) at its delimiters outside quotes, the
    /// fields kept in `fields`. None when the csv crate would read some field otherwise than as
    /// bytes of `raw`: a quote that is not the opening or closing quote of a quoted field (a
    /// doubled one, which stands for one quote; one inside an unquoted field; text after a
    /// closing quote; a quote never closed), or a `\r` anywhere (which the streaming reader's
    /// line ends change). Such a record is left to the csv crate's parser
    /// ([`RecordParser`](super::RecordParser)).
    pub fn split(
        raw: &'a [u8],
        delimiter: u8,
        fields: &'a mut Vec<(usize, usize)>,
    ) -> Option<SplitRow<'a>> {
        if matches!(delimiter, b'"' | b'\r' | b'\n') {
            return None;
        }
        static BEST: OnceLock<Kernel> = OnceLock::new();
        split_on(*BEST.get_or_init(Kernel::best), raw, delimiter, fields).then_some(SplitRow {
            raw,
            fields,
            ascii_delimiter: delimiter.is_ascii(),
        })
    }
}

/// [`split_with`] on `kernel`, which must be one this processor runs ([`Kernel::runs`]).
fn split_on(kernel: Kernel, raw: &[u8], delimiter: u8, fields: &mut Vec<(usize, usize)>) -> bool {
    fields.clear();
    match kernel {
        Kernel::Portable => split_with::<super::kernels::Portable>(raw, delimiter, fields),
        #[cfg(target_arch = "x86_64")]
        Kernel::Sse2 => split_with::<super::kernels::Sse2>(raw, delimiter, fields),
        // SAFETY: `split` passes `Kernel::best`, the tests `Kernel::available`: kernels whose
        // every feature the processor has.
        #[cfg(target_arch = "x86_64")]
        Kernel::Avx2 => unsafe { split_avx2(raw, delimiter, fields) },
        #[cfg(target_arch = "x86_64")]
        Kernel::Avx512 => unsafe { split_avx512(raw, delimiter, fields) },
    }
}

/// [`split_with`] compiled for AVX2 and the quick scan's scalar features.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,popcnt,bmi1,bmi2,pclmulqdq")]
fn split_avx2(raw: &[u8], delimiter: u8, fields: &mut Vec<(usize, usize)>) -> bool {
    split_with::<super::kernels::Avx2>(raw, delimiter, fields)
}

/// [`split_with`] compiled for AVX-512BW and the same scalar features.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512bw,avx2,popcnt,bmi1,bmi2,pclmulqdq")]
fn split_avx512(raw: &[u8], delimiter: u8, fields: &mut Vec<(usize, usize)>) -> bool {
    split_with::<super::kernels::Avx512>(raw, delimiter, fields)
}

/// [`SplitRow::split`] on the instruction set `K`: the fields into `fields`, and whether every
/// quote opens or closes a field quoted as a whole (false also for a `\r`).
#[inline(always)]
fn split_with<K: Simd>(raw: &[u8], delimiter: u8, fields: &mut Vec<(usize, usize)>) -> bool {
    let mut quotes = 0;
    // All ones while the bytes are inside quotes at the end of the block before.
    let mut inside = 0u64;
    let mut start = 0;
    let mut last = [0u8; 64];
    for (n, chunk) in raw.chunks(64).enumerate() {
        let block: &[u8; 64] = match chunk.try_into() {
            Ok(block) => block,
            Err(_) => {
                last[..chunk.len()].copy_from_slice(chunk);
                &last
            }
        };
        let masks = K::classify(block, delimiter);
        let valid = below(chunk.len() as u32);
        if masks.cr & valid != 0 {
            return false;
        }
        let quote = masks.quote & valid;
        quotes += quote.count_ones() as usize;
        let parity = K::prefix_xor(quote) ^ inside;
        inside = 0u64.wrapping_sub(parity >> 63);
        let mut ends = masks.delim & valid & !parity;
        while ends != 0 {
            let end = n * 64 + ends.trailing_zeros() as usize;
            fields.push((start, end));
            start = end + 1;
            ends &= ends - 1;
        }
    }
    fields.push((start, raw.len()));
    // Every quote must open or close a field that is quoted as a whole: then the quotes' parity
    // above marked exactly the bytes inside quoted fields, as the csv crate reads them.
    let mut quoted = 0;
    for field in fields.iter_mut() {
        let (start, end) = *field;
        if end - start >= 2 && raw[start] == b'"' && raw[end - 1] == b'"' {
            *field = (start + 1, end - 1);
            quoted += 1;
        }
    }
    quotes == 2 * quoted
}

impl Fields for SplitRow<'_> {
    fn field_count(&self) -> usize {
        self.fields.len()
    }

    fn range(&self, i: usize) -> Option<std::ops::Range<usize>> {
        self.fields.get(i).map(|&(start, end)| start..end)
    }

    fn bytes(&self) -> &[u8] {
        self.raw
    }

    fn fields_between_characters(&self) -> bool {
        self.ascii_delimiter
    }
}

#[cfg(test)]
mod tests {
    use csv::ByteRecord;
    use proptest::prelude::*;

    use super::*;

    /// The record the csv crate reads from `row` with a line end after it, and whether that
    /// record is the whole row (a line end outside quotes ends one before the row's end).
    fn csv_reads_whole(row: &[u8], delimiter: u8) -> Option<(ByteRecord, bool)> {
        let mut line = row.to_vec();
        line.push(b'\n');
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .delimiter(delimiter)
            .from_reader(line.as_slice());
        let mut parsed = ByteRecord::new();
        reader.read_byte_record(&mut parsed).ok()?.then_some(())?;
        // A record never starts with a line end (the scan skips blank lines, as the csv crate
        // does); one that ends where the row ends took all of it.
        let whole = row.first() != Some(&b'\n') && reader.position().byte() == line.len() as u64;
        Some((parsed, whole))
    }

    fn csv_reads(row: &[u8], delimiter: u8) -> Option<ByteRecord> {
        csv_reads_whole(row, delimiter).map(|(record, _)| record)
    }

    fn fields_of(split: &SplitRow<'_>) -> Vec<Vec<u8>> {
        (0..split.field_count())
            .map(|i| split.get(i).unwrap_or_default().to_vec())
            .collect()
    }

    #[test]
    fn quoted_fields_are_read_inside_their_quotes_and_odd_quotes_are_left_to_the_parser() {
        let mut fields = Vec::new();
        let split = SplitRow::split(b"a,\"b,c\",,\"\"", b',', &mut fields).expect("splits");
        assert_eq!(
            fields_of(&split),
            [b"a".to_vec(), b"b,c".to_vec(), b"".to_vec(), b"".to_vec()]
        );
        let mut fields = Vec::new();
        assert_eq!(
            SplitRow::split(b"", b',', &mut fields).map(|s| s.field_count()),
            Some(1)
        );
        for odd in [
            &b"a,\"b\"\"c\""[..],
            b"a,b\"c",
            b"a,\"b\"c",
            b"a,\"b",
            b"\"",
            b"a\rb",
            b"\"a\r\nb\",c",
        ] {
            let mut fields = Vec::new();
            assert!(
                SplitRow::split(odd, b',', &mut fields).is_none(),
                "{}",
                String::from_utf8_lossy(odd)
            );
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 3000, ..ProptestConfig::default() })]

        /// Rows of any shape, over several 64-byte blocks, stray quotes and line ends included:
        /// a row split where it stands that the csv crate reads as one record (the quick scan
        /// hands over no other: a line end outside quotes ends its record) has the csv crate's
        /// fields.
        #[test]
        fn rows_of_any_shape_split_are_the_csv_parsers_fields(
            fields in prop::collection::vec(
                prop_oneof![
                    8 => "[abæ ;]{0,12}",
                    6 => "\"[abæ ,;\n]{0,30}\"",
                    1 => "[ab\"]{1,4}",
                    1 => "\"[ab\"]{0,4}\"",
                    1 => "[ab\n]{1,4}",
                ],
                1..16,
            ),
            semicolon in any::<bool>(),
        ) {
            // Joined by `,`: with `;` as the delimiter the commas are text.
            let row = fields.join(",").into_bytes();
            let delimiter = if semicolon { b';' } else { b',' };
            let mut split_fields = Vec::new();
            if let Some(split) = SplitRow::split(&row, delimiter, &mut split_fields)
                && let Some((record, true)) = csv_reads_whole(&row, delimiter)
            {
                prop_assert_eq!(split.to_record(), record);
            }
        }

        /// A record split where it stands has the fields the csv crate's parser reads from it,
        /// empty ones and all, over several 64-byte blocks; a record it does not split is one
        /// with a quote that does not enclose a whole field, or a `\r`.
        #[test]
        fn a_split_record_has_the_csv_parsers_fields(
            parts in prop::collection::vec(
                prop_oneof![
                    "[a-zæøå0-9 ,;|\t-]{0,40}",
                    "\"[a-zæøå0-9 ,;|\t\n-]{0,70}\"",
                    "[a-z\"\r,]{0,6}",
                ],
                1..8,
            ),
            delimiter in prop::sample::select(vec![b',', b';', b'\t', b'|']),
        ) {
            let row = parts.join(std::str::from_utf8(&[delimiter]).expect("ASCII"));
            let row = row.as_bytes();
            let mut fields = Vec::new();
            let split = SplitRow::split(row, delimiter, &mut fields);
            let parsed = csv_reads(row, delimiter);
            // Every kernel this processor runs splits it alike.
            let expected = split.as_ref().map(|split| split.fields.to_vec());
            for kernel in Kernel::available() {
                let mut on = Vec::new();
                let quoted_right = split_on(kernel, row, delimiter, &mut on);
                prop_assert_eq!(quoted_right.then_some(on), expected.clone(), "{:?}", kernel);
            }
            if let Some(split) = split {
                prop_assert!(!row.contains(&b'\r'));
                if row.is_empty() {
                    // The csv crate skips an empty line; the quick scan never hands one over.
                    prop_assert_eq!(split.field_count(), 1);
                } else {
                    let parsed = parsed.expect("the csv crate reads a record");
                    prop_assert_eq!(split.to_record(), parsed);
                }
            } else {
                let quote_or_cr = row.iter().any(|&b| b == b'"' || b == b'\r');
                prop_assert!(quote_or_cr);
            }
        }
    }
}
