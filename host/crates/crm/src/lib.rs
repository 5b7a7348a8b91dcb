//! CRM records (contacts and leads) before they reach the store: what a new
//! record is, the checks every write applies ([`record`]), and reading them
//! from a CSV file ([`csv_import`]). Pure functions over values, below the
//! store and free of wasmtime and SQL, so the CSV reader is fuzzed on its
//! own and the store, the API and the fuzz target apply one set of rules.

pub mod csv_import;
pub mod record;

pub use csv_import::{
    CsvError, GoodRow, Owners, ParsedCsv, RowError, parse_csv, reject_duplicates,
};
pub use record::{CheckedRecord, NewCrmRecord, RecordError, check_record};
