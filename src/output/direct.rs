//! A list written straight to disk (Linux's `O_DIRECT`), a large aligned chunk at a time on a
//! thread of its own, past the page cache: the thread that writes the lists in order only copies
//! each row into a chunk. Through the page cache, the 240 MB of lists of the 10M-row bench file
//! had cost that thread ~90 ms of copying into pages the kernel first had to find (fresh memory
//! is dear on this machine), and the kernel ~30 ms more to hand them to the disk; the old pages
//! then had to be dropped again when the next run removed the lists.
//!
//! Where the system cannot (not Linux, a file system without `O_DIRECT`, no thread to be had),
//! [`Direct::open`] gives none and the list is written through the page cache as before. A chunk
//! the file system refuses to take directly goes through the page cache instead.

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::FileExt as _;
use std::path::Path;
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::thread::JoinHandle;

/// Bytes written at a time: a multiple of [`ALIGN`].
const CHUNK: usize = 512 << 10;

/// What `O_DIRECT` asks of a write's memory, offset and length (the page size; the disk's
/// logical block is smaller on every system this runs on).
const ALIGN: usize = 4096;

/// A chunk's memory, with room to start it at an aligned address.
struct Chunk(Vec<u8>);

impl Chunk {
    fn new() -> Chunk {
        Chunk(vec![0; CHUNK + ALIGN])
    }

    /// Where the aligned chunk starts in the memory.
    fn start(&self) -> usize {
        self.0.as_ptr().align_offset(ALIGN)
    }

    fn bytes(&self) -> &[u8] {
        let at = self.start();
        &self.0[at..at + CHUNK]
    }

    fn bytes_mut(&mut self) -> &mut [u8] {
        let at = self.start();
        &mut self.0[at..at + CHUNK]
    }
}

/// A chunk handed to the thread: its first `len` bytes go at `offset`.
struct Full {
    chunk: Chunk,
    len: usize,
    offset: u64,
}

/// A file being written straight to disk, from its first byte on.
pub struct Direct {
    /// The file as created (written through the page cache): for the last bytes, which are not
    /// a whole aligned block.
    plain: File,
    chunk: Chunk,
    filled: usize,
    /// Where `chunk` goes in the file.
    offset: u64,
    writer: Writer,
    free: Receiver<Chunk>,
}

/// The thread that writes the chunks, and the way to it. Dropped (a run that ends in an error),
/// it lets the thread end and waits for it: no thread outlives its file.
struct Writer {
    full: Option<SyncSender<Full>>,
    thread: Option<JoinHandle<io::Result<()>>>,
}

impl Drop for Writer {
    fn drop(&mut self) {
        drop(self.full.take());
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Direct {
    /// Opens `path` (just created as `plain`, empty) again for writing straight to disk, with a
    /// thread that writes it. `None` where the system cannot: the caller then writes `plain`.
    pub fn open(plain: File, path: &Path) -> Result<Direct, File> {
        let Some(direct) = open_direct(path) else {
            return Err(plain);
        };
        let Ok(fallback) = plain.try_clone() else {
            return Err(plain);
        };
        // Two chunks: one filled here while the thread writes the other.
        let (full, to_write) = sync_channel::<Full>(1);
        let (give_back, free) = sync_channel::<Chunk>(2);
        if give_back.send(Chunk::new()).is_err() {
            return Err(plain);
        }
        let thread = std::thread::Builder::new()
            .name("genoptag-direct".into())
            .spawn(move || write_chunks(&direct, &fallback, &to_write, &give_back));
        match thread {
            Ok(thread) => Ok(Direct {
                plain,
                chunk: Chunk::new(),
                filled: 0,
                offset: 0,
                writer: Writer {
                    full: Some(full),
                    thread: Some(thread),
                },
                free,
            }),
            Err(_) => Err(plain),
        }
    }

    /// Hands the chunk to the thread and takes the other once it is written.
    fn hand_on(&mut self) -> io::Result<()> {
        let Ok(next) = self.free.recv() else {
            return Err(self.ended());
        };
        let chunk = std::mem::replace(&mut self.chunk, next);
        let full = Full {
            chunk,
            len: self.filled,
            offset: self.offset,
        };
        let sent = (self.writer.full.as_ref()).is_some_and(|f| f.send(full).is_ok());
        if !sent {
            return Err(self.ended());
        }
        self.offset += self.filled as u64;
        self.filled = 0;
        Ok(())
    }

    /// Writes what is left and waits until every byte is in the file; gives the file back (its
    /// last bytes possibly still in the page cache: an `fsync` puts them on disk).
    pub fn finish(mut self) -> io::Result<File> {
        let whole = self.filled / ALIGN * ALIGN;
        let rest = self.chunk.bytes()[whole..self.filled].to_vec();
        let rest_at = self.offset + whole as u64;
        if whole > 0 {
            self.filled = whole;
            self.hand_on()?;
        }
        drop(self.writer.full.take());
        let thread = self.writer.thread.take().ok_or_else(thread_gone)?;
        thread.join().map_err(|_| thread_gone())??;
        self.plain.write_all_at(&rest, rest_at)?;
        Ok(self.plain)
    }
}

impl Write for Direct {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        let n = bytes.len().min(CHUNK - self.filled);
        self.chunk.bytes_mut()[self.filled..self.filled + n].copy_from_slice(&bytes[..n]);
        self.filled += n;
        if self.filled == CHUNK {
            self.hand_on()?;
        }
        Ok(n)
    }

    /// Nothing: the bytes go to disk a whole chunk at a time, and the rest at [`Direct::finish`].
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Direct {
    /// Why the thread ended before it was done: its error.
    fn ended(&mut self) -> io::Error {
        match self.writer.thread.take().map(JoinHandle::join) {
            Some(Ok(Err(e))) => e,
            _ => thread_gone(),
        }
    }
}

fn thread_gone() -> io::Error {
    io::Error::other("the thread writing the file ended early")
}

/// The thread: writes each chunk where it goes, straight or, where the file system refuses
/// that, through the page cache, and gives it back. The first error ends it.
fn write_chunks(
    direct: &File,
    plain: &File,
    to_write: &Receiver<Full>,
    give_back: &SyncSender<Chunk>,
) -> io::Result<()> {
    let mut refused = false;
    for Full { chunk, len, offset } in to_write {
        let bytes = &chunk.bytes()[..len];
        let straight = if refused {
            None
        } else {
            Some(direct.write_all_at(bytes, offset))
        };
        match straight {
            Some(Ok(())) => {}
            Some(Err(e)) if e.raw_os_error() != Some(libc::EINVAL) => return Err(e),
            _ => {
                refused = true;
                plain.write_all_at(bytes, offset)?;
            }
        }
        // The writer may have finished: then nobody takes the chunk.
        let _ = give_back.send(chunk);
    }
    Ok(())
}

/// `path` opened for writing with `O_DIRECT`, where the system has it.
fn open_direct(path: &Path) -> Option<File> {
    #[cfg(target_os = "linux")]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        OpenOptions::new()
            .write(true)
            .custom_flags(libc::O_DIRECT)
            .open(path)
            .ok()
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = (path, OpenOptions::new());
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Bytes of every length around the chunk and the aligned block, written in pieces of
    /// every size, read back as they were written.
    #[test]
    fn the_file_holds_exactly_the_bytes_written() {
        let dir = tempfile::tempdir().unwrap();
        for (k, len) in [
            0,
            1,
            4095,
            4096,
            4097,
            CHUNK - 1,
            CHUNK,
            CHUNK + 1,
            3 * CHUNK + 5000,
        ]
        .into_iter()
        .enumerate()
        {
            let path = dir.path().join(format!("list-{k}.csv"));
            let bytes: Vec<u8> = (0..len).map(|i| (i * 7 % 251) as u8).collect();
            let plain = File::create(&path).unwrap();
            let mut out = match Direct::open(plain, &path) {
                Ok(direct) => Box::new(direct) as Box<dyn WriteAndFinish>,
                Err(plain) => Box::new(plain),
            };
            let mut at = 0;
            let mut step = 1;
            while at < len {
                let n = step.min(len - at);
                out.write_all(&bytes[at..at + n]).unwrap();
                at += n;
                step = step * 3 % 7001 + 1;
            }
            out.done().unwrap();
            assert_eq!(std::fs::read(&path).unwrap(), bytes, "{len} bytes");
        }
    }

    trait WriteAndFinish: Write {
        fn done(self: Box<Self>) -> io::Result<()>;
    }

    impl WriteAndFinish for Direct {
        fn done(self: Box<Self>) -> io::Result<()> {
            self.finish().map(drop)
        }
    }

    impl WriteAndFinish for File {
        fn done(self: Box<Self>) -> io::Result<()> {
            Ok(())
        }
    }

    /// Runs the writing thread's loop over `chunks` (bytes, offset) on `direct`.
    fn written(direct: &File, plain: &File, chunks: &[(&[u8], u64)]) -> io::Result<()> {
        let (full, to_write) = sync_channel::<Full>(chunks.len());
        let (give_back, _free) = sync_channel::<Chunk>(chunks.len());
        for &(bytes, offset) in chunks {
            let mut chunk = Chunk::new();
            chunk.bytes_mut()[..bytes.len()].copy_from_slice(bytes);
            let len = bytes.len();
            full.send(Full { chunk, len, offset }).unwrap();
        }
        drop(full);
        write_chunks(direct, plain, &to_write, &give_back)
    }

    #[test]
    fn a_chunk_the_file_system_will_not_take_directly_goes_through_the_page_cache() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("list.csv");
        let plain = File::create(&path).unwrap();
        let Some(direct) = open_direct(&path) else {
            return; // No direct writes here: nothing to refuse.
        };
        // An offset that is no whole block: refused (EINVAL), written all the same.
        let block = vec![b'a'; ALIGN];
        written(&direct, &plain, &[(&block, 0), (b"bc", ALIGN as u64 + 1)]).unwrap();
        let mut expected = block.clone();
        expected.extend_from_slice(b"\0bc");
        assert_eq!(std::fs::read(&path).unwrap(), expected);
    }

    #[test]
    fn a_failed_write_is_the_error_the_writer_gets() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("list.csv");
        std::fs::write(&path, b"").unwrap();
        let read_only = File::open(&path).unwrap();
        let block = vec![b'a'; ALIGN];
        let err = written(&read_only, &read_only, &[(&block, 0)]).unwrap_err();
        assert_eq!(err.raw_os_error(), Some(libc::EBADF), "{err}");
    }

    #[test]
    fn a_file_dropped_unfinished_has_its_chunks_written_when_the_drop_returns() {
        // A run that ends in an error drops its lists: the thread is waited for, not left behind.
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("list.csv");
        let plain = File::create(&path).unwrap();
        let Ok(mut direct) = Direct::open(plain, &path) else {
            return; // No direct writes here.
        };
        direct.write_all(&vec![b'x'; CHUNK + 10]).unwrap();
        drop(direct);
        assert_eq!(std::fs::metadata(&path).unwrap().len(), CHUNK as u64);
    }

    #[test]
    fn a_file_system_without_direct_writes_leaves_the_file_to_the_caller() {
        // A path that cannot be opened again: the caller keeps its file.
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("list.csv");
        let plain = File::create(&path).unwrap();
        std::fs::remove_file(&path).unwrap();
        assert!(Direct::open(plain, &path).is_err());
    }
}
