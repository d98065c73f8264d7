//! Writing the results: the output directory that is replaced whole (`dir`), the CSV lists
//! (`lists`), the lists per authority (`split`), the pseudonyms of `--pseudonymize-key`
//! (`pseudonym`) and the manifest (`summary`).

pub mod dir;
pub mod lists;
pub mod pseudonym;
pub mod split;
pub mod summary;
