//! Prints the classifier's measured quality on held-out data (see the
//! crate docs). `cargo run --release --manifest-path plugins/Cargo.toml -p zia-eval`

use zia_eval::{parakweet, replies, requests, sentiment, signatures};

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
    Ok(())
}
