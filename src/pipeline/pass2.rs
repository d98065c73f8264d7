//! Pass 2 of the scan: the rows whose settled facts are not those pass 1 wrote them with (the
//! defaults, or what their piece told: a repeated case id, step 7) read back (their columns from
//! the spill file, or their bytes from where they stand in their input) and classified again, in
//! parallel, with those facts; their rows in the lists pass 1 wrote are replaced where they
//! change, in input order, each list on a thread of its own ([`Patching`]), and the counts of
//! their first classification are taken back. The lists are handed back still being patched:
//! that runs beside the report.

use std::fs::File;
use std::os::unix::fs::FileExt as _;

mod patch;
mod patching;

use self::patch::Patch;
pub(super) use self::patching::Patching;
use self::patching::Replacing;
use super::spill::{FileIdentity, InInput, MappedInput, SPILL_HEAD, Spilled};
use super::*;
use crate::input::scan::RecordParser;

/// Rows classified again at a time: the first batch a few, so that the lists' rewrite (and
/// the disk) starts soon after the settling, then four times as many each time up to this.
/// A batch is sent to the lists' threads once it is classified.
const BATCH: usize = 4096;
const FIRST_BATCH: usize = 256;

/// A row classified again: as pass 1 wrote it, and as it is with its settled facts.
struct Again {
    n: u32,
    s: usize,
    line: u64,
    /// Where pass 1 wrote it, or would have, in each list ([`Lists::at`]).
    at: [u64; 3],
    before: Rendered,
    now: Rendered,
    duplicate: bool,
}

#[allow(clippy::too_many_arguments)]
pub(super) fn pass2(
    staging: &Staging,
    style: Style<'_>,
    spill: &Spilled,
    mapped_inputs: &[Option<MappedInput>],
    names: &[String],
    index: &Index,
    vocab: &Vocabulary,
    patterns: &Patterns,
    tally: &mut Tally,
) -> Result<[Patching; 3], Error> {
    let behind = Behind::start();
    let mut lists: [Patching; 3] =
        std::array::from_fn(|k| Patching::start(Patch::new(staging, LIST_FILES[k], &behind), k));
    let context = Context {
        spill: &spill.path,
        style,
        mapped_inputs,
        names,
        index,
        vocab,
        patterns,
    };
    let again: Vec<u32> = index.to_write_again().collect();
    if again.is_empty() {
        return Ok(lists);
    }
    let spill_error = |e| Error::output(&spill.path, e);
    let spill_file = File::open(&spill.path).map_err(spill_error)?;
    let sources: Vec<Vec<u8>> = names.iter().map(|n| style.encoded_source(n)).collect();
    let mut relisted = Vec::with_capacity(again.len());
    let classify = |batch: &[u32]| {
        batch
            .par_iter()
            .map_init(Readers::new, |readers, &n| {
                let Some((start, end)) = spill.starts.span(n, spill.len) else {
                    let missing = format!("bonus-related row {n} is missing");
                    return Err(spill_error(std::io::Error::other(missing)));
                };
                readers.spilled.resize((end - start) as usize, 0);
                spill_file
                    .read_exact_at(&mut readers.spilled, start)
                    .map_err(spill_error)?;
                classify_again(&context, readers, n)
            })
            .collect::<Result<Vec<Again>, Error>>()
    };
    let mut rest = &again[..];
    let mut size = FIRST_BATCH;
    while !rest.is_empty() {
        let (batch, after) = rest.split_at(size.min(rest.len()));
        rest = after;
        size = (size * 4).min(BATCH);
        let mut replacing = Vec::with_capacity(batch.len());
        for mut row in classify(batch)? {
            tally.row(&row.before, true, false, true);
            tally.row(&row.now, true, row.duplicate, false);
            let listed = if row.duplicate {
                None
            } else {
                tally.listed_of(row.n, &mut row.now)
            };
            relisted.push((row.n, listed));

            let mut head = Vec::new();
            style.head(&sources[row.s], row.line, &mut head);
            let in_list = |rendered: &Rendered, class| rendered.classification == class;
            replacing.push(Replacing {
                at: row.at,
                head,
                was: [
                    true,
                    in_list(&row.before, Classification::Reopen),
                    in_list(&row.before, Classification::Review),
                ],
                is: [
                    true,
                    !row.duplicate && in_list(&row.now, Classification::Reopen),
                    !row.duplicate && in_list(&row.now, Classification::Review),
                ],
                before: row.before.into_tail(),
                now: row.now.into_tail(),
            });
        }
        let replacing: std::sync::Arc<[Replacing]> = replacing.into();
        for list in &mut lists {
            list.send(&replacing)?;
        }
    }
    tally.relist(relisted);
    Ok(lists)
}

/// What classifying a row again needs, shared by the threads.
struct Context<'a> {
    /// The spill file, for its errors.
    spill: &'a std::path::Path,
    style: Style<'a>,
    mapped_inputs: &'a [Option<MappedInput>],
    names: &'a [String],
    index: &'a Index,
    vocab: &'a Vocabulary,
    patterns: &'a Patterns,
}

/// One thread's readers: of the spill file's rows, and of the inputs' (one per delimiter, made
/// when first needed: making one builds csv_core's tables), with their buffers and the input
/// last opened (rows come in input order, so one at a time is enough).
struct Readers {
    spill: RecordParser,
    inputs: Vec<(u8, RecordParser)>,
    input: Option<(u32, File)>,
    spilled: Vec<u8>,
    row: Vec<u8>,
}

impl Readers {
    fn new() -> Readers {
        Readers {
            spill: RecordParser::new(b','),
            inputs: Vec::new(),
            input: None,
            spilled: Vec::new(),
            row: Vec::new(),
        }
    }

    /// Reads `len` bytes at `at` of input `s` into `self.row`, opening it again if needed and
    /// checking it is the file pass 1 read.
    fn read_input(
        &mut self,
        s: u32,
        input: &MappedInput,
        at: u64,
        len: usize,
    ) -> Result<(), Error> {
        let input_error = |err| Error::Input {
            file: input.path.display().to_string(),
            err,
        };
        if self.input.as_ref().is_none_or(|(open, _)| *open != s) {
            let file = File::open(&input.path).map_err(input_error)?;
            let same = file
                .metadata()
                .is_ok_and(|meta| FileIdentity::of(&meta) == input.identity);
            if !same {
                return Err(input_error(std::io::Error::other(
                    "it changed while it was scanned: scan it again",
                )));
            }
            self.input = Some((s, file));
        }
        let Some((_, file)) = &self.input else {
            unreachable!("opened above");
        };
        self.row.resize(len, 0);
        file.read_exact_at(&mut self.row, at).map_err(input_error)
    }

    /// The reader of records with this delimiter, among `parsers`.
    fn parser(parsers: &mut Vec<(u8, RecordParser)>, delimiter: u8) -> &mut RecordParser {
        let at = match parsers.iter().position(|(d, _)| *d == delimiter) {
            Some(at) => at,
            None => {
                parsers.push((delimiter, RecordParser::new(delimiter)));
                parsers.len() - 1
            }
        };
        &mut parsers[at].1
    }
}

/// Reads a spilled bonus-related row (in `readers.spilled`) — its canonical columns, or from
/// where it stands in its input — and classifies it as pass 1 wrote it and with its settled
/// facts.
fn classify_again(context: &Context<'_>, readers: &mut Readers, n: u32) -> Result<Again, Error> {
    let spilled_wrong = |e: String| Error::output(context.spill, std::io::Error::other(e));
    let (s, line, at, parsed) = if readers.spilled.first() == Some(&b'M') {
        let Some(row) = InInput::read(&readers.spilled) else {
            return Err(spilled_wrong(format!("bonus-related row {n} has no place")));
        };
        let Some(input) = context
            .mapped_inputs
            .get(row.s as usize)
            .and_then(Option::as_ref)
        else {
            return Err(spilled_wrong(format!(
                "bonus-related row {n}: its input is not known"
            )));
        };
        let len = row
            .end
            .checked_sub(row.start)
            .and_then(|l| usize::try_from(l).ok());
        let Some(len) = len else {
            return Err(spilled_wrong(format!(
                "bonus-related row {n} has no place in its input"
            )));
        };
        readers.read_input(row.s, input, input.skip + row.start, len)?;
        let parser = Readers::parser(&mut readers.inputs, input.delimiter);
        if parser.parse(&readers.row).is_none() {
            return Err(spilled_wrong(format!(
                "bonus-related row {n} is missing from its input"
            )));
        }
        let parsed = records::parse(&parser.record, &input.map, input.decoding, context.vocab);
        (row.s, row.line, row.at, parsed)
    } else {
        if readers.spill.parse(&readers.spilled).is_none() {
            return Err(spilled_wrong(format!("bonus-related row {n} is missing")));
        }
        let rec = StringRecord::from_byte_record(readers.spill.record.clone())
            .map_err(|_| spilled_wrong(format!("bonus-related row {n} is not UTF-8")))?;
        let number = |i: usize| rec.get(i).and_then(|v| v.parse::<u64>().ok());
        let (Some(s), Some(line), Some(a), Some(r), Some(v)) =
            (number(1), number(2), number(3), number(4), number(5))
        else {
            return Err(spilled_wrong(format!("bonus-related row {n} has no place")));
        };
        let field = |col: Col| rec.get(SPILL_HEAD + col as usize).unwrap_or_default();
        let parsed = record::parse(|col| Cow::Borrowed(field(col)), context.vocab);
        (s as u32, line, [a, r, v], parsed)
    };
    let Parsed::Bonus(case) = parsed else {
        return Err(spilled_wrong(format!(
            "bonus-related row {n} reads otherwise"
        )));
    };
    let (style, index) = (context.style, context.index);
    let patterns = super::grounds::Kept(context.patterns);
    let before = rules::evaluate(&case, &patterns, &index.written_facts(n, context.names));
    let now = rules::evaluate(&case, &patterns, &index.facts(n, context.names));
    Ok(Again {
        n,
        s: s as usize,
        line,
        at,
        before: style.bonus(&case, &before, None),
        now: style.bonus(&case, &now, None),
        duplicate: index.is_duplicate(n),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::input::columns::COLUMN_COUNT;

    #[test]
    fn an_input_changed_since_pass_1_is_not_read_again() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("export.csv");
        let header: Vec<String> = Col::ALL.iter().map(|c| c.name().to_string()).collect();
        assert_eq!(header.len(), COLUMN_COUNT);
        std::fs::write(&path, "case_id\nA1\n").unwrap();
        let input = MappedInput {
            identity: FileIdentity::of(&std::fs::metadata(&path).unwrap()),
            path: path.clone(),
            skip: 0,
            map: ColumnMap::build("export.csv", &header, &HashMap::new()).unwrap(),
            decoding: Decoding::Utf8OrLatin,
            delimiter: b',',
        };
        let mut readers = Readers::new();
        readers.read_input(0, &input, 8, 2).unwrap();
        assert_eq!(readers.row, b"A1");

        // Rewritten in between: another reader, another size.
        std::fs::write(&path, "case_id\nA1\nA2\n").unwrap();
        let mut readers = Readers::new();
        let err = readers.read_input(0, &input, 8, 2).unwrap_err();
        assert!(
            err.to_string().contains("changed while it was scanned"),
            "{err}"
        );
        std::fs::remove_file(&path).unwrap();
        let err = Readers::new().read_input(0, &input, 8, 2).unwrap_err();
        assert!(
            err.to_string()
                .contains("export.csv: cannot read the input"),
            "{err}"
        );
    }
}
