//! Writing the results: the output directory that is replaced whole (`dir`), the CSV lists
//! (`lists`) and the manifest (`summary`).

pub mod dir;
pub mod lists;
pub mod summary;
