//! Pass 2 of the scan: the rows whose settled facts are not the defaults (a repeated case id,
//! step 7) read back from the spill file and classified again, in parallel, with those facts;
//! their rows in the lists pass 1 wrote are replaced where they change, in input order, and the
//! counts of their first classification are taken back.

use std::fs::File;
use std::io::{Read as _, Seek as _, SeekFrom};
use std::os::unix::fs::FileExt as _;

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
                tally.listed_of(row.n, &row.now)
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
        lists.par_iter_mut().try_for_each(Patch::run)?;
    }
    Vec::from(lists)
        .into_par_iter()
        .try_for_each(Patch::finish)?;
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
/// The work is planned in input order and done in parallel, a batch of rows at a time, the
/// three lists at once.
struct Patch<'a> {
    staging: &'a Staging,
    name: &'static str,
    /// The list as pass 1 wrote it and the list being written, once a row changes.
    files: Option<(File, File)>,
    /// Where the next unchanged stretch starts, in the old list and in the new.
    old_at: u64,
    new_at: u64,
    /// The work planned and not yet done.
    ops: Vec<Op>,
}

/// A piece of a patch's work.
enum Op {
    /// Copies `len` bytes at `from` in the old list to `to` in the new.
    Copy { from: u64, to: u64, len: u64 },
    /// Checks that the old list holds `bytes` at `at`: the row classified again must be the one
    /// pass 1 wrote there.
    Check { at: u64, bytes: Vec<u8> },
    /// Writes `bytes` at `to` in the new list.
    Write { to: u64, bytes: Vec<u8> },
}

/// An unchanged stretch is copied in pieces of at most this many bytes, so that the threads
/// share a long one.
const COPY_PIECE: u64 = 4 << 20;

impl<'a> Patch<'a> {
    fn new(staging: &'a Staging, name: &'static str) -> Patch<'a> {
        Patch {
            staging,
            name,
            files: None,
            old_at: 0,
            new_at: 0,
            ops: Vec::new(),
        }
    }

    fn patched_name(&self) -> String {
        format!("{}.patched", self.name)
    }

    fn error(&self, e: std::io::Error) -> Error {
        Error::output(self.staging.path().join(self.name), e)
    }

    /// Plans to put `now` where `before` stands at `at` (each a row after `head`; absent when
    /// `None`). Rows are replaced in input order.
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
        if at < self.old_at {
            return Err(self.error(std::io::Error::other("rows patched out of order")));
        }
        if self.files.is_none() {
            let old = File::open(self.staging.path().join(self.name)).map_err(|e| self.error(e))?;
            let new = self.staging.create_file(&self.patched_name())?;
            self.files = Some((old, new));
        }
        self.copy_to(at);
        let row = |tail: &[u8]| [head, tail].concat();
        if let Some(before) = before {
            let bytes = row(before);
            self.old_at += bytes.len() as u64;
            self.ops.push(Op::Check { at, bytes });
        }
        if let Some(now) = now {
            let bytes = row(now);
            let to = self.new_at;
            self.new_at += bytes.len() as u64;
            self.ops.push(Op::Write { to, bytes });
        }
        Ok(())
    }

    /// Plans to copy the old list from where the last row replaced ends to `end`.
    fn copy_to(&mut self, end: u64) {
        while self.old_at < end {
            let len = (end - self.old_at).min(COPY_PIECE);
            self.ops.push(Op::Copy {
                from: self.old_at,
                to: self.new_at,
                len,
            });
            self.old_at += len;
            self.new_at += len;
        }
    }

    /// Does the work planned so far.
    fn run(&mut self) -> Result<(), Error> {
        let Some((old, new)) = &self.files else {
            return Ok(());
        };
        let ops = std::mem::take(&mut self.ops);
        ops.par_iter()
            .try_for_each(|op| match op {
                Op::Copy { from, to, len } => copy_range(old, *from, new, *to, *len),
                Op::Check { at, bytes } => {
                    let mut written = vec![0; bytes.len()];
                    old.read_exact_at(&mut written, *at)?;
                    if written != *bytes {
                        return Err(std::io::Error::other(
                            "a row differs from its first classification",
                        ));
                    }
                    Ok(())
                }
                Op::Write { to, bytes } => new.write_all_at(bytes, *to),
            })
            .map_err(|e| self.error(e))?;
        // Written behind as it grows, as pass 1 writes the lists, so that the fsync at the end
        // finds little left to write.
        crate::output::lists::write_behind(new);
        Ok(())
    }

    /// Copies the rest and puts the patched list in place of the old one.
    fn finish(mut self) -> Result<(), Error> {
        let Some((old, _)) = &self.files else {
            return Ok(());
        };
        let len = old.metadata().map_err(|e| self.error(e))?.len();
        self.copy_to(len);
        self.run()?;
        // The old list is removed first: renaming over it would make ext4 write the new one out
        // at once (its `auto_da_alloc`), and the run wait for it.
        let path = self.staging.path().join(self.name);
        std::fs::remove_file(&path)
            .and_then(|()| std::fs::rename(self.staging.path().join(self.patched_name()), &path))
            .map_err(|e| self.error(e))
    }
}

/// Copies `len` bytes at `from` in `old` to `to` in `new`: in the kernel where the file system
/// can (`copy_file_range`), else through a buffer.
fn copy_range(old: &File, from: u64, new: &File, to: u64, len: u64) -> std::io::Result<()> {
    use std::os::fd::AsRawFd;
    let (mut from, mut to, mut left) = (from as i64, to as i64, len as usize);
    while left > 0 {
        // SAFETY: both descriptors are open for the call; the offsets are this function's own.
        let n = unsafe {
            libc::copy_file_range(
                old.as_raw_fd(),
                &mut from,
                new.as_raw_fd(),
                &mut to,
                left,
                0,
            )
        };
        match n {
            0 => return Err(std::io::ErrorKind::UnexpectedEof.into()),
            n if n > 0 => left -= n as usize,
            _ => {
                let err = std::io::Error::last_os_error();
                if err.kind() == std::io::ErrorKind::Interrupted {
                    continue;
                }
                // Not across these files or on this file system: through a buffer.
                return copy_through_buffer(old, from as u64, new, to as u64, left as u64);
            }
        }
    }
    Ok(())
}

/// [`copy_range`] through a buffer in memory.
fn copy_through_buffer(
    old: &File,
    from: u64,
    new: &File,
    to: u64,
    len: u64,
) -> std::io::Result<()> {
    let mut buffer = vec![0; len.min(COPY_PIECE) as usize];
    let mut done = 0;
    while done < len {
        let n = (len - done).min(buffer.len() as u64);
        let piece = &mut buffer[..n as usize];
        old.read_exact_at(piece, from + done)?;
        new.write_all_at(piece, to + done)?;
        done += n;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_ways_of_copying_a_stretch_give_the_same_file() {
        let dir = tempfile::tempdir().unwrap();
        let old_path = dir.path().join("old");
        let bytes: Vec<u8> = (0..100_000u32).map(|i| (i * 7 % 251) as u8).collect();
        std::fs::write(&old_path, &bytes).unwrap();
        let old = File::open(&old_path).unwrap();
        let mut results = Vec::new();
        for kernel in [true, false] {
            let path = dir.path().join(format!("new-{kernel}"));
            let new = File::create(&path).unwrap();
            // Out of order, as the threads may do them.
            for (from, to, len) in [(50_000, 10, 30_000), (0, 30_010, 5), (99_990, 0, 10)] {
                if kernel {
                    copy_range(&old, from, &new, to, len).unwrap();
                } else {
                    copy_through_buffer(&old, from, &new, to, len).unwrap();
                }
            }
            results.push(std::fs::read(&path).unwrap());
        }
        let mut expected = bytes[99_990..].to_vec();
        expected.extend_from_slice(&bytes[50_000..80_000]);
        expected.extend_from_slice(&bytes[..5]);
        assert_eq!(results[0], expected);
        assert_eq!(results[1], expected);
    }
}
