//! CSV import of contacts and leads, as a plain function over bytes. The
//! first row names the columns; each later row is a record. Bad rows are
//! reported by their line in the file (the header is line 1, as a text
//! editor or a spreadsheet shows it) and the good rows are still imported.
//!
//! Columns (case-insensitive): `name` (or `first_name` + `last_name`),
//! `email` / `primary_email`, `secondary_emails` / `other_emails` (separated
//! by `;`, `,` or spaces), `owner` (a user's email or id); any other column
//! becomes a free-form field of the record. Fields are separated by commas,
//! or by semicolons or tabs when the header row uses those (spreadsheets in
//! many locales save CSV with `;`); a UTF-8 byte-order mark is skipped and
//! lines may end in `\n`, `\r\n` or `\r`.
//!
//! An email may belong to one record of a kind: a row whose email (compared
//! case-insensitively) is on an earlier row or on an existing record is
//! reported, not imported, so an import run twice creates nothing twice.

use crate::record::{NewCrmRecord, check_record};
use mailroom_core::email::normalize_email;
use mailroom_core::ids::UserId;
use serde::Serialize;
use std::collections::HashMap;

/// A row that was not imported, and why.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct RowError {
    /// Line number in the file; the header is line 1.
    pub row: u64,
    /// What is wrong with the row and what to change.
    pub message: String,
}

/// A row that passed every check, ready for the store.
#[derive(Clone, Debug)]
pub struct GoodRow {
    /// Line number in the file; the header is line 1.
    pub row: u64,
    /// The record the row describes.
    pub record: NewCrmRecord,
}

/// A file read row by row: every row with a value is in exactly one of the
/// two lists (rows whose cells are all empty are skipped).
#[derive(Clone, Debug, Default)]
pub struct ParsedCsv {
    /// Rows to import, in file order.
    pub good: Vec<GoodRow>,
    /// Rows refused, in file order.
    pub errors: Vec<RowError>,
}

/// Why a whole file was refused (no row of it is imported).
#[derive(Debug, thiserror::Error)]
pub enum CsvError {
    /// The first row could not be read as text.
    #[error(
        "cannot read the CSV header row ({0}); save the file as CSV (UTF-8) \
         with the column names on the first line"
    )]
    Header(String),
    /// The header has no column a record's name could come from.
    #[error("the header row needs a `name` column (or `first_name`/`last_name`); it has: {0}")]
    NoNameColumn(String),
}

/// The org's users, looked up by id or (case-insensitively) by email, for
/// the `owner` column.
#[derive(Clone, Debug, Default)]
pub struct Owners {
    by_id: HashMap<String, UserId>,
    by_email: HashMap<String, UserId>,
}

impl Owners {
    /// Builds the lookup from each user's id and email.
    pub fn new<'a>(users: impl IntoIterator<Item = (&'a UserId, &'a str)>) -> Self {
        let mut owners = Self::default();
        for (id, email) in users {
            owners.by_email.insert(email.to_lowercase(), id.clone());
            owners.by_id.insert(id.as_str().to_owned(), id.clone());
        }
        owners
    }

    fn find(&self, value: &str) -> Result<UserId, String> {
        self.by_id
            .get(value)
            .or_else(|| self.by_email.get(&value.to_lowercase()))
            .cloned()
            .ok_or_else(|| format!("owner {value:?} is not a user of this org"))
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Column {
    Name,
    FirstName,
    LastName,
    Email,
    Secondary,
    Owner,
    Field,
}

fn column(header: &str) -> Column {
    match header
        .trim()
        .to_ascii_lowercase()
        .replace([' ', '-'], "_")
        .as_str()
    {
        "name" | "full_name" => Column::Name,
        "first_name" | "given_name" => Column::FirstName,
        "last_name" | "family_name" | "surname" => Column::LastName,
        "email" | "primary_email" | "e_mail" => Column::Email,
        "secondary_emails" | "other_emails" | "secondary_email" => Column::Secondary,
        "owner" => Column::Owner,
        _ => Column::Field,
    }
}

/// The field separator the header row uses: the most frequent of `,`, `;`
/// and tab outside quotes, a comma when none is there or on a tie.
fn delimiter(data: &[u8]) -> u8 {
    let mut counts = [(b',', 0usize), (b';', 0), (b'\t', 0)];
    let mut quoted = false;
    for &b in data {
        match b {
            b'"' => quoted = !quoted,
            b'\n' | b'\r' if !quoted => break,
            _ if !quoted => {
                if let Some(slot) = counts.iter_mut().find(|(d, _)| *d == b) {
                    slot.1 += 1;
                }
            }
            _ => {}
        }
    }
    // `max_by_key` keeps the last maximum; reversed, that is the first one.
    counts
        .iter()
        .rev()
        .max_by_key(|(_, n)| *n)
        .map_or(b',', |(d, _)| *d)
}

/// The reader the import uses on `data`: trimmed cells, rows of any length,
/// the separator of the header row.
pub fn reader(data: &[u8]) -> csv::Reader<&[u8]> {
    csv::ReaderBuilder::new()
        .flexible(true)
        .trim(csv::Trim::All)
        .delimiter(delimiter(data))
        .from_reader(data)
}

/// Where each line of the file starts, counting `\n`, `\r\n` and a lone
/// `\r` as line ends as csv does (its own line counter counts only `\n`, so
/// a file saved with classic Mac line ends would be all "line 1").
struct Lines<'a> {
    data: &'a [u8],
    starts: Vec<u64>,
}

impl<'a> Lines<'a> {
    fn new(data: &'a [u8]) -> Self {
        let mut starts = Vec::new();
        let mut i = 0;
        while i < data.len() {
            match data[i] {
                b'\r' if data.get(i + 1) == Some(&b'\n') => {
                    i += 1;
                    starts.push(i as u64 + 1);
                }
                b'\r' | b'\n' => starts.push(i as u64 + 1),
                _ => {}
            }
            i += 1;
        }
        Self { data, starts }
    }

    /// The line (from 1) where the record read from byte `offset` starts:
    /// csv's offset is where it began reading, before the empty lines it
    /// skips, and a record never starts with a line end.
    fn of_record(&self, offset: u64) -> u64 {
        let skipped = self
            .data
            .iter()
            .skip(usize::try_from(offset).unwrap_or(usize::MAX))
            .take_while(|b| matches!(b, b'\r' | b'\n'))
            .count();
        let start = offset + skipped as u64;
        self.starts.partition_point(|&s| s <= start) as u64 + 1
    }
}

/// Reads and checks a CSV file; `owners` resolves the `owner` column.
/// Fails as a whole only when the file has no usable header.
pub fn parse_csv(data: &[u8], owners: &Owners) -> Result<ParsedCsv, CsvError> {
    let mut reader = reader(data);
    let headers = reader
        .headers()
        .map_err(|e| CsvError::Header(e.to_string()))?
        .clone();
    let columns: Vec<(Column, String)> = headers
        .iter()
        .map(|h| (column(h), h.trim().to_owned()))
        .collect();
    let has_name = columns
        .iter()
        .any(|(c, _)| matches!(c, Column::Name | Column::FirstName | Column::LastName));
    if !has_name {
        return Err(CsvError::NoNameColumn(
            headers.iter().collect::<Vec<_>>().join(", "),
        ));
    }
    let lines = Lines::new(data);
    let mut parsed = ParsedCsv::default();
    for (index, result) in reader.records().enumerate() {
        // A reader over bytes always knows where a record starts; the
        // fallback (the row's place after the header) is never reached.
        let line_at = |position: Option<&csv::Position>| {
            position.map_or(index as u64 + 2, |p| lines.of_record(p.byte()))
        };
        let record = match result {
            Ok(r) => r,
            Err(e) => {
                parsed.errors.push(RowError {
                    row: line_at(e.position()),
                    message: unreadable(&e),
                });
                continue;
            }
        };
        let row = line_at(record.position());
        if record.iter().all(str::is_empty) {
            continue;
        }
        let checked = build(&columns, &record, owners)
            .and_then(|new| check_record(&new).map(|_| new).map_err(|e| e.to_string()));
        match checked {
            Ok(record) => parsed.good.push(GoodRow { row, record }),
            Err(message) => parsed.errors.push(RowError { row, message }),
        }
    }
    Ok(parsed)
}

fn unreadable(e: &csv::Error) -> String {
    match e.kind() {
        csv::ErrorKind::Utf8 { err, .. } => format!(
            "field {} is not UTF-8 text; save the file as CSV (UTF-8) and import it again",
            err.field() + 1
        ),
        _ => format!("unreadable row: {e}"),
    }
}

fn build(
    columns: &[(Column, String)],
    record: &csv::StringRecord,
    owners: &Owners,
) -> Result<NewCrmRecord, String> {
    if record.len() > columns.len() {
        return Err(format!(
            "{} values but the header names {} columns",
            record.len(),
            columns.len()
        ));
    }
    let (mut name, mut first, mut last) = (String::new(), String::new(), String::new());
    let mut new = NewCrmRecord {
        name: String::new(),
        primary_email: None,
        secondary_emails: Vec::new(),
        owner: None,
        fields: serde_json::Value::Object(Default::default()),
    };
    for ((col, header), value) in columns.iter().zip(record.iter()) {
        if value.is_empty() {
            continue;
        }
        match col {
            Column::Name => name = value.to_owned(),
            Column::FirstName => first = value.to_owned(),
            Column::LastName => last = value.to_owned(),
            Column::Email => new.primary_email = Some(value.to_owned()),
            Column::Secondary => {
                new.secondary_emails.extend(
                    value
                        .split([';', ',', ' '])
                        .filter(|s| !s.is_empty())
                        .map(str::to_owned),
                );
            }
            Column::Owner => new.owner = Some(owners.find(value)?),
            Column::Field => {
                if let serde_json::Value::Object(map) = &mut new.fields {
                    map.insert(header.clone(), serde_json::Value::String(value.to_owned()));
                }
            }
        }
    }
    new.name = if name.is_empty() {
        format!("{first} {last}").trim().to_owned()
    } else {
        name
    };
    if new.name.is_empty() {
        return Err("the name is empty".into());
    }
    Ok(new)
}

/// A checked record's emails as the store keeps them (lower-cased).
pub fn emails_of(record: &NewCrmRecord) -> Vec<String> {
    record
        .primary_email
        .iter()
        .chain(&record.secondary_emails)
        .filter_map(|e| normalize_email(e).ok())
        .collect()
}

/// Splits checked rows into those to import and those whose email is
/// already taken, by an earlier row or by an existing record of the kind
/// (`existing`: lower-cased email and the id of the record having it;
/// `what`: the kind's name in messages).
pub fn reject_duplicates(
    rows: Vec<GoodRow>,
    existing: &[(String, String)],
    what: &str,
) -> (Vec<GoodRow>, Vec<RowError>) {
    let existing: HashMap<&str, &str> = existing
        .iter()
        .map(|(email, id)| (email.as_str(), id.as_str()))
        .collect();
    let mut seen: HashMap<String, u64> = HashMap::new();
    let (mut good, mut errors) = (Vec::new(), Vec::new());
    for row in rows {
        let emails = emails_of(&row.record);
        let clash = emails.iter().find_map(|e| {
            if let Some(id) = existing.get(e.as_str()) {
                Some(format!(
                    "{e} is already the email of {what} {id}; update that {what} instead"
                ))
            } else {
                seen.get(e)
                    .map(|line| format!("{e} is also on line {line}; keep one of the rows"))
            }
        });
        match clash {
            Some(message) => errors.push(RowError {
                row: row.row,
                message,
            }),
            None => {
                seen.extend(emails.into_iter().map(|e| (e, row.row)));
                good.push(row);
            }
        }
    }
    (good, errors)
}

#[cfg(test)]
mod tests;
