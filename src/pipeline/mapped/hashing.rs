//! A mapped input's digest, taken over its bytes piece by piece as they are written, and the
//! letting go of its pages once read and hashed.

use memmap2::Mmap;
use sha2::Digest as _;

use crate::input::source::DigestKind;

/// The input's digest, taken over the mapped bytes piece by piece beside the reading, as the
/// stream reader takes it over the same bytes.
pub(super) enum Digest {
    Blake3(Box<blake3::Hasher>),
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

    pub(super) fn update(&mut self, bytes: &[u8]) {
        match self {
            Digest::Blake3(h) => {
                h.update_rayon(bytes);
            }
            Digest::Sha256(h) => h.update(bytes),
            Digest::None => {}
        }
    }

    pub(super) fn finish(self) -> Option<String> {
        match self {
            Digest::Blake3(h) => Some(h.finalize().to_hex().to_string()),
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
    /// The input's SHA-256 for the ledger, when asked for besides another digest.
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
        let bytes = &self.map[self.hashed..end];
        self.digest.update(bytes);
        if let Some(sha256) = &mut self.sha256 {
            sha256.update(bytes);
        }
        self.hashed = end;
    }

    /// Lets go of the pages before `data_end` (a data offset) that are hashed too, so that the
    /// resident memory stays a few pieces however large the file: the kernel keeps them
    /// cached. (The rows kept from a piece are copies: nothing borrows from the map.)
    pub(super) fn release(&mut self, data_end: usize) {
        let end = (self.skip + data_end).min(self.hashed);
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
