//! CSV import of contacts and leads, as a plain function over bytes so it is
//! tested without HTTP. The first row names the columns; each later row is a
//! record. Bad rows are reported by their line number (the header is line 1,
//! as a spreadsheet shows it) and the good rows are still imported.
//!
//! Columns (case-insensitive): `name` (or `first_name` + `last_name`),
//! `email` / `primary_email`, `secondary_emails` / `other_emails` (separated
//! by `;`, `,` or spaces), `owner` (a user's email or id); any other column
//! becomes a free-form field of the record.
//!
//! An email may belong to one record of a kind: a row whose email (compared
//! case-insensitively) is on an earlier row or on an existing record is
//! reported, not imported, so an import run twice creates nothing twice.

use super::error::ApiError;
use mailroom_core::ids::UserId;
use mailroom_store::contacts::validate_crm_record;
use mailroom_store::{NewCrmRecord, User, normalize_email};
use serde::Serialize;
use std::collections::HashMap;
use utoipa::ToSchema;

/// A row that was not imported, and why.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, ToSchema)]
pub struct RowError {
    /// Line number in the file; the header is line 1.
    pub row: u64,
    pub message: String,
}

/// A row that passed every check, ready for the store.
#[derive(Clone, Debug)]
pub struct GoodRow {
    pub row: u64,
    pub record: NewCrmRecord,
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

/// Parses and checks a CSV file. `users` resolves the `owner` column.
/// Fails as a whole only when the file has no usable header.
pub fn parse_csv(data: &[u8], users: &[User]) -> Result<(Vec<GoodRow>, Vec<RowError>), ApiError> {
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(data);
    let headers = reader
        .headers()
        .map_err(|e| ApiError::unprocessable(format!("cannot read the CSV header row: {e}")))?
        .clone();
    let columns: Vec<(Column, String)> = headers
        .iter()
        .map(|h| (column(h), h.trim().to_owned()))
        .collect();
    let has_name = columns
        .iter()
        .any(|(c, _)| matches!(c, Column::Name | Column::FirstName | Column::LastName));
    if !has_name {
        return Err(ApiError::unprocessable(format!(
            "the header row needs a `name` column (or `first_name`/`last_name`); it has: {}",
            headers.iter().collect::<Vec<_>>().join(", ")
        )));
    }
    let (mut good, mut errors) = (Vec::new(), Vec::new());
    for (index, result) in reader.records().enumerate() {
        // Line of the record; falls back to its index when csv has no position.
        let fallback = index as u64 + 2;
        let record = match result {
            Ok(r) => r,
            Err(e) => {
                let row = e.position().map_or(fallback, |p| p.line());
                errors.push(RowError {
                    row,
                    message: format!("unreadable row: {e}"),
                });
                continue;
            }
        };
        let row = record.position().map_or(fallback, |p| p.line());
        if record.iter().all(str::is_empty) {
            continue;
        }
        match build(&columns, &record, users) {
            Ok(new) => match validate_crm_record(&new) {
                Ok(()) => good.push(GoodRow { row, record: new }),
                Err(e) => errors.push(RowError {
                    row,
                    message: ApiError::from(e).message,
                }),
            },
            Err(message) => errors.push(RowError { row, message }),
        }
    }
    Ok((good, errors))
}

fn build(
    columns: &[(Column, String)],
    record: &csv::StringRecord,
    users: &[User],
) -> Result<NewCrmRecord, String> {
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
            Column::Owner => new.owner = Some(owner(value, users)?),
            Column::Field => {
                if let serde_json::Value::Object(map) = &mut new.fields {
                    map.insert(header.clone(), serde_json::Value::String(value.to_owned()));
                }
            }
        }
    }
    if record.len() > columns.len() {
        return Err(format!(
            "{} values but the header names {} columns",
            record.len(),
            columns.len()
        ));
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
/// (`existing`: lower-cased email and the id of the record having it).
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

fn owner(value: &str, users: &[User]) -> Result<UserId, String> {
    users
        .iter()
        .find(|u| u.id.as_str() == value || u.email.eq_ignore_ascii_case(value))
        .map(|u| u.id.clone())
        .ok_or_else(|| format!("owner {value:?} is not a user of this org"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use mailroom_core::ids::OrgId;
    use mailroom_store::Role;

    fn user(id: &str, email: &str) -> User {
        User {
            id: UserId(id.into()),
            org: OrgId("org_x".into()),
            email: email.into(),
            display_name: String::new(),
            role: Role::User,
            active: true,
            licensed: true,
            created_at: 0,
        }
    }

    #[test]
    fn imports_good_rows_and_reports_bad_ones_by_line() {
        let csv = "Name,Email,Other Emails,Owner,Company\n\
                   Ann Smith,ann@example.com,ann@home.example;a.smith@example.org,bob@corp.example,Acme\n\
                   ,nobody@example.com,,,\n\
                   Carl,not-an-email,,,\n\
                   Dora,dora@example.com,,ghost@corp.example,\n\
                   \"Eve, Jr.\",eve@example.com,,,\"Big, Co\"\n";
        let users = [user("usr_bob", "bob@corp.example")];
        let (good, errors) = parse_csv(csv.as_bytes(), &users).expect("parse");
        assert_eq!(good.iter().map(|g| g.row).collect::<Vec<_>>(), vec![2, 6]);
        let ann = &good[0].record;
        assert_eq!(ann.name, "Ann Smith");
        assert_eq!(ann.primary_email.as_deref(), Some("ann@example.com"));
        assert_eq!(
            ann.secondary_emails,
            vec!["ann@home.example", "a.smith@example.org"]
        );
        assert_eq!(ann.owner, Some(UserId("usr_bob".into())));
        assert_eq!(ann.fields["Company"], "Acme");
        assert_eq!(good[1].record.name, "Eve, Jr.");
        assert_eq!(good[1].record.fields["Company"], "Big, Co");
        let rows: Vec<u64> = errors.iter().map(|e| e.row).collect();
        assert_eq!(rows, vec![3, 4, 5], "{errors:?}");
        assert!(errors[0].message.contains("name"), "{errors:?}");
        assert!(errors[1].message.contains("not-an-email"), "{errors:?}");
        assert!(
            errors[2].message.contains("ghost@corp.example"),
            "{errors:?}"
        );
    }

    #[test]
    fn first_and_last_name_columns_make_a_name() {
        let (good, errors) = parse_csv(
            b"first_name,last_name,email\nJo,Bloggs,jo@example.com\n",
            &[],
        )
        .expect("parse");
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(good[0].record.name, "Jo Bloggs");
    }

    #[test]
    fn a_file_without_a_name_column_is_refused_whole() {
        let err = parse_csv(b"email\nx@example.com\n", &[]).unwrap_err();
        assert_eq!(err.status, axum::http::StatusCode::UNPROCESSABLE_ENTITY);
        assert!(err.message.contains("name"), "{}", err.message);
    }

    #[test]
    fn duplicate_emails_are_reported_against_earlier_rows_and_existing_records() {
        let (good, errors) = parse_csv(
            b"name,email,other_emails\n\
              Ann,ann@example.com,\n\
              Ann again,ANN@Example.com,\n\
              Bob,bob@example.com,\n\
              Bea,bea@example.com,Bob@example.COM\n\
              Old,old@example.com,\n",
            &[],
        )
        .expect("parse");
        assert!(errors.is_empty(), "{errors:?}");
        let existing = [("old@example.com".to_owned(), "con_1".to_owned())];
        let (good, errors) = reject_duplicates(good, &existing, "contact");
        let names: Vec<&str> = good.iter().map(|g| g.record.name.as_str()).collect();
        assert_eq!(names, ["Ann", "Bob"]);
        let rows: Vec<u64> = errors.iter().map(|e| e.row).collect();
        assert_eq!(rows, [3, 5, 6], "{errors:?}");
        assert!(errors[0].message.contains("line 2"), "{errors:?}");
        assert!(
            errors[1]
                .message
                .contains("bob@example.com is also on line 4"),
            "{errors:?}"
        );
        assert!(errors[2].message.contains("contact con_1"), "{errors:?}");
    }

    #[test]
    fn too_many_values_is_a_row_error() {
        let (good, errors) =
            parse_csv(b"name,email\nA,a@example.com,extra\nB,b@example.com\n", &[]).expect("parse");
        assert_eq!(good.len(), 1);
        assert_eq!(errors[0].row, 2);
    }
}
