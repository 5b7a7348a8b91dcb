//! Mailroom's own labelled business mail (`tests/data/zia-emails`, format
//! and label guide in its README): the loader and the fixed train/test
//! split. A mail is in the test part when the FNV-1a hash of its id is 0
//! or 1 modulo 5; training reads only the train part, evaluation only the
//! test part.

use crate::EvalError;
use crate::data::{data_dir, files, read};
use crate::html::html_to_text;
use crate::parakweet::fnv1a;
use classifier_keywords_core::when::{self, Reference, days_from_civil};
use std::path::{Path, PathBuf};

pub const INTENTS: [&str; 6] = [
    "request",
    "question",
    "complaint",
    "meeting",
    "thanks",
    "other",
];
pub const SENTIMENTS: [&str; 3] = ["positive", "negative", "neutral"];
const SIG_MARK: &str = "#sig#";

/// A phone number of the signature with its kind (`office`, `mobile`,
/// `fax`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Phone {
    pub kind: String,
    pub number: String,
}

/// The sender's own signature: its lines and typed fields.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SignatureLabel {
    pub lines: Vec<String>,
    pub name: Option<String>,
    pub title: Option<String>,
    pub company: Option<String>,
    pub emails: Vec<String>,
    pub phones: Vec<Phone>,
    pub website: Option<String>,
    pub address: Option<String>,
}

/// What a meeting request says about its time.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MeetingLabel {
    /// A meeting is asked for, no time named.
    Unscheduled,
    At {
        epoch_ms: i64,
        duration_minutes: Option<u32>,
        location: Option<String>,
    },
}

#[derive(Clone, Debug)]
pub struct LabelledMail {
    pub id: String,
    pub path: PathBuf,
    pub intent: String,
    pub sentiment: String,
    pub summary: String,
    pub meeting: Option<MeetingLabel>,
    pub signature: SignatureLabel,
    pub from: String,
    pub subject: String,
    pub date_header: String,
    /// When it was sent, and the Date header's offset.
    pub sent: Reference,
    /// The body as the host hands it to a classifier: plain text (HTML
    /// bodies converted).
    pub text_body: String,
}

pub struct Split {
    pub train: Vec<LabelledMail>,
    pub test: Vec<LabelledMail>,
}

pub fn is_test(id: &str) -> bool {
    fnv1a(id.as_bytes()) % 5 < 2
}

pub fn load() -> Result<Split, EvalError> {
    let mut split = Split {
        train: Vec::new(),
        test: Vec::new(),
    };
    let mut seen = std::collections::BTreeSet::new();
    for path in files(&data_dir().join("zia-emails"), ".txt")? {
        for mail in parse_batch(&path, &read(&path)?)? {
            if !seen.insert(mail.id.clone()) {
                return Err(format_error(&path, &mail.id, "the id is used twice"));
            }
            if is_test(&mail.id) {
                split.test.push(mail);
            } else {
                split.train.push(mail);
            }
        }
    }
    Ok(split)
}

fn format_error(path: &Path, id: &str, what: &str) -> EvalError {
    EvalError::Format {
        path: path.to_path_buf(),
        what: format!("{id}: {what} (the format is in tests/data/zia-emails/README.md)"),
    }
}

/// The records of one batch file.
pub fn parse_batch(path: &Path, text: &str) -> Result<Vec<LabelledMail>, EvalError> {
    let mut mails = Vec::new();
    for record in text.split("##### ").skip(1) {
        let id = record.lines().next().unwrap_or("").trim().to_string();
        let err = |what: &str| format_error(path, &id, what);
        let (head, mail) = record
            .split_once("\n-----\n")
            .ok_or_else(|| err("no `-----` line between the labels and the mail"))?;
        let mut labels: Vec<(&str, &str)> = Vec::new();
        for line in head.lines().skip(1).filter(|l| !l.trim().is_empty()) {
            let (key, value) = line
                .split_once(": ")
                .ok_or_else(|| err(&format!("label line {line:?} is not `key: value`")))?;
            labels.push((key.trim(), value.trim()));
        }
        let one = |key: &str| labels.iter().find(|(k, _)| *k == key).map(|(_, v)| *v);
        let all = |key: &str| -> Vec<String> {
            labels
                .iter()
                .filter(|(k, _)| *k == key)
                .map(|(_, v)| v.to_string())
                .collect()
        };
        let intent = one("intent")
            .filter(|i| INTENTS.contains(i))
            .ok_or_else(|| err(&format!("`intent:` must be one of {INTENTS:?}")))?;
        let sentiment = one("sentiment")
            .filter(|s| SENTIMENTS.contains(s))
            .ok_or_else(|| err(&format!("`sentiment:` must be one of {SENTIMENTS:?}")))?;
        let summary = one("summary").ok_or_else(|| err("no `summary:`"))?;
        let meeting = match one("meeting") {
            None if intent == "meeting" => return Err(err("a meeting needs `meeting:`")),
            None => None,
            Some(_) if intent != "meeting" => {
                return Err(err("`meeting:` is only for intent meeting"));
            }
            Some("none") => Some(MeetingLabel::Unscheduled),
            Some(at) => Some(MeetingLabel::At {
                epoch_ms: parse_meeting_start(at).ok_or_else(|| {
                    err(&format!(
                        "meeting {at:?} is not `YYYY-MM-DD HH:MM ±HHMM` or `none`"
                    ))
                })?,
                duration_minutes: match one("meeting.duration") {
                    Some(d) => Some(d.parse().map_err(|_| {
                        err(&format!("meeting.duration {d:?} is not whole minutes"))
                    })?),
                    None => None,
                },
                location: one("meeting.location").map(str::to_string),
            }),
        };
        let mut phones = Vec::new();
        for phone in all("sig.phone") {
            let (kind, number) = phone
                .split_once(' ')
                .filter(|(k, _)| matches!(*k, "office" | "mobile" | "fax"))
                .ok_or_else(|| {
                    err(&format!(
                        "sig.phone {phone:?} must start with office, mobile or fax"
                    ))
                })?;
            phones.push(Phone {
                kind: kind.to_string(),
                number: number.trim().to_string(),
            });
        }
        let (headers, raw_body) = mail.split_once("\n\n").unwrap_or((mail, ""));
        let header = |name: &str| {
            headers.lines().find_map(|l| {
                let (k, v) = l.split_once(':')?;
                k.eq_ignore_ascii_case(name).then(|| v.trim().to_string())
            })
        };
        let date_header = header("Date").ok_or_else(|| err("the mail has no Date header"))?;
        let sent = parse_date_header(&date_header)
            .ok_or_else(|| err(&format!("Date header {date_header:?} is not RFC 5322")))?;
        let is_html = header("Content-Type").is_some_and(|c| c.contains("text/html"));
        let convert = |text: &str| {
            if is_html {
                html_to_text(text)
            } else {
                text.to_string()
            }
        };
        let marked: Vec<String> = raw_body
            .lines()
            .filter_map(|l| l.strip_prefix(SIG_MARK))
            .flat_map(|l| {
                convert(l)
                    .lines()
                    .map(|t| t.trim().to_string())
                    .collect::<Vec<_>>()
            })
            .filter(|l| !l.is_empty())
            .collect();
        let body = raw_body.replace(SIG_MARK, "");
        let signature = SignatureLabel {
            lines: marked,
            name: one("sig.name").map(str::to_string),
            title: one("sig.title").map(str::to_string),
            company: one("sig.company").map(str::to_string),
            emails: all("sig.email"),
            phones,
            website: one("sig.website").map(str::to_string),
            address: one("sig.address").map(str::to_string),
        };
        mails.push(LabelledMail {
            id: id.clone(),
            path: path.to_path_buf(),
            intent: intent.to_string(),
            sentiment: sentiment.to_string(),
            summary: summary.to_string(),
            meeting,
            signature,
            from: header("From").unwrap_or_default(),
            subject: header("Subject").unwrap_or_default(),
            date_header,
            sent,
            text_body: convert(&body),
        });
    }
    Ok(mails)
}

fn month_number(name: &str) -> Option<u32> {
    const MONTHS: [&str; 12] = [
        "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
    ];
    let lower = name.get(..3)?.to_ascii_lowercase();
    MONTHS
        .iter()
        .position(|m| *m == lower)
        .map(|m| m as u32 + 1)
}

/// `Tue, 10 Nov 2026 09:14:00 +0100` → when, and the offset.
pub fn parse_date_header(value: &str) -> Option<Reference> {
    let rest = value.split_once(',').map_or(value, |(_, r)| r);
    let parts: Vec<&str> = rest.split_whitespace().collect();
    let [day, month, year, clock, _zone, ..] = parts.as_slice() else {
        return None;
    };
    let (day, month, year) = (
        day.parse::<u32>().ok()?,
        month_number(month)?,
        year.parse::<i64>().ok()?,
    );
    let mut hms = clock.split(':').map(|p| p.parse::<i64>().ok());
    let (h, m) = (hms.next()??, hms.next()??);
    let s = hms.next().flatten().unwrap_or(0);
    let offset = when::header_offset_minutes(value)?;
    let local_minutes = days_from_civil(year, month, day) * 24 * 60 + h * 60 + m;
    Some(Reference {
        epoch_ms: (local_minutes - i64::from(offset)) * 60_000 + s * 1000,
        offset_minutes: offset,
    })
}

/// `2026-11-19 10:00 +0100` → milliseconds since the epoch.
pub fn parse_meeting_start(value: &str) -> Option<i64> {
    let mut parts = value.split_whitespace();
    let (date, clock, zone) = (parts.next()?, parts.next()?, parts.next()?);
    let mut ymd = date.split('-');
    let (y, mo, d) = (
        ymd.next()?.parse::<i64>().ok()?,
        ymd.next()?.parse::<u32>().ok()?,
        ymd.next()?.parse::<u32>().ok()?,
    );
    let (h, m) = clock.split_once(':')?;
    let (h, m) = (h.parse::<i64>().ok()?, m.parse::<i64>().ok()?);
    let offset = when::header_offset_minutes(zone)?;
    Some((days_from_civil(y, mo, d) * 24 * 60 + h * 60 + m - i64::from(offset)) * 60_000)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_set_loads_with_a_fixed_split_of_every_intent() {
        let split = load().unwrap();
        assert!(split.train.len() + split.test.len() >= 300);
        assert!(split.test.iter().all(|m| is_test(&m.id)));
        assert!(split.train.iter().all(|m| !is_test(&m.id)));
        for part in [&split.train, &split.test] {
            for intent in INTENTS {
                assert!(
                    part.iter().filter(|m| m.intent == intent).count() >= 10,
                    "{intent}"
                );
            }
        }
        // Every typed signature field is written in the marked lines.
        for m in split.train.iter().chain(&split.test) {
            let lines = m.signature.lines.join(" ");
            for field in [&m.signature.name, &m.signature.company]
                .into_iter()
                .flatten()
            {
                assert!(lines.contains(field.as_str()), "{}: {field}", m.id);
            }
        }
    }

    #[test]
    fn dates_and_meeting_times() {
        let r = parse_date_header("Tue, 10 Nov 2026 09:14:00 +0100").unwrap();
        assert_eq!(r.offset_minutes, 60);
        assert_eq!(
            r.epoch_ms,
            (days_from_civil(2026, 11, 10) * 1440 + 8 * 60 + 14) * 60_000
        );
        assert_eq!(
            parse_meeting_start("2026-11-19 10:00 -0500"),
            Some((days_from_civil(2026, 11, 19) * 1440 + 15 * 60) * 60_000)
        );
        assert_eq!(parse_meeting_start("tomorrow"), None);
    }

    #[test]
    fn a_malformed_record_names_its_id_and_what_is_wrong() {
        let text = "##### x1\nintent: maybe\nsentiment: neutral\nsummary: s\n-----\nDate: Tue, 10 Nov 2026 09:14:00 +0100\n\nHi\n";
        let e = parse_batch(Path::new("b.txt"), text).err().unwrap();
        let message = e.to_string();
        assert!(
            message.contains("x1") && message.contains("intent"),
            "{message}"
        );
    }
}
