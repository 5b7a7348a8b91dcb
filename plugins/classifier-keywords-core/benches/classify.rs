//! Micro benchmark of [`classify`] on messages shaped like the sync
//! benchmark's (host/benches/sync/corpus.rs): a greeting, 1–20 KB of business
//! sentences in short lines, a closing and a signature; plus the 2 KB message
//! of host/benches/plugins.rs. No dependencies (the plugins workspace has no
//! criterion); each case prints the best of five timed rounds.
//!
//! Run: `cargo bench --manifest-path plugins/Cargo.toml -p classifier-keywords-core`
//! (numbers in plugins/README.md).

use classifier_keywords_core::{Email, classify};
use std::hint::black_box;
use std::time::{Duration, Instant};

const SUBJECTS: [&str; 6] = [
    "Quote for 25 seats",
    "Re: Onboarding schedule",
    "Invoice 2025-0412",
    "Re: Re: Integration questions",
    "Your support ticket #48213",
    "Re: Delivery delayed",
];

const SENTENCES: [&str; 10] = [
    "Thanks for the call yesterday, it was really helpful.",
    "Could you please send us an updated quote including the onboarding package?",
    "We would like to start in March and need the invoice by the end of next week.",
    "Can we schedule a meeting on Tuesday at 10am to go through the integration?",
    "I'm a bit worried about the migration timeline, the last vendor was slow.",
    "Attached you will find the signed contract and the purchase order.",
    "Our finance team has approved the budget for the next quarter.",
    "Please let me know if anything is missing from our side.",
    "The delivery was delayed because of the holidays, sorry for the trouble.",
    "We appreciate the quick support so far and look forward to working together.",
];

/// xorshift64*: deterministic and dependency-free.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 33) as usize % n
    }
}

/// The corpus's text part: ~70 % of 1–8 KB, the rest 4–20 KB.
fn message(rng: &mut Rng) -> (String, String) {
    let subject = SUBJECTS[rng.below(SUBJECTS.len())].to_string();
    let bytes = if rng.below(10) < 7 {
        1_000 + rng.below(7_000)
    } else {
        4_000 + rng.below(16_000)
    };
    let mut text = String::from("Hi Alice,\r\n\r\n");
    while text.len() < bytes {
        let mut line = String::new();
        while line.len() < 60 {
            line.push_str(SENTENCES[rng.below(SENTENCES.len())]);
            line.push(' ');
        }
        text.push_str(line.trim_end());
        text.push_str("\r\n");
    }
    text.push_str("\r\nBest regards,\r\nJohn Miller\r\nHead of Operations\r\n");
    (subject, text)
}

/// The message host/benches/plugins.rs sends through wasmtime.
fn two_kb_message() -> (String, String) {
    let subject = "Re: Quote for 25 seats and onboarding in March".to_owned();
    let mut body = String::from(
        "Hi Sarah,\n\nThanks for the call yesterday, it was really helpful. Could you please send us an \
         updated quote for 25 seats including the onboarding package? We would like to start in March \
         and need the invoice by the end of next week so our finance team can approve it.\n\n\
         Also, can we schedule a meeting on Tuesday at 10am to go through the integration with our CRM? \
         I'm a bit worried about the migration timeline, the last vendor was disappointing and slow.\n\n",
    );
    while body.len() < 1800 {
        body.push_str(
            "We appreciate the quick support so far and look forward to working together. ",
        );
    }
    body.push_str(
        "\n\nBest regards,\nJohn Miller\nHead of Operations\nAcme Logistics GmbH\n\
         Phone: +49 30 1234567\njohn.miller@acme-logistics.example\nwww.acme-logistics.example\n",
    );
    (subject, body)
}

/// Runs `f` for about `budget`, five rounds, and prints the best round's mean
/// per iteration (the least disturbed by other work on the machine).
fn bench(name: &str, budget: Duration, mut f: impl FnMut()) {
    let started = Instant::now();
    let mut warm = 0u32;
    while started.elapsed() < budget / 10 {
        f();
        warm += 1;
    }
    let per_round = (warm as u64 * 2).max(1);
    let mut best = Duration::MAX;
    for _ in 0..5 {
        let t = Instant::now();
        for _ in 0..per_round {
            f();
        }
        best = best.min(t.elapsed() / per_round as u32);
    }
    println!("{name:<28} {:>10.1} µs", best.as_secs_f64() * 1e6);
}

fn main() {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let corpus: Vec<(String, String)> = (0..200).map(|_| message(&mut rng)).collect();
    let kb = corpus.iter().map(|(_, b)| b.len()).sum::<usize>() as f64 / 1024.0;
    let (subject, body) = two_kb_message();
    let budget = Duration::from_secs(2);

    bench("classify 2 KB message", budget, || {
        black_box(classify(black_box(&Email {
            subject: &subject,
            text_body: &body,
        })));
    });
    bench(
        &format!("classify corpus ({}x)", corpus.len()),
        budget,
        || {
            for (subject, body) in &corpus {
                black_box(classify(black_box(&Email {
                    subject,
                    text_body: body,
                })));
            }
        },
    );
    println!(
        "corpus: {} messages, {:.0} KB of text ({:.1} KB each)",
        corpus.len(),
        kb,
        kb / corpus.len() as f64
    );
}
