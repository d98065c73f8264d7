//! Opening the inputs (SPEC §6.1, §3.2): files, directories (their `*.csv`, sorted) and stdin;
//! the byte-order mark, the encoding and the delimiter are found from the first bytes, and the
//! input's digest and size are computed while it streams.

use std::fs::File;
use std::io::{self, Chain, Cursor, Read};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use clap::ValueEnum;
use sha2::Digest as _;

use crate::error::Error;
use crate::input::encoding::{self, Decoding, EncodingChoice};

/// One input as given on the command line.
#[derive(Debug, Clone)]
pub struct Source {
    /// The path as given (`stdin` for `-`): written in every output row's `source`.
    pub name: String,
    pub path: Option<PathBuf>,
}

/// Expands the command line's inputs: a directory gives its `*.csv` files sorted by name.
pub fn expand(inputs: &[String]) -> Result<Vec<Source>, Error> {
    let mut sources = Vec::new();
    for input in inputs {
        if input == "-" {
            sources.push(Source {
                name: "stdin".to_string(),
                path: None,
            });
            continue;
        }
        let path = Path::new(input);
        if path.is_dir() {
            let entries = std::fs::read_dir(path).map_err(|err| Error::Input {
                file: input.clone(),
                err,
            })?;
            let mut files: Vec<PathBuf> = entries
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| {
                    p.is_file() && p.extension().is_some_and(|e| e.eq_ignore_ascii_case("csv"))
                })
                .collect();
            files.sort();
            if files.is_empty() {
                return Err(Error::Input {
                    file: input.clone(),
                    err: io::Error::new(
                        io::ErrorKind::NotFound,
                        "the directory holds no *.csv file",
                    ),
                });
            }
            sources.extend(files.into_iter().map(|p| Source {
                name: p.display().to_string(),
                path: Some(p),
            }));
        } else {
            sources.push(Source {
                name: input.clone(),
                path: Some(path.to_path_buf()),
            });
        }
    }
    if sources.iter().filter(|s| s.path.is_none()).count() > 1 {
        return Err(Error::Usage(
            "standard input (`-`) can be given only once".to_string(),
        ));
    }
    Ok(sources)
}

/// The digest written in `summary.json` for each input.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum DigestKind {
    #[default]
    Blake3,
    Sha256,
    None,
}

impl DigestKind {
    /// The algorithm's name as `summary.json` writes it.
    pub fn name(self) -> &'static str {
        match self {
            DigestKind::Blake3 => "blake3",
            DigestKind::Sha256 => "sha256",
            DigestKind::None => "none",
        }
    }
}

enum Hasher {
    Blake3(Box<blake3::Hasher>),
    Sha256(Box<sha2::Sha256>),
    None,
}

/// Counts and hashes the bytes as they are read, so the digest costs no second pass.
pub struct Hashing<R> {
    inner: R,
    hasher: Hasher,
    /// A SHA-256 besides a BLAKE3 digest (or none), for the ledger (SPEC §5.1): computed from the
    /// very bytes that were classified, so it cannot describe a file replaced after the scan.
    sha256: Option<Box<sha2::Sha256>>,
    bytes: Arc<AtomicU64>,
}

impl<R: Read> Read for Hashing<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        match &mut self.hasher {
            Hasher::Blake3(h) => {
                h.update(&buf[..n]);
            }
            Hasher::Sha256(h) => h.update(&buf[..n]),
            Hasher::None => {}
        }
        if let Some(h) = &mut self.sha256 {
            h.update(&buf[..n]);
        }
        self.bytes.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

fn sha256_hex(h: sha2::Sha256) -> String {
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

impl<R> Hashing<R> {
    /// The digest of `--digest`, and the input's SHA-256 when it was asked for.
    fn finish(self) -> (Option<String>, Option<String>) {
        let extra = self.sha256.map(|h| sha256_hex(*h));
        match self.hasher {
            Hasher::Blake3(h) => (Some(h.finalize().to_hex().to_string()), extra),
            Hasher::Sha256(h) => {
                let hex = sha256_hex(*h);
                (Some(hex.clone()), Some(hex))
            }
            Hasher::None => (None, extra),
        }
    }
}

pub type Stream = Chain<Cursor<Vec<u8>>, Hashing<Box<dyn Read + Send>>>;

/// An input opened for reading: its first bytes examined, the rest streaming.
pub struct Opened {
    pub stream: Stream,
    pub decoding: Decoding,
    pub encoding_name: &'static str,
    pub delimiter: u8,
    /// Bytes read so far (for the progress bar), shared with the reader.
    pub bytes: Arc<AtomicU64>,
    pub size: Option<u64>,
}

/// How many first bytes the encoding and the delimiter are found from.
pub const SAMPLE: usize = 64 * 1024;

/// Opens a source; `delimiter` overrides the sniffing.
pub fn open(
    source: &Source,
    choice: EncodingChoice,
    delimiter: Option<u8>,
    digest: DigestKind,
) -> Result<Opened, Error> {
    open_with_sha256(source, choice, delimiter, digest, false)
}

/// Opens a source like [`open`]; with `sha256`, its SHA-256 is computed too, whatever `digest`
/// is (see [`finish_with_sha256`]).
pub fn open_with_sha256(
    source: &Source,
    choice: EncodingChoice,
    delimiter: Option<u8>,
    digest: DigestKind,
    sha256: bool,
) -> Result<Opened, Error> {
    let input_error = |err| Error::Input {
        file: source.name.clone(),
        err,
    };
    let (reader, size): (Box<dyn Read + Send>, Option<u64>) = match &source.path {
        None => (Box::new(io::stdin()), None),
        Some(path) => {
            let file = File::open(path).map_err(input_error)?;
            let size = file.metadata().ok().map(|m| m.len());
            (Box::new(file), size)
        }
    };
    let bytes = Arc::new(AtomicU64::new(0));
    let hasher = match digest {
        DigestKind::Blake3 => Hasher::Blake3(Box::default()),
        DigestKind::Sha256 => Hasher::Sha256(Box::default()),
        DigestKind::None => Hasher::None,
    };
    let mut hashing = Hashing {
        inner: reader,
        sha256: (sha256 && digest != DigestKind::Sha256).then(Box::default),
        hasher,
        bytes: bytes.clone(),
    };
    let mut sample = Vec::with_capacity(SAMPLE);
    (&mut hashing)
        .take(SAMPLE as u64)
        .read_to_end(&mut sample)
        .map_err(input_error)?;
    let had_bom = sample.starts_with(encoding::UTF8_BOM);
    if had_bom {
        sample.drain(..3);
    }
    let (decoding, encoding_name) = encoding::detect(choice, had_bom, &sample);
    let delimiter = delimiter.unwrap_or_else(|| sniff_delimiter(&sample));
    Ok(Opened {
        stream: Cursor::new(sample).chain(hashing),
        decoding,
        encoding_name,
        delimiter,
        bytes,
        size,
    })
}

/// Finishes a stream: its digest (none with `--digest none`).
pub fn finish(stream: Stream) -> Option<String> {
    stream.into_inner().1.finish().0
}

/// Finishes a stream: its digest, and its SHA-256 when the stream was opened with it (or the
/// digest is SHA-256).
pub fn finish_with_sha256(stream: Stream) -> (Option<String>, Option<String>) {
    stream.into_inner().1.finish()
}

/// The delimiter of the header line: the most frequent of `;`, `,`, tab and `|` outside quotes
/// (ties in that order; `,` when none occurs).
pub fn sniff_delimiter(sample: &[u8]) -> u8 {
    const CANDIDATES: [u8; 4] = [b';', b',', b'\t', b'|'];
    let mut counts = [0usize; 4];
    let mut quoted = false;
    for &b in sample {
        match b {
            b'"' => quoted = !quoted,
            b'\n' if !quoted => break,
            _ if !quoted => {
                if let Some(i) = CANDIDATES.iter().position(|&c| c == b) {
                    counts[i] += 1;
                }
            }
            _ => {}
        }
    }
    let best = (0..4)
        .max_by_key(|&i| (counts[i], std::cmp::Reverse(i)))
        .expect("four candidates");
    if counts[best] == 0 {
        b','
    } else {
        CANDIDATES[best]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_header_names_the_delimiter() {
        assert_eq!(sniff_delimiter(b"sagsnummer;cpr;ydelse\n1,2;3"), b';');
        assert_eq!(sniff_delimiter(b"case_id,cpr,benefit\r\n"), b',');
        assert_eq!(sniff_delimiter(b"case_id\tcpr\tbenefit"), b'\t');
        assert_eq!(sniff_delimiter(b"case_id|cpr|benefit"), b'|');
        assert_eq!(sniff_delimiter(b"\"a;b\",c,d"), b',');
        assert_eq!(sniff_delimiter(b"case_id"), b',');
    }
}
