//! Prints the classifier's measured quality on held-out data (see the
//! crate docs). `cargo run --release --manifest-path plugins/Cargo.toml -p zia-eval`
//! (add `-- --misses` to list the labelled mails it gets wrong).

use zia_eval::labelled;
use zia_eval::{
    cards, intents, meetings, parakweet, replies, requests, sentiment, signatures, summaries,
};

fn main() -> Result<(), zia_eval::EvalError> {
    let split = parakweet::load()?;
    let r = requests::evaluate(&split.held_out);
    println!(
        "request detection, held-out Parakweet sentences ({} of {} requests; trained on {}):",
        r.requests,
        r.sentences,
        split.train.len()
    );
    for (name, c) in [("model", r.model), ("classifier", r.classifier)] {
        println!(
            "  {name:<10} P {:.3}  R {:.3}  F1 {:.3}",
            c.precision(),
            c.recall(),
            c.f1()
        );
    }
    let fixtures = replies::load()?;
    let outcomes: Vec<_> = fixtures.iter().map(replies::check).collect();
    println!(
        "reply fixtures ({} clients/languages): own text exact {}/{}, summary exact {}/{}",
        fixtures.len(),
        outcomes.iter().filter(|o| o.own_exact).count(),
        fixtures.len(),
        outcomes.iter().filter(|o| o.summary_exact).count(),
        fixtures.len()
    );
    let m = sentiment::evaluate()?;
    println!(
        "sentiment, business-mail sentences ({}): macro-F1 Mailroom {:.3}, VADER {:.3}",
        m.sentences, m.mailroom, m.vader
    );
    let s = signatures::evaluate()?;
    println!(
        "signatures, Enron set ({} messages): line P {:.3}  R {:.3}  F1 {:.3}; {} cards, wrong person {} ({:.1} %)",
        s.messages,
        s.lines.precision(),
        s.lines.recall(),
        s.lines.f1(),
        s.cards,
        s.wrong_person,
        100.0 * s.wrong_person_rate()
    );
    labelled_set(std::env::args().any(|a| a == "--misses"))
}

/// The test part of `tests/data/zia-emails`.
fn labelled_set(show_misses: bool) -> Result<(), zia_eval::EvalError> {
    let split = labelled::load()?;
    let test = &split.test;
    println!(
        "labelled mail, test part ({} mails; {} in the train part, never measured):",
        test.len(),
        split.train.len()
    );
    let i = intents::evaluate(test);
    println!("  intent macro-F1 {:.3}", i.macro_f1);
    for (label, c) in &i.per_label {
        println!(
            "    {label:<10} P {:.3}  R {:.3}  F1 {:.3}  ({} mails)",
            c.precision(),
            c.recall(),
            c.f1(),
            c.tp + c.fn_
        );
    }
    let m = sentiment::evaluate_mail(test);
    println!(
        "  sentiment macro-F1 Mailroom {:.3}, VADER {:.3}",
        m.mailroom, m.vader
    );
    let c = cards::evaluate(test);
    println!(
        "  signature lines P {:.3}  R {:.3}  F1 {:.3}; {} cards, wrong person {} ({:.1} %); fields {:.3}",
        c.lines.lines.precision(),
        c.lines.lines.recall(),
        c.lines.lines.f1(),
        c.lines.cards,
        c.lines.wrong_person,
        100.0 * c.lines.wrong_person_rate(),
        c.field_accuracy()
    );
    for (name, f) in cards::FIELDS.iter().zip(&c.fields) {
        println!(
            "    {name:<8} {}/{} ({:.3})",
            f.correct,
            f.labelled,
            f.accuracy()
        );
    }
    let t = meetings::evaluate(test);
    println!(
        "  meeting start exact {}/{} ({:.3}); classified meeting and exact {}/{} ({:.3})",
        t.exact,
        t.timed,
        t.exact_rate(),
        t.end_to_end,
        t.timed,
        t.end_to_end_rate()
    );
    println!(
        "  meeting length exact {}/{}, place {}/{}",
        t.durations.0, t.durations.1, t.places.0, t.places.1
    );
    let s = summaries::evaluate(test);
    println!(
        "  summary ROUGE-1 F {:.3}, ROUGE-L F {:.3}; lead baseline {:.3} / {:.3}",
        s.mailroom.rouge_1, s.mailroom.rouge_l, s.lead.rouge_1, s.lead.rouge_l
    );
    if show_misses {
        for (id, truth, got) in &i.misses {
            println!("  intent miss {id}: {truth} -> {got}");
        }
        for (id, want, got) in &t.misses {
            println!("  meeting miss {id}: want {want}, got {got:?}");
        }
    }
    Ok(())
}
