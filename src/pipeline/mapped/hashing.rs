//! A mapped input's digest, taken over its bytes piece by piece as they are written, and the
//! letting go of its pages once read and hashed; and the ledger's SHA-256 of it, taken behind
//! the run on a thread of its own.

use std::fs::File;
use std::os::unix::fs::FileExt as _;

use memmap2::Mmap;
use sha2::Digest as _;

use super::super::spill::FileIdentity;
use super::subtrees::Subtrees;
use crate::input::source::DigestKind;

/// The input's digest, taken over the mapped bytes piece by piece beside the reading, as the
/// stream reader takes it over the same bytes. BLAKE3 is taken in subtrees ([`Subtrees`]), most
/// of them hashed where the pieces are read.
pub(super) enum Digest {
    Blake3(Box<Subtrees>),
    Sha256(Box<sha2::Sha256>),
    None,
}

impl Digest {
    pub(super) fn new(kind: DigestKind) -> Digest {
        match kind {
            DigestKind::Blake3 => Digest::Blake3(Box::default()),
            DigestKind::Sha256 => Digest::Sha256(Box::default()),
            DigestKind::None => Digest::None,
        }
    }

    /// Takes in `input[from..end]`, the bytes after those taken so far.
    pub(super) fn update(&mut self, input: &[u8], from: usize, end: usize) {
        match self {
            Digest::Blake3(subtrees) => subtrees.hash_to(input, end),
            Digest::Sha256(h) => h.update(&input[from..end]),
            Digest::None => {}
        }
    }

    /// The digest of `input`, all of it taken in.
    pub(super) fn finish(self, input: &[u8]) -> Option<String> {
        match self {
            Digest::Blake3(subtrees) => Some(subtrees.finish(input).to_hex().to_string()),
            Digest::Sha256(h) => Some(h.finalize().iter().map(|b| format!("{b:02x}")).collect()),
            Digest::None => None,
        }
    }
}

/// The mapped file, and how far it has been hashed and its pages let go.
pub(super) struct Mapped<'m> {
    pub(super) map: &'m Mmap,
    /// Where the data (after a byte-order mark) starts.
    pub(super) skip: usize,
    pub(super) digest: Digest,
    /// The input's SHA-256 for the ledger, when asked for besides another digest and taken in
    /// the scan's order (a run on one thread; else [`Sha256Worker`]).
    pub(super) sha256: Option<Digest>,
    /// Where the bytes hashed so far end (an offset in the map).
    pub(super) hashed: usize,
    /// Where the pages let go end.
    pub(super) released: usize,
}

impl Mapped<'_> {
    /// Hashes the map's bytes from where the hashing stands to `end` (an offset in the map).
    pub(super) fn hash_to(&mut self, end: usize) {
        if end <= self.hashed {
            return;
        }
        self.digest.update(self.map, self.hashed, end);
        if let Some(sha256) = &mut self.sha256 {
            sha256.update(self.map, self.hashed, end);
        }
        self.hashed = end;
    }

    /// Takes the subtrees hashed where a piece was read ([`Subtrees::offer`]).
    pub(super) fn offer(&mut self, hashed: Vec<(usize, blake3::hazmat::ChainingValue)>) {
        if let Digest::Blake3(subtrees) = &mut self.digest {
            subtrees.offer(hashed);
        }
    }

    /// The input's digest, once it is all hashed.
    pub(super) fn finish_digest(&mut self) -> Option<String> {
        std::mem::replace(&mut self.digest, Digest::None).finish(self.map)
    }

    /// Lets go of the pages before `data_end` (a data offset) that are hashed too, so that the
    /// resident memory stays a few pieces however large the file: the kernel keeps them
    /// cached. (The rows kept from a piece are copies: nothing borrows from the map.)
    pub(super) fn release(&mut self, data_end: usize) {
        let subtrees = match &self.digest {
            Digest::Blake3(subtrees) => subtrees.hashed(),
            _ => usize::MAX,
        };
        let end = (self.skip + data_end).min(self.hashed).min(subtrees);
        if end <= self.released {
            return;
        }
        // SAFETY: the map is read only and nothing borrowed from it before `end` is used again
        // (a page read again would simply be read from the page cache).
        let _ = unsafe {
            self.map.unchecked_advise_range(
                memmap2::UncheckedAdvice::DontNeed,
                self.released,
                end - self.released,
            )
        };
        self.released = end;
    }
}

/// The inputs' SHA-256 for the ledger (SPEC §5.1) when the summary's digest is another: read
/// from each file, not the map, on one thread of the run's own at a low priority, so that it
/// takes the processor time the run leaves idle (the settling, pass 2 and the waits for the disk
/// run on fewer threads than there are cores) and the map's pages go as soon as the scan is done
/// with them. SHA-256 cannot be split over threads: taken in the scan's order, on its writing
/// thread, it had made pass 1 of the 10M-row file 1.30 s instead of 0.72 s. One thread takes the
/// inputs in turn, however many there are (a thread each had let a directory of exports start
/// as many, each with its buffer). A run told to use one thread takes it in the scan's order
/// ([`Mapped::sha256`]): it keeps to one core.
pub(crate) struct Sha256Worker {
    inputs: std::sync::mpsc::Sender<Sha256Job>,
}

/// An input for the [`Sha256Worker`]: the file, what it was when scanned, and where its
/// digest goes. The file is named, not held open: a directory of thousands of exports queued
/// behind the scan must not hold as many files open.
struct Sha256Job {
    path: std::path::PathBuf,
    identity: FileIdentity,
    done: std::sync::mpsc::Sender<std::io::Result<String>>,
}

/// An input's SHA-256 being taken by the [`Sha256Worker`].
pub struct Sha256Behind {
    /// The input's name, for its errors.
    name: String,
    digest: std::sync::mpsc::Receiver<std::io::Result<String>>,
}

/// Read at a time by the [`Sha256Worker`].
const SHA256_READ: usize = 1 << 20;

impl Sha256Worker {
    /// Starts the thread; it ends once the worker is dropped and the inputs given are done.
    pub(crate) fn start() -> std::io::Result<Sha256Worker> {
        let (inputs, jobs) = std::sync::mpsc::channel::<Sha256Job>();
        std::thread::Builder::new()
            .name("genoptag-sha256".into())
            .spawn(move || {
                lower_priority();
                let mut buf = vec![0; SHA256_READ];
                for job in jobs {
                    let digest = File::open(&job.path)
                        .and_then(|file| sha256_of(&file, job.identity, &mut buf));
                    // A run that ended early no longer waits for it.
                    let _ = job.done.send(digest);
                }
            })?;
        Ok(Sha256Worker { inputs })
    }

    /// Takes the SHA-256 of the file at `path`, the file `identity` names (as long as it
    /// says), behind the inputs given before.
    pub(super) fn take(
        &self,
        path: &std::path::Path,
        identity: FileIdentity,
        name: &str,
    ) -> std::io::Result<Sha256Behind> {
        let (done, digest) = std::sync::mpsc::channel();
        let job = Sha256Job {
            path: path.to_path_buf(),
            identity,
            done,
        };
        self.inputs
            .send(job)
            .map_err(|_| std::io::Error::other("the SHA-256 thread has ended"))?;
        Ok(Sha256Behind {
            name: name.to_string(),
            digest,
        })
    }
}

/// The SHA-256 of `file` as `identity` found it; an error if it is another file now.
fn sha256_of(file: &File, identity: FileIdentity, buf: &mut [u8]) -> std::io::Result<String> {
    let mut sha256 = Digest::new(DigestKind::Sha256);
    let (len, mut at) = (identity.len(), 0);
    while at < len {
        let n = usize::try_from(len - at).map_or(buf.len(), |n| n.min(buf.len()));
        file.read_exact_at(&mut buf[..n], at)?;
        sha256.update(buf, 0, n);
        at += n as u64;
    }
    // Read apart from the scan: it must have read the same file.
    if FileIdentity::of(&file.metadata()?) != identity {
        return Err(std::io::Error::other(
            "it changed while it was scanned: scan it again",
        ));
    }
    // A SHA-256 digest always has its hex.
    Ok(sha256.finish(&[]).unwrap_or_default())
}

impl Sha256Behind {
    /// The digest, once taken (waits for it).
    pub(crate) fn finish(self) -> Result<String, crate::error::Error> {
        let taken = self
            .digest
            .recv()
            .unwrap_or_else(|_| Err(std::io::Error::other("its SHA-256 could not be taken")));
        taken.map_err(|err| crate::error::Error::Input {
            file: self.name,
            err,
        })
    }
}

/// Lets the other threads of the run go first (Linux: `nice` 10 for this thread alone).
fn lower_priority() {
    #[cfg(target_os = "linux")]
    // SAFETY: `setpriority` only changes the scheduling of the calling thread (its id).
    unsafe {
        let _ = libc::setpriority(libc::PRIO_PROCESS, libc::gettid() as libc::id_t, 10);
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, SystemTime};

    use super::*;

    fn hex(digest: &[u8]) -> String {
        digest.iter().map(|b| format!("{b:02x}")).collect()
    }

    #[test]
    fn the_sha256_behind_the_run_is_the_files_and_sees_it_rewritten() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("export.csv");
        // Several reads' worth, the last one short.
        let bytes: Vec<u8> = (0..3 * SHA256_READ as u32 + 12_345)
            .map(|i| (i % 251) as u8)
            .collect();
        std::fs::write(&path, &bytes).unwrap();
        let file = File::open(&path).unwrap();
        let identity = FileIdentity::of(&file.metadata().unwrap());
        let worker = Sha256Worker::start().unwrap();
        let behind = worker.take(&path, identity, "export.csv").unwrap();
        assert_eq!(behind.finish().unwrap(), hex(&sha2::Sha256::digest(&bytes)));

        // Rewritten in place after the scan took its identity: as long, but another file.
        let rewrite = std::fs::OpenOptions::new().write(true).open(&path).unwrap();
        rewrite.write_all_at(b"X", 0).unwrap();
        let then = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000_000);
        rewrite.set_modified(then).unwrap();
        let behind = worker.take(&path, identity, "export.csv").unwrap();
        drop(worker);
        let err = behind.finish().unwrap_err().to_string();
        assert!(err.contains("export.csv"), "{err}");
        assert!(err.contains("changed while it was scanned"), "{err}");
    }
}
