//! Rules evaluation cost per message: 200 enabled rules of mixed kinds
//! (every field, every match type, all/any/not trees, a fifth of them
//! regular expressions or wildcards), almost none of which match, over a
//! realistic business message (3.5 KB of text, 14 headers, an attachment).
//! Every rule is tried, which is the worst case: `stop` is never reached.
//!
//!     cargo bench -p mailroom-rules --bench rules

#![allow(missing_docs, clippy::expect_used)]

#[path = "rules/mixed.rs"]
mod mixed_rules;

use criterion::{Criterion, criterion_group, criterion_main};
use mailroom_rules::{Address, Attachment, MessageView, RuleSet};
use mixed_rules::mixed_rule;
use std::hint::black_box;

fn body() -> String {
    let paragraph = "Thank you for your message of last week. As discussed in the call, \
        we have reviewed the proposal together with our purchasing department and would \
        like to move forward with the second option, provided the delivery dates can be \
        confirmed by the end of the month. Could you please send the updated quote and \
        the terms for the maintenance contract? ";
    let mut body = String::from("Hello Ann,\n\n");
    while body.len() < 3500 {
        body.push_str(paragraph);
        body.push('\n');
    }
    body.push_str("\nBest regards,\nCarol Client\nPurchasing, Client Ltd\n+44 20 7946 0000\n");
    body
}

fn bench(c: &mut Criterion) {
    let set = RuleSet::compile((0..200).map(|i| (i, mixed_rule(i)))).expect("the rules compile");
    let body = body();
    let message = MessageView {
        from: vec![Address {
            name: Some("Carol Client"),
            email: "carol@client.example",
        }],
        to: vec![Address {
            name: Some("Ann Sales"),
            email: "ann@ours.example",
        }],
        cc: vec![Address {
            name: None,
            email: "purchasing@client.example",
        }],
        bcc: vec![],
        reply_to: vec![],
        subject: "Re: Proposal for the maintenance contract",
        body: &body,
        headers: vec![
            ("Return-Path", "<carol@client.example>"),
            ("Delivered-To", "ann@ours.example"),
            (
                "Received",
                "from mx.client.example by mx.ours.example; Mon, 7 Dec 2026",
            ),
            (
                "DKIM-Signature",
                "v=1; a=rsa-sha256; d=client.example; s=sel; b=abc",
            ),
            ("Message-ID", "<20261207.1234@client.example>"),
            ("In-Reply-To", "<20261201.99@ours.example>"),
            ("Date", "Mon, 7 Dec 2026 09:14:00 +0000"),
            ("From", "Carol Client <carol@client.example>"),
            ("To", "Ann Sales <ann@ours.example>"),
            ("Cc", "purchasing@client.example"),
            ("Subject", "Re: Proposal for the maintenance contract"),
            ("MIME-Version", "1.0"),
            ("Content-Type", "multipart/mixed; boundary=x"),
            ("X-Mailer", "Microsoft Outlook 16.0"),
        ],
        attachments: vec![Attachment {
            filename: Some("requirements.pdf"),
            inline: false,
        }],
        size: 48_213,
    };
    assert!(
        set.evaluate(&message).is_empty(),
        "no rule matches: every rule is evaluated in full"
    );
    c.bench_function("200 mixed rules, one message", |b| {
        b.iter(|| black_box(set.evaluate(black_box(&message))).len())
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
