//! Meeting times on the test part of the labelled set: for every meeting
//! request that names a time, is the start the classifier reads (subject
//! first, then the sender's own text, resolved against the Date header)
//! exactly the labelled one? Counted twice: the time reader alone, and end
//! to end (the mail must also be classified `meeting`, because the plugin
//! only reads a time for meetings). Also the length (exact minutes, where
//! labelled) and the place (a labelled call link exactly; a place when
//! one of the label and the found text contains the other, compared on
//! letters and digits).

use crate::intents::predict;
use crate::labelled::{LabelledMail, MeetingLabel};
use classifier_keywords_core::{Email, meeting_details, meeting_start};

pub struct MeetingScores {
    /// Meeting requests with a labelled start.
    pub timed: usize,
    /// Start read exactly (to the minute, in absolute time).
    pub exact: usize,
    /// Classified `meeting` and start read exactly.
    pub end_to_end: usize,
    /// (id, expected, got) of every wrong or missing start.
    pub misses: Vec<(String, i64, Option<i64>)>,
    /// Durations right, of those labelled.
    pub durations: (usize, usize),
    /// Places right, of those labelled.
    pub places: (usize, usize),
}

impl MeetingScores {
    pub fn exact_rate(&self) -> f64 {
        self.exact as f64 / self.timed.max(1) as f64
    }
    pub fn end_to_end_rate(&self) -> f64 {
        self.end_to_end as f64 / self.timed.max(1) as f64
    }
}

pub fn evaluate(test: &[LabelledMail]) -> MeetingScores {
    let mut scores = MeetingScores {
        timed: 0,
        exact: 0,
        end_to_end: 0,
        misses: Vec::new(),
        durations: (0, 0),
        places: (0, 0),
    };
    for mail in test {
        let Some(MeetingLabel::At {
            epoch_ms,
            duration_minutes,
            ref location,
        }) = mail.meeting
        else {
            continue;
        };
        scores.timed += 1;
        let email = Email {
            subject: &mail.subject,
            text_body: &mail.text_body,
        };
        let details = meeting_details(&email);
        if let Some(want) = duration_minutes {
            scores.durations.1 += 1;
            scores.durations.0 += usize::from(details.duration_minutes == Some(want));
        }
        if let Some(want) = location {
            scores.places.1 += 1;
            scores.places.0 += usize::from(
                details
                    .location
                    .as_deref()
                    .is_some_and(|got| same_place(got, want)),
            );
        }
        let got = meeting_start(&email, mail.sent).map(|(w, _)| w.epoch_ms);
        if got == Some(epoch_ms) {
            scores.exact += 1;
            if predict(mail) == "meeting" {
                scores.end_to_end += 1;
            }
        } else {
            scores.misses.push((mail.id.clone(), epoch_ms, got));
        }
    }
    scores
}

fn same_place(got: &str, want: &str) -> bool {
    let norm = |t: &str| -> String {
        t.chars()
            .filter(|c| c.is_alphanumeric())
            .flat_map(char::to_lowercase)
            .collect()
    };
    if want.contains("https://") {
        return want.split_whitespace().any(|w| w == got);
    }
    let (got, want) = (norm(got), norm(want));
    !got.is_empty() && (got.contains(&want) || want.contains(&got))
}
