//! Pseudonymised outputs (`--pseudonymize-key`, SPEC §6.1, §7): every `cpr` written becomes the
//! hex HMAC-SHA256 of the normalised CPR under a secret key, so one person still links across the
//! files and across runs with the same key, while no output holds a CPR number. The key is never
//! shown, not even by `Debug`.

use std::fmt;
use std::path::Path;

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

use crate::error::Error;
use crate::rules::across::normalised_cpr;

/// The keyed hash, ready to use: the key is absorbed once, each CPR hashes a clone.
#[derive(Clone)]
pub struct Pseudonymizer {
    mac: Hmac<Sha256>,
}

impl fmt::Debug for Pseudonymizer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Pseudonymizer(key not shown)")
    }
}

impl Pseudonymizer {
    /// The key is the file's bytes as they are (a trailing newline is part of it). A missing,
    /// unreadable or empty (or only white space) key file is a fatal error naming the file.
    pub fn from_file(path: &Path) -> Result<Pseudonymizer, Error> {
        let file = path.display().to_string();
        let key = std::fs::read(path).map_err(|err| Error::Key {
            file: file.clone(),
            message: format!(
                "cannot read the key for --pseudonymize-key: {err}; give a file that holds the secret key"
            ),
        })?;
        if key.iter().all(u8::is_ascii_whitespace) {
            return Err(Error::Key {
                file,
                message: "the key file for --pseudonymize-key is empty; put a long random secret in it (e.g. `head -c 32 /dev/urandom > key`) and keep it for the next runs".to_string(),
            });
        }
        Ok(Pseudonymizer::new(&key))
    }

    pub fn new(key: &[u8]) -> Pseudonymizer {
        Pseudonymizer {
            mac: <Hmac<Sha256> as KeyInit>::new_from_slice(key)
                .expect("HMAC takes a key of any length"),
        }
    }

    /// The pseudonym of a CPR: lower-case hex HMAC-SHA256 of its digits without hyphen or spaces.
    /// An empty CPR stays empty (it names nobody, so it must not link rows either).
    pub fn pseudonym(&self, cpr: &str) -> String {
        let digits = normalised_cpr(cpr.trim());
        if digits.is_empty() {
            return String::new();
        }
        let mut mac = self.mac.clone();
        mac.update(digits.as_bytes());
        let mut hex = String::with_capacity(64);
        for byte in mac.finalize().into_bytes() {
            hex.push_str(&format!("{byte:02x}"));
        }
        hex
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pseudonym_is_hmac_sha256_of_the_digits_in_hex() {
        // Computed independently: Python's hmac.new(b"secret", b"0101801234", sha256).
        let expected = "fdee91999535d33f90c51d1e91c84fd9ee41a05fa2872c24f848158dade51ed1";
        assert_eq!(
            Pseudonymizer::new(b"secret").pseudonym("010180-1234"),
            expected
        );
    }

    #[test]
    fn one_person_one_pseudonym_whatever_the_hyphen() {
        let p = Pseudonymizer::new(b"secret");
        assert_eq!(p.pseudonym("010180-1234"), p.pseudonym("0101801234"));
        assert_eq!(p.pseudonym(" 010180 1234 "), p.pseudonym("0101801234"));
        assert_ne!(p.pseudonym("0101801234"), p.pseudonym("0101801235"));
        assert_ne!(
            p.pseudonym("0101801234"),
            Pseudonymizer::new(b"other").pseudonym("0101801234")
        );
        assert_eq!(p.pseudonym("0101801234").len(), 64);
        assert_eq!(p.pseudonym(""), "");
    }

    #[test]
    fn the_key_is_never_shown() {
        let p = Pseudonymizer::new(b"topsecret");
        assert!(!format!("{p:?}").contains("topsecret"));
    }
}
