//! Pass 2 of the scan: the rows whose settled facts are not the defaults (a repeated case id,
//! step 7) read back from the spill file and classified again, in parallel, with those facts;
//! their rows in the lists pass 1 wrote are replaced where they change, in input order, and the
//! counts of their first classification are taken back.

use std::fs::File;
use std::io::{Read as _, Seek as _, SeekFrom};

use super::pass1::{SPILL_HEAD, Spilled};
use super::*;
use crate::input::scan::RecordParser;

/// Rows classified again at a time.
const BATCH: usize = 4096;

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
    names: &[String],
    index: &Index,
    vocab: &Vocabulary,
    patterns: &Patterns,
    tally: &mut Tally,
) -> Result<(), Error> {
    let again: Vec<u32> = index.with_facts().collect();
    if again.is_empty() {
        return Ok(());
    }
    let spill_error = |e| Error::output(&spill.path, e);
    let mut spill_file = File::open(&spill.path).map_err(spill_error)?;
    let mut lists = LIST_FILES.map(|name| Patch::new(staging, name));
    let sources: Vec<Vec<u8>> = names.iter().map(|n| style.encoded_source(n)).collect();
    let mut relisted = Vec::with_capacity(again.len());
    let mut head = Vec::new();
    for batch in again.chunks(BATCH) {
        let spilled = batch
            .iter()
            .map(|&n| {
                let start = spill.starts[n as usize];
                let end = spill
                    .starts
                    .get(n as usize + 1)
                    .copied()
                    .unwrap_or(spill.len);
                let mut raw = vec![0; (end - start) as usize];
                spill_file.seek(SeekFrom::Start(start))?;
                spill_file.read_exact(&mut raw)?;
                Ok(raw)
            })
            .collect::<Result<Vec<Vec<u8>>, std::io::Error>>()
            .map_err(spill_error)?;
        let rows = spilled
            .par_iter()
            .zip(batch.par_iter())
            .map_init(
                || RecordParser::new(b','),
                |parser, (raw, &n)| {
                    classify_again(parser, raw, n, style, names, index, vocab, patterns)
                },
            )
            .collect::<Result<Vec<Again>, String>>()
            .map_err(|e| spill_error(std::io::Error::other(e)))?;
        for row in rows {
            tally.row(&row.before, true, false, true);
            tally.row(&row.now, true, row.duplicate, false);
            let listed = if row.duplicate {
                None
            } else {
                row.now.listed_case()
            };
            relisted.push((row.n, listed));

            head.clear();
            style.head(&sources[row.s], row.line, &mut head);
            lists[0].replace(
                row.at[0],
                &head,
                Some(&row.before.tail),
                Some(&row.now.tail),
            )?;
            for (k, class) in [(1, Classification::Reopen), (2, Classification::Review)] {
                let was = row.before.classification == class;
                let is = !row.duplicate && row.now.classification == class;
                lists[k].replace(
                    row.at[k],
                    &head,
                    was.then_some(&row.before.tail[..]),
                    is.then_some(&row.now.tail[..]),
                )?;
            }
        }
    }
    for list in lists {
        list.finish()?;
    }
    tally.relist(relisted);
    Ok(())
}

/// Reads a spilled bonus-related row and classifies it as it stands and with its settled facts.
#[allow(clippy::too_many_arguments)]
fn classify_again(
    parser: &mut RecordParser,
    raw: &[u8],
    n: u32,
    style: Style<'_>,
    names: &[String],
    index: &Index,
    vocab: &Vocabulary,
    patterns: &Patterns,
) -> Result<Again, String> {
    if parser.parse(raw).is_none() {
        return Err(format!("bonus-related row {n} is missing"));
    }
    let rec = StringRecord::from_byte_record(parser.record.clone())
        .map_err(|_| format!("bonus-related row {n} is not UTF-8"))?;
    let number = |i: usize| rec.get(i).and_then(|v| v.parse::<u64>().ok());
    let (Some(s), Some(line), Some(a), Some(r), Some(v)) =
        (number(1), number(2), number(3), number(4), number(5))
    else {
        return Err(format!("bonus-related row {n} has no place"));
    };
    let field = |col: Col| rec.get(SPILL_HEAD + col as usize).unwrap_or_default();
    let Parsed::Bonus(case) = record::parse(|col| Cow::Borrowed(field(col)), vocab) else {
        return Err(format!("bonus-related row {n} reads otherwise"));
    };
    let before = rules::evaluate(&case, patterns, &Facts::default());
    let now = rules::evaluate(&case, patterns, &index.facts(n, names));
    Ok(Again {
        n,
        s: s as usize,
        line,
        at: [a, r, v],
        before: style.bonus(&case, &before),
        now: style.bonus(&case, &now),
        duplicate: index.is_duplicate(n),
    })
}

/// A list pass 1 wrote, rewritten beside itself once a row in it changes: the unchanged stretches
/// copied (in the kernel, where it can), the changed rows written anew, then put in its place.
struct Patch<'a> {
    staging: &'a Staging,
    name: &'static str,
    /// The list as pass 1 wrote it, read up to `cursor`, and the list being written.
    files: Option<(File, BufWriter<File>)>,
    cursor: u64,
}

impl<'a> Patch<'a> {
    fn new(staging: &'a Staging, name: &'static str) -> Patch<'a> {
        Patch {
            staging,
            name,
            files: None,
            cursor: 0,
        }
    }

    fn patched_name(&self) -> String {
        format!("{}.patched", self.name)
    }

    fn error(&self, e: std::io::Error) -> Error {
        Error::output(self.staging.path().join(self.name), e)
    }

    /// Puts `now` where `before` stands at `at` (each a row after `head`; absent when `None`).
    /// Rows are replaced in input order.
    fn replace(
        &mut self,
        at: u64,
        head: &[u8],
        before: Option<&[u8]>,
        now: Option<&[u8]>,
    ) -> Result<(), Error> {
        if before == now {
            return Ok(());
        }
        if at < self.cursor {
            return Err(self.error(std::io::Error::other("rows patched out of order")));
        }
        if self.files.is_none() {
            let old = File::open(self.staging.path().join(self.name)).map_err(|e| self.error(e))?;
            let new = self.staging.create_file(&self.patched_name())?;
            self.files = Some((old, BufWriter::with_capacity(1 << 20, new)));
        }
        let (old, new) = self.files.as_mut().expect("opened above");
        let result = (|| {
            std::io::copy(&mut (&*old).take(at - self.cursor), new)?;
            self.cursor = at;
            if let Some(before) = before {
                // The row pass 1 wrote must be the one classified again here.
                let mut written = vec![0; head.len() + before.len()];
                old.read_exact(&mut written)?;
                if written[..head.len()] != *head || written[head.len()..] != *before {
                    return Err(std::io::Error::other(
                        "a row differs from its first classification",
                    ));
                }
                self.cursor += written.len() as u64;
            }
            if let Some(now) = now {
                new.write_all(head)?;
                new.write_all(now)?;
            }
            Ok(())
        })();
        result.map_err(|e| self.error(e))
    }

    /// Copies the rest and puts the patched list in place of the old one.
    fn finish(self) -> Result<(), Error> {
        let patched = self.staging.path().join(self.patched_name());
        let Some((mut old, mut new)) = self.files else {
            return Ok(());
        };
        let result = (|| {
            std::io::copy(&mut old, &mut new)?;
            new.flush()?;
            std::fs::rename(patched, self.staging.path().join(self.name))
        })();
        result.map_err(|e| Error::output(self.staging.path().join(self.name), e))
    }
}
