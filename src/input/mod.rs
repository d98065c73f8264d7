//! Reading exports: opening inputs and finding their encoding and delimiter (`source`,
//! `encoding`), matching headers to canonical columns (`columns`), value words (`values`), dates
//! (`dates`), the municipality codes (`kommuner`), and one record into a case (`record`).

pub mod columns;
pub mod dates;
pub mod encoding;
pub mod kommuner;
pub mod record;
pub mod source;
pub mod values;
