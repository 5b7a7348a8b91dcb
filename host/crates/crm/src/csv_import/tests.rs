use super::*;

fn parse(data: &[u8]) -> (Vec<GoodRow>, Vec<RowError>) {
    parse_with(data, &Owners::default())
}

fn parse_with(data: &[u8], owners: &Owners) -> (Vec<GoodRow>, Vec<RowError>) {
    let parsed = parse_csv(data, owners).expect("parse");
    (parsed.good, parsed.errors)
}

fn rows(good: &[GoodRow]) -> Vec<u64> {
    good.iter().map(|g| g.row).collect()
}

#[test]
fn imports_good_rows_and_reports_bad_ones_by_line() {
    let csv = "Name,Email,Other Emails,Owner,Company\n\
               Ann Smith,ann@example.com,ann@home.example;a.smith@example.org,bob@corp.example,Acme\n\
               ,nobody@example.com,,,\n\
               Carl,not-an-email,,,\n\
               Dora,dora@example.com,,ghost@corp.example,\n\
               \"Eve, Jr.\",eve@example.com,,,\"Big, Co\"\n";
    let bob = UserId("usr_bob".into());
    let owners = Owners::new([(&bob, "Bob@Corp.example")]);
    let (good, errors) = parse_with(csv.as_bytes(), &owners);
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
    let (good, errors) = parse(b"first_name,last_name,email\nJo,Bloggs,jo@example.com\n");
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(good[0].record.name, "Jo Bloggs");
}

#[test]
fn a_file_without_a_name_column_is_refused_whole() {
    let err = parse_csv(b"email\nx@example.com\n", &Owners::default()).unwrap_err();
    assert!(matches!(err, CsvError::NoNameColumn(_)), "{err:?}");
    assert!(err.to_string().contains("`name` column"), "{err}");
    assert!(err.to_string().ends_with("it has: email"), "{err}");
}

#[test]
fn duplicate_emails_are_reported_against_earlier_rows_and_existing_records() {
    let (good, errors) = parse(
        b"name,email,other_emails\n\
          Ann,ann@example.com,\n\
          Ann again,ANN@Example.com,\n\
          Bob,bob@example.com,\n\
          Bea,bea@example.com,Bob@example.COM\n\
          Old,old@example.com,\n",
    );
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
    let (good, errors) = parse(b"name,email\nA,a@example.com,extra\nB,b@example.com\n");
    assert_eq!(good.len(), 1);
    assert_eq!(errors[0].row, 2);
}

#[test]
fn the_owner_is_found_by_id_or_by_email_in_any_case() {
    let bob = UserId("usr_bob".into());
    let owners = Owners::new([(&bob, "bob@corp.example")]);
    let (good, errors) = parse_with(
        b"name,owner\nA,usr_bob\nB,BOB@corp.EXAMPLE\nC,USR_BOB\n",
        &owners,
    );
    assert_eq!(rows(&good), [2, 3]);
    assert!(good.iter().all(|g| g.record.owner.as_ref() == Some(&bob)));
    assert_eq!(errors[0].row, 4);
    assert!(
        errors[0].message.contains("\"USR_BOB\" is not a user"),
        "{errors:?}"
    );
}

#[test]
fn semicolon_and_tab_separated_files_are_read_by_their_header() {
    for sep in [";", "\t"] {
        let csv =
            format!("Name{sep}Email{sep}Company\nAnn{sep}ann@example.com{sep}\"Acme; Ltd\"\n");
        let (good, errors) = parse(csv.as_bytes());
        assert!(errors.is_empty(), "{sep:?}: {errors:?}");
        assert_eq!(
            good[0].record.primary_email.as_deref(),
            Some("ann@example.com")
        );
        assert_eq!(good[0].record.fields["Company"], "Acme; Ltd");
    }
    // A comma header keeps commas even when a later row holds semicolons.
    let (good, _) = parse(b"name,company\nAnn,a;b;c;d\n");
    assert_eq!(good[0].record.fields["company"], "a;b;c;d");
}

#[test]
fn a_byte_order_mark_and_any_line_ends_keep_the_lines_a_reader_sees() {
    for end in ["\n", "\r\n", "\r"] {
        let csv = format!(
            "\u{feff}name,email,note{end}Ann,ann@example.com,{end}{end}Bad,nope,{end}\
             Multi,m@example.com,\"two{end}lines\"{end}Carl,carl@example.com,{end}"
        );
        let (good, errors) = parse(csv.as_bytes());
        assert_eq!(rows(&good), [2, 5, 7], "{end:?}");
        assert_eq!(good[1].record.fields["note"], format!("two{end}lines"));
        assert_eq!(errors.len(), 1, "{end:?}: {errors:?}");
        assert_eq!(errors[0].row, 4, "{end:?}");
    }
}

#[test]
fn a_row_that_is_not_utf8_is_reported_and_the_others_imported() {
    // "Zoë" saved as Windows-1252, as older spreadsheets do.
    let (good, errors) = parse(b"name,email\nZo\xeb,zoe@example.com\nAnn,ann@example.com\n");
    assert_eq!(rows(&good), [3]);
    assert_eq!(errors[0].row, 2);
    assert!(errors[0].message.contains("not UTF-8"), "{errors:?}");
    assert!(errors[0].message.contains("CSV (UTF-8)"), "{errors:?}");
    let err = parse_csv(b"n\xe4me,email\n", &Owners::default()).unwrap_err();
    assert!(matches!(err, CsvError::Header(_)), "{err:?}");
}

#[test]
fn rows_without_values_are_skipped_not_reported() {
    let (good, errors) = parse(b"name,email\n,\n  ,  \nAnn,\n");
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(rows(&good), [4]);
}
