//! Reading exports: opening inputs and finding their encoding and delimiter (`source`,
//! `encoding`), matching headers to canonical columns (`columns`), value words (`values`), dates
//! (`dates`), the municipality codes (`kommuner`), one record into a case (`record`), the records
//! of one input as every command reads them (`records`), and the mapping file (`mapping`).

pub mod columns;
pub mod dates;
pub mod encoding;
pub mod kommuner;
pub mod mapping;
pub mod record;
pub mod records;
pub mod scan;
pub mod source;
pub mod values;
