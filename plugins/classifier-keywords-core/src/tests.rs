//! End-to-end tests of [`classify`], and checks against the public data sets
//! in `shared/data` when they are present (the Enron signature set from
//! mailgun/forge, CC BY 3.0; the Parakweet request sentences, Apache-2.0).

use super::*;
use std::path::PathBuf;

fn run(subject: &str, body: &str) -> Analysis {
    classify(&Email {
        subject,
        text_body: body,
    })
}

const COMPLAINT: &str = "Hi team,

I ordered a laptop two weeks ago and it still has not arrived. This is unacceptable.
I am very disappointed with your service and I want a refund.

Best regards,
Peter Miller
Purchasing Manager
Miller & Sons Ltd
Phone: +44 20 7946 0958
peter@millersons.example
www.millersons.example

On Mon, 3 Jun 2024 at 10:00, Support <support@shop.example> wrote:
> Thank you for your order! We are delighted to have you.
";

#[test]
fn complaint_end_to_end() {
    let a = run("Where is my order?", COMPLAINT);
    assert_eq!(a.sentiment.label, "negative");
    assert_eq!(a.intent.label, "complaint");
    assert!(a.intent.score > 0.3, "{:?}", a.intent);
    assert_eq!(
        a.summary.as_deref(),
        Some(
            "I ordered a laptop two weeks ago and it still has not arrived. This is unacceptable. \
             I am very disappointed with your service and I want a refund."
        )
    );
    let s = a.signature.expect("signature");
    assert_eq!(s.name.as_deref(), Some("Peter Miller"));
    assert_eq!(s.job_title.as_deref(), Some("Purchasing Manager"));
    assert_eq!(s.company.as_deref(), Some("Miller & Sons Ltd"));
    assert_eq!(s.phones, ["+44 20 7946 0958"]);
    assert_eq!(s.emails, ["peter@millersons.example"]);
    assert_eq!(s.website.as_deref(), Some("www.millersons.example"));
}

#[test]
fn quoted_text_does_not_count() {
    // The quoted reply is all praise; the sender's own line is neutral.
    let a = run(
        "Re: order",
        "Noted, see below.\n\n> This is wonderful, amazing, great!\n",
    );
    assert_eq!(a.sentiment.label, "neutral");
}

#[test]
fn long_first_sentence_is_cut() {
    let long = "word ".repeat(100);
    let a = run("", &long);
    let summary = a.summary.unwrap();
    assert!(summary.chars().count() <= SUMMARY_CHARS);
    assert!(summary.ends_with('…'));
}

#[test]
fn empty_message() {
    let a = run("", "");
    assert_eq!(a.sentiment.label, "neutral");
    assert_eq!(a.intent.label, "other");
    assert_eq!(a.summary, None);
    assert_eq!(a.signature, None);
    assert!(a.tags.is_empty());
}

#[test]
fn scores_are_in_range() {
    for (s, b) in [
        ("URGENT!!!", "FIX THIS NOW!!! TERRIBLE!!!"),
        ("hi", "thanks"),
        ("", COMPLAINT),
    ] {
        let a = run(s, b);
        for l in [&a.sentiment, &a.intent].into_iter().chain(&a.tags) {
            assert!((0.0..=1.0).contains(&l.score), "{l:?}");
        }
    }
}

fn data_dir() -> Option<PathBuf> {
    let dir = std::env::var_os("MAILROOM_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data"));
    dir.is_dir().then_some(dir)
}

/// Signatures are found in most messages that have one and few that do not.
#[test]
fn enron_signatures() {
    let Some(data) = data_dir() else {
        eprintln!("shared/data not found: skipping");
        return;
    };
    let rate = |set: &str| {
        let dir = data.join("signatures").join(set);
        let (mut found, mut total) = (0, 0);
        for entry in std::fs::read_dir(&dir).unwrap().flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if !name.ends_with("_body") {
                continue;
            }
            let raw = std::fs::read_to_string(entry.path()).unwrap_or_default();
            let body = raw.replace("#sig#", "");
            total += 1;
            if run("", &body).signature.is_some() {
                found += 1;
            }
        }
        found as f64 / total.max(1) as f64
    };
    let (with, without) = (rate("P"), rate("N"));
    eprintln!(
        "signature found in {:.0}% of P, {:.0}% of N",
        with * 100.0,
        without * 100.0
    );
    assert!(with > 0.6, "recall {with}");
    assert!(without < 0.25, "false positives {without}");
}

/// Sentences that ask for something score as requests more often than
/// sentences that do not.
#[test]
fn parakweet_requests() {
    let Some(data) = data_dir() else {
        eprintln!("shared/data not found: skipping");
        return;
    };
    let tsv = std::fs::read_to_string(data.join("intent/parakweet-train.tsv")).unwrap();
    let (mut yes, mut yes_hit, mut no, mut no_hit) = (0, 0, 0, 0);
    for line in tsv.lines() {
        let Some((label, sentence)) = line.split_once('\t') else {
            continue;
        };
        let asks = matches!(
            run("", sentence).intent.label.as_str(),
            "request" | "question" | "meeting"
        );
        match label {
            "Yes" => {
                yes += 1;
                yes_hit += usize::from(asks);
            }
            _ => {
                no += 1;
                no_hit += usize::from(asks);
            }
        }
    }
    let (tpr, fpr) = (yes_hit as f64 / yes as f64, no_hit as f64 / no as f64);
    eprintln!(
        "requests: {:.0}% of Yes, {:.0}% of No",
        tpr * 100.0,
        fpr * 100.0
    );
    assert!(tpr > fpr + 0.2, "tpr {tpr} fpr {fpr}");
}
