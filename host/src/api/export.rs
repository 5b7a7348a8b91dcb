//! CSV export of contacts and leads, as a plain function so it is tested
//! without HTTP. The columns are those the import reads (`name`, `email`,
//! `secondary_emails`, `owner` as the user's email, then one column per
//! free-form field), so an export imports back.
//!
//! Every cell that a spreadsheet would run as a formula (it starts with `=`,
//! `+`, `-`, `@`, a tab or a carriage return) is written with a leading `'`,
//! so a record whose name is `=HYPERLINK(…)` opens as text, not as a call.

use mailroom_store::{CrmRecord, User};
use std::collections::BTreeSet;

/// What a spreadsheet reads as the start of a formula.
const FORMULA_PREFIXES: [char; 6] = ['=', '+', '-', '@', '\t', '\r'];

/// The cell as a spreadsheet shows it as text.
pub fn neutralise(cell: &str) -> std::borrow::Cow<'_, str> {
    if cell.starts_with(FORMULA_PREFIXES) {
        format!("'{cell}").into()
    } else {
        cell.into()
    }
}

/// The records as a CSV file; `users` turns owner ids into emails.
pub fn records_csv<Id>(records: &[CrmRecord<Id>], users: &[User]) -> Result<Vec<u8>, csv::Error> {
    let fields: BTreeSet<&str> = records
        .iter()
        .filter_map(|r| r.fields.as_object())
        .flat_map(|f| f.keys().map(String::as_str))
        .collect();
    let mut out = csv::Writer::from_writer(Vec::new());
    let header = ["name", "email", "secondary_emails", "owner"]
        .into_iter()
        .chain(fields.iter().copied());
    out.write_record(header.map(|h| neutralise(h).into_owned()))?;
    for r in records {
        let owner = r.owner.as_ref().map(|o| {
            users
                .iter()
                .find(|u| &u.id == o)
                .map_or_else(|| o.as_str().to_owned(), |u| u.email.clone())
        });
        let mut row = vec![
            r.name.clone(),
            r.primary_email.clone().unwrap_or_default(),
            r.secondary_emails.join(";"),
            owner.unwrap_or_default(),
        ];
        row.extend(fields.iter().map(|k| match r.fields.get(*k) {
            None | Some(serde_json::Value::Null) => String::new(),
            Some(serde_json::Value::String(s)) => s.clone(),
            Some(other) => other.to_string(),
        }));
        out.write_record(row.iter().map(|c| neutralise(c).into_owned()))?;
    }
    out.into_inner().map_err(|e| e.into_error().into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use mailroom_core::ids::{ContactId, OrgId};

    fn contact(name: &str, fields: serde_json::Value) -> CrmRecord<ContactId> {
        CrmRecord {
            id: ContactId("con_1".into()),
            org: OrgId("org_x".into()),
            name: name.into(),
            primary_email: Some("ann@example.com".into()),
            secondary_emails: vec!["a@example.org".into(), "b@example.org".into()],
            owner: None,
            fields,
            created_at: 0,
            updated_at: 0,
        }
    }

    #[test]
    fn formula_prefixes_are_neutralised_in_every_cell() {
        for bad in ["=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx"] {
            assert_eq!(neutralise(bad), format!("'{bad}"));
        }
        assert_eq!(neutralise("Ann = Bob"), "Ann = Bob");
        let csv = records_csv(
            &[contact(
                "=HYPERLINK(\"http://evil.example\")",
                serde_json::json!({"@note": "+cmd", "seats": 40}),
            )],
            &[],
        )
        .expect("csv");
        let text = String::from_utf8(csv).expect("utf-8");
        let mut reader = csv::Reader::from_reader(text.as_bytes());
        let header: Vec<String> = reader
            .headers()
            .expect("header")
            .iter()
            .map(str::to_owned)
            .collect();
        assert_eq!(
            header,
            [
                "name",
                "email",
                "secondary_emails",
                "owner",
                "'@note",
                "seats"
            ]
        );
        let row = reader.records().next().expect("row").expect("row");
        assert_eq!(&row[0], "'=HYPERLINK(\"http://evil.example\")");
        assert_eq!(&row[2], "a@example.org;b@example.org");
        assert_eq!(&row[4], "'+cmd");
        assert_eq!(&row[5], "40");
    }
}
