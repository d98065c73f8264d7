//! Writing the results: the output directory that is replaced whole (`dir`), the CSV lists
//! (`lists`), the lists per authority (`split`), the pseudonyms of `--pseudonymize-key`
//! (`pseudonym`), the manifest (`summary`) and the page for people (`report`, with its
//! `chart`s).

pub mod chart;
pub mod dir;
pub mod direct;
pub mod lists;
pub mod pseudonym;
pub mod report;
pub mod split;
pub mod summary;
