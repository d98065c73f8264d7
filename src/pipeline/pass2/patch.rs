//! A list pass 1 wrote, with the rows pass 2 classified again put in: rewritten in place, front
//! to back, read ahead of where it is written.

use std::fs::File;
use std::os::unix::fs::{FileExt as _, OpenOptionsExt as _};
use std::path::PathBuf;

use crate::error::Error;
use crate::output::dir::Staging;
use crate::output::lists::Behind;

/// A list pass 1 wrote, rewritten in place once a row in it changes. The rows after a changed
/// one move by the difference in length, so the list is read ahead of where it is written (what
/// is read and not yet written waits in memory: the growth so far and a buffer) and written
/// front to back. No second copy of the list is made: its pages in the page cache are written
/// over, where a copy would take as many new ones, and on a virtual machine a page the process
/// has not had before costs several times the copying. The work is planned in input order and
/// done a batch of rows at a time, the three lists at once.
///
/// Only when the rows that grew make more wait in memory than [`HOLD`] is the rest written to
/// a copy instead (the list so far copied in the kernel), which then takes the list's place:
/// memory stays flat however many rows grow.
pub(crate) struct Patch {
    /// The list's path.
    path: PathBuf,
    /// The list, once a row in it changes.
    file: Option<File>,
    /// The copy the list is written to from `written` on, once it is made (see [`HOLD`]).
    copy: Option<File>,
    /// Its length as pass 1 wrote it.
    len: u64,
    /// Where the next unchanged stretch starts in the old list, as planned.
    planned: u64,
    /// The work planned and not yet done.
    ops: Vec<Op>,
    /// The old list read ahead: `ahead[first..filled]` is what stands from `taken` on, up to
    /// `read` (the buffer past `filled` is room, kept so that it is not cleared for each read).
    ahead: Vec<u8>,
    filled: usize,
    first: usize,
    taken: u64,
    read: u64,
    /// The new list not yet written, to go at `written`: stretches of `ahead` and rows.
    out: Vec<Out>,
    /// Its length.
    out_len: usize,
    written: u64,
    /// How much is read or written at a time.
    buffer: usize,
    /// How much may wait in memory, in place ([`HOLD`]).
    hold: usize,
    /// Where what is written goes to be handed to the disk, and how far it has gone.
    behind: Behind,
    handed: u64,
}

/// How much of a list is rewritten before it is handed to the disk.
const HAND_ON: u64 = 4 << 20;

/// A piece of the new list not yet written. A stretch kept is written from where it was read
/// (the pieces go to the kernel in one `writev`), not copied into a buffer first, and what is
/// read ahead is moved to the front of `ahead` a quarter as often as it had been: on the
/// patched 175 MB `audit.csv` of the 10M-row file those copies had moved 1.4 bytes in memory
/// for each byte of the list.
#[derive(Debug)]
enum Out {
    /// `ahead[start..end]`.
    Ahead { start: usize, end: usize },
    /// A row put in.
    Row(Vec<u8>),
}

/// A piece of a patch's work, in the order of the list.
#[derive(Debug, Clone)]
enum Op {
    /// Keeps the next `len` bytes of the old list.
    Copy(u64),
    /// Takes `bytes` from the old list, checking it holds them there: the row classified again
    /// must be the one pass 1 wrote.
    Check(Vec<u8>),
    /// Puts `bytes` in the new list.
    Write(Vec<u8>),
}

/// How much a patch reads or writes at a time: little enough that what it copies stays in
/// the processor's cache (on the 10M-row file pass 2 took 92 ms with 64 KiB, 101 ms with 1 MiB,
/// medians of five).
const BUFFER: usize = 64 << 10;

/// The most that may wait in memory while the list is rewritten in place: the growth so far.
/// Rows that grow by a warning each can make it hundreds of megabytes (a case id that a million
/// rows repeat, each then naming the first); past it, the rest is written to a copy.
const HOLD: usize = 8 << 20;

/// What the copy of a list is called in the staging directory until it takes the list's place.
const COPY_SUFFIX: &str = ".patched";

impl Patch {
    pub(crate) fn new(staging: &Staging, name: &str, behind: &Behind) -> Patch {
        Patch {
            path: staging.path().join(name),
            file: None,
            copy: None,
            len: 0,
            planned: 0,
            ops: Vec::new(),
            ahead: Vec::new(),
            filled: 0,
            first: 0,
            taken: 0,
            read: 0,
            out: Vec::new(),
            out_len: 0,
            written: 0,
            buffer: BUFFER,
            hold: HOLD,
            behind: behind.clone(),
            handed: 0,
        }
    }

    /// Hands `handed..written` to the disk when it holds something and at least `at_least`
    /// bytes (a hint: a failure shows at the `fsync`). What is written is final.
    fn hand_on(&mut self, file: &File, at_least: u64) {
        let new = self.written - self.handed;
        if new == 0 || new < at_least {
            return;
        }
        let to = self.copy.as_ref().unwrap_or(file);
        if self.behind.hand(to, self.handed, self.written) {
            self.handed = self.written;
        }
    }

    fn error(&self, e: std::io::Error) -> Error {
        Error::output(&self.path, e)
    }

    /// Plans to put `now` where `before` stands at `at` (each a row after `head`; absent when
    /// `None`). Rows are replaced in input order.
    pub(super) fn replace(
        &mut self,
        at: u64,
        head: &[u8],
        before: Option<&[u8]>,
        now: Option<&[u8]>,
    ) -> Result<(), Error> {
        if before == now {
            return Ok(());
        }
        if at < self.planned {
            return Err(self.error(std::io::Error::other("rows patched out of order")));
        }
        if self.file.is_none() {
            let file = std::fs::OpenOptions::new()
                .read(true)
                .write(true)
                .open(&self.path)
                .and_then(|f| f.metadata().map(|m| (m.len(), f)));
            let (len, file) = file.map_err(|e| self.error(e))?;
            self.len = len;
            self.file = Some(file);
        }
        self.copy_to(at);
        let row = |tail: &[u8]| [head, tail].concat();
        if let Some(before) = before {
            let bytes = row(before);
            self.planned += bytes.len() as u64;
            self.ops.push(Op::Check(bytes));
        }
        if let Some(now) = now {
            self.ops.push(Op::Write(row(now)));
        }
        Ok(())
    }

    /// Plans to keep the old list from where the last row replaced ends to `end`.
    fn copy_to(&mut self, end: u64) {
        if self.planned < end {
            self.ops.push(Op::Copy(end - self.planned));
            self.planned = end;
        }
    }

    /// Does the work planned so far.
    pub(super) fn run(&mut self) -> Result<(), Error> {
        let Some(file) = self.file.take() else {
            return Ok(());
        };
        let done = std::mem::take(&mut self.ops)
            .into_iter()
            .try_for_each(|op| self.apply(&file, op));
        // What is written is final: it goes to the disk now, so that the fsync at the end finds
        // little left to write.
        self.hand_on(&file, 0);
        self.file = Some(file);
        done.map_err(|e| self.error(e))
    }

    fn apply(&mut self, file: &File, op: Op) -> std::io::Result<()> {
        match op {
            Op::Copy(mut len) => {
                while len > 0 {
                    if self.first == self.filled {
                        self.read_ahead(file, self.taken + 1)?;
                    }
                    let n =
                        (self.filled - self.first).min(usize::try_from(len).unwrap_or(usize::MAX));
                    let (start, end) = (self.first, self.first + n);
                    match self.out.last_mut() {
                        Some(Out::Ahead { end: last, .. }) if *last == start => *last = end,
                        _ => self.out.push(Out::Ahead { start, end }),
                    }
                    self.out_len += n;
                    self.first = end;
                    self.taken += n as u64;
                    len -= n as u64;
                    if self.out_len >= self.buffer {
                        self.flush(file)?;
                    }
                }
            }
            Op::Check(bytes) => {
                let end = self.taken + bytes.len() as u64;
                self.read_ahead(file, end)?;
                let stands = &self.ahead[self.first..self.first + bytes.len()];
                if stands != bytes {
                    return Err(std::io::Error::other(
                        "a row differs from its first classification",
                    ));
                }
                self.first += bytes.len();
                self.taken = end;
            }
            Op::Write(bytes) => {
                self.out_len += bytes.len();
                self.out.push(Out::Row(bytes));
                if self.out_len >= self.buffer {
                    self.flush(file)?;
                }
            }
        }
        Ok(())
    }

    /// Reads the old list until `end` (a buffer at least), or to its end: fails when `end` is
    /// past it.
    fn read_ahead(&mut self, file: &File, end: u64) -> std::io::Result<()> {
        if end > self.len {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        if self.read >= end {
            return Ok(());
        }
        // What is taken and written is dropped from the front once it is a few buffers and at
        // least what stays: each byte is then moved a bounded number of times, also when rows
        // that grow leave megabytes waiting (every row of a case id repeated a million times,
        // say), where moving all that waits at every buffer read had made the rewrite
        // quadratic. What is taken but waits to be written stays.
        let keep = (self.out.iter())
            .find_map(|o| match o {
                Out::Ahead { start, .. } => Some(*start),
                Out::Row(_) => None,
            })
            .unwrap_or(self.first);
        if keep >= 4 * self.buffer && keep >= self.filled - keep {
            self.ahead.copy_within(keep..self.filled, 0);
            self.filled -= keep;
            self.first -= keep;
            for out in &mut self.out {
                if let Out::Ahead { start, end } = out {
                    *start -= keep;
                    *end -= keep;
                }
            }
        }
        let to = end.max(self.read + self.buffer as u64).min(self.len);
        let at = self.filled;
        self.filled += (to - self.read) as usize;
        if self.ahead.len() < self.filled {
            self.ahead.resize(self.filled, 0);
        }
        file.read_exact_at(&mut self.ahead[at..self.filled], self.read)?;
        self.read = to;
        if self.copy.is_none() && self.filled - self.first > self.hold {
            self.make_copy()?;
        }
        Ok(())
    }

    /// Reads what the list holds before `end` before it is written over, in place.
    fn read_under(&mut self, file: &File, end: u64) -> std::io::Result<()> {
        match self.copy {
            Some(_) => Ok(()),
            None => self.read_ahead(file, end.min(self.len)),
        }
    }

    /// Goes on writing to a copy of the list: what is rewritten so far (`..written`) is
    /// copied there in the kernel, and from now on the old list is only read.
    fn make_copy(&mut self) -> std::io::Result<()> {
        let path = self.copy_path();
        let mut copy = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(path)?;
        // Opened anew, with an offset of its own (the list is otherwise read and written at
        // given offsets).
        let mut done = std::io::Read::take(File::open(&self.path)?, self.written);
        let copied = std::io::copy(&mut done, &mut copy)?;
        if copied != self.written {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        self.copy = Some(copy);
        // The copy is handed to the disk from its start.
        self.handed = 0;
        Ok(())
    }

    fn copy_path(&self) -> PathBuf {
        let mut name = self.path.clone().into_os_string();
        name.push(COPY_SUFFIX);
        PathBuf::from(name)
    }

    /// Writes out the new list so far, in one call. Everything of the old list it writes over
    /// is read first.
    fn flush(&mut self, file: &File) -> std::io::Result<()> {
        let end = self.written + self.out_len as u64;
        self.read_under(file, end)?;
        let parts: Vec<&[u8]> = (self.out.iter())
            .map(|out| match out {
                Out::Ahead { start, end } => &self.ahead[*start..*end],
                Out::Row(row) => &row[..],
            })
            .collect();
        write_all_vectored_at(self.copy.as_ref().unwrap_or(file), &parts, self.written)?;
        self.written = end;
        self.out.clear();
        self.out_len = 0;
        self.hand_on(file, HAND_ON);
        Ok(())
    }

    /// Keeps the rest, writes it out, and cuts the list where it now ends.
    pub(crate) fn finish(mut self) -> Result<(), Error> {
        if self.file.is_none() {
            return Ok(());
        }
        self.copy_to(self.len);
        self.run()?;
        let Some(file) = self.file.take() else {
            return Ok(());
        };
        self.flush(&file)
            .and_then(|()| match &self.copy {
                Some(copy) => {
                    copy.set_len(self.written)?;
                    std::fs::rename(self.copy_path(), &self.path)
                }
                None => file.set_len(self.written),
            })
            .map_err(|e| self.error(e))
    }
}

/// Writes `parts` one after the other at `at`: a `writev` at the file's own offset, set there
/// (a patch otherwise reads and writes at given offsets, and leaves that offset alone).
fn write_all_vectored_at(mut to: &File, parts: &[&[u8]], at: u64) -> std::io::Result<()> {
    use std::io::{IoSlice, Seek as _, SeekFrom, Write as _};
    to.seek(SeekFrom::Start(at))?;
    let mut slices: Vec<IoSlice<'_>> = parts.iter().map(|p| IoSlice::new(p)).collect();
    let mut slices = &mut slices[..];
    IoSlice::advance_slices(&mut slices, 0);
    while !slices.is_empty() {
        match to.write_vectored(slices) {
            Ok(0) => return Err(std::io::ErrorKind::WriteZero.into()),
            Ok(n) => IoSlice::advance_slices(&mut slices, n),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn staged_list(bytes: &[u8]) -> (tempfile::TempDir, Staging) {
        let dir = tempfile::tempdir().unwrap();
        let staging = Staging::create(&dir.path().join("out")).unwrap();
        std::io::Write::write_all(&mut staging.create_file("audit.csv").unwrap(), bytes).unwrap();
        (dir, staging)
    }

    fn list(staging: &Staging) -> Vec<u8> {
        std::fs::read(staging.path().join("audit.csv")).unwrap()
    }

    #[test]
    fn a_patched_list_keeps_every_other_row_in_place() {
        patched_in_place(&Behind::start());
    }

    #[test]
    fn without_a_thread_to_hand_it_on_the_patch_hands_it_on_itself() {
        patched_in_place(&Behind::here());
    }

    fn patched_in_place(behind: &Behind) {
        let rows = ["head\n", "a,1,x\n", "a,2,y\n", "a,3,z\n", "a,4,w\n"];
        let (_dir, staging) = staged_list(rows.concat().as_bytes());
        let at = |k: usize| rows[..k].concat().len() as u64;
        let mut patch = Patch::new(&staging, "audit.csv", behind);
        // Row 1 grows, row 2 leaves the list, row 3 is as it was.
        let (before, grown) = (Some(&b"1,x\n"[..]), Some(&b"1,changed\n"[..]));
        patch.replace(at(1), b"a,", before, grown).unwrap();
        patch.run().unwrap();
        patch.replace(at(2), b"a,", Some(b"2,y\n"), None).unwrap();
        patch
            .replace(at(3), b"a,", Some(b"3,z\n"), Some(b"3,z\n"))
            .unwrap();
        patch.finish().unwrap();
        assert_eq!(list(&staging), b"head\na,1,changed\na,3,z\na,4,w\n");
    }

    #[test]
    fn a_row_that_is_not_where_pass_1_wrote_it_stops_the_run() {
        let (_dir, staging) = staged_list(b"head\na,1,x\na,2,y\n");
        let mut patch = Patch::new(&staging, "audit.csv", &Behind::start());
        patch
            .replace(5, b"a,", Some(b"2,y\n"), Some(b"2,z\n"))
            .unwrap();
        let err = patch.run().unwrap_err().to_string();
        assert!(
            err.contains("differs from its first classification"),
            "{err}"
        );
    }

    #[test]
    fn a_list_shorter_than_planned_stops_the_run() {
        let (_dir, staging) = staged_list(b"head\n");
        let mut patch = Patch::new(&staging, "audit.csv", &Behind::start());
        patch.replace(100, b"a,", None, Some(b"1,x\n")).unwrap();
        assert!(patch.run().is_err());
    }

    #[test]
    fn rows_that_all_grow_send_the_rest_to_a_copy_and_memory_stays_flat() {
        let rows: Vec<String> = (0..2000).map(|k| format!("row {k}\n")).collect();
        let (_dir, staging) = staged_list(rows.concat().as_bytes());
        let mut patch = Patch::new(&staging, "audit.csv", &Behind::start());
        (patch.buffer, patch.hold) = (256, 4096);
        let mut at = 0;
        let mut most = 0;
        for (k, row) in rows.iter().enumerate() {
            let grown = format!("row {k}, now with a warning fifty bytes long or so\n");
            let (before, now) = (row.as_bytes(), grown.as_bytes());
            patch.replace(at, b"", Some(before), Some(now)).unwrap();
            at += row.len() as u64;
            if k % 16 == 0 {
                patch.run().unwrap();
                most = most.max(patch.filled - patch.first);
            }
        }
        // 2,000 rows grew by 40-odd bytes each: 90 kB waited in memory, in place.
        assert!(most < 4096 + 2 * 256 + 128, "{most} bytes waited");
        assert!(patch.copy.is_some());
        patch.finish().unwrap();
        let expected: String = (0..2000)
            .map(|k| format!("row {k}, now with a warning fifty bytes long or so\n"))
            .collect();
        assert_eq!(String::from_utf8(list(&staging)).unwrap(), expected);
        let names: Vec<_> = std::fs::read_dir(staging.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["audit.csv"], "the copy took the list's place");
    }

    proptest! {
        /// However rows grow, shrink, leave or join, however small the buffers, and wherever
        /// the growth waiting in memory sends the rest to a copy (or never), the list rewritten
        /// is the one written anew: nothing of the old list is written over before it is read,
        /// and the copy, when made, takes the list's place.
        #[test]
        fn a_list_patched_in_place_is_the_list_written_anew(
            rows in prop::collection::vec("[a-z]{0,12}", 0..40),
            changes in prop::collection::vec((any::<bool>(), "[A-Z]{0,30}"), 0..40),
            buffer in 1usize..64,
            batch in 1usize..8,
            hold in prop::option::of(0usize..200),
        ) {
            let old: Vec<u8> = rows.iter().flat_map(|r| format!("{r}\n").into_bytes()).collect();
            let (_dir, staging) = staged_list(&old);
            let mut patch = Patch::new(&staging, "audit.csv", &Behind::start());
            patch.buffer = buffer;
            patch.hold = hold.unwrap_or(usize::MAX);
            let mut expected = Vec::new();
            let mut at = 0u64;
            for (k, row) in rows.iter().enumerate() {
                let row = format!("{row}\n");
                let (before, now) = match changes.get(k) {
                    Some((true, new)) => (Some(row.clone()), Some(format!("{new}\n"))),
                    Some((false, new)) if new.len() % 2 == 0 => (Some(row.clone()), None),
                    Some((false, new)) => (None, Some(format!("{new}\n"))),
                    None => (None, None),
                };
                if let Some(now) = &now {
                    expected.extend_from_slice(now.as_bytes());
                }
                let kept = before.is_none();
                if before.is_some() || now.is_some() {
                    let (b, n) = (before.as_deref().map(str::as_bytes), now.as_deref().map(str::as_bytes));
                    patch.replace(at, b"", b, n).unwrap();
                }
                if kept {
                    expected.extend_from_slice(row.as_bytes());
                }
                at += row.len() as u64;
                if k % batch == 0 {
                    patch.run().unwrap();
                    // What waits in memory stays within the hold, a buffer and a row or two.
                    let waiting = patch.filled - patch.first;
                    prop_assert!(waiting <= patch.hold.saturating_add(2 * buffer + 128), "{waiting}");
                }
            }
            patch.finish().unwrap();
            prop_assert_eq!(list(&staging), expected);
            let names: Vec<_> = std::fs::read_dir(staging.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
            prop_assert_eq!(names, vec![std::ffi::OsString::from("audit.csv")]);
        }
    }
}
