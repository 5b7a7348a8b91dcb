//! A synthetic but realistic mailbox for the sync benchmark: business mail
//! from a few hundred senders, mostly short plain-text or text+HTML
//! messages, with one in ten carrying an attachment (the long tail that
//! makes up most of a real mailbox's bytes). Deterministic: the same seed
//! gives the same mailbox.

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::fmt::Write as _;

const SUBJECTS: [&str; 12] = [
    "Quote for 25 seats",
    "Re: Onboarding schedule",
    "Invoice 2025-0412",
    "Meeting notes from Tuesday",
    "Re: Re: Integration questions",
    "Contract renewal",
    "Your support ticket #48213",
    "Fwd: Pricing for the enterprise plan",
    "Weekly report",
    "Welcome to the team",
    "Re: Delivery delayed",
    "Proposal draft v3",
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

/// Generates the messages of one benchmark run.
pub struct Corpus {
    rng: StdRng,
}

impl Corpus {
    pub fn new(seed: u64) -> Corpus {
        Corpus {
            rng: StdRng::seed_from_u64(seed),
        }
    }

    /// Message number `n`: ~70 % plain text of 1–8 KB, ~20 % text+HTML of
    /// 8–40 KB, ~10 % with a base64 attachment of 40–400 KB.
    pub fn message(&mut self, n: usize) -> Vec<u8> {
        let sender = self.rng.random_range(0..300);
        let subject = SUBJECTS[self.rng.random_range(0..SUBJECTS.len())];
        let kind = self.rng.random_range(0..10);
        let mut head = format!(
            "From: Customer {sender} <customer{sender}@client{}.example>\r\n\
             To: Alice <alice@acme.example>\r\n\
             Subject: {subject}\r\n\
             Date: Tue, {} Jul 2025 {:02}:{:02}:{:02} +0200\r\n\
             Message-ID: <bench-{n}@client{}.example>\r\n\
             MIME-Version: 1.0\r\n",
            sender % 40,
            1 + n % 28,
            n / 3600 % 24,
            n / 60 % 60,
            n % 60,
            sender % 40,
        );
        if n % 3 == 1 {
            let _ = write!(head, "In-Reply-To: <bench-{}@acme.example>\r\n", n - 1);
        }
        let text_bytes = match kind {
            0..=6 => self.rng.random_range(1_000..8_000),
            _ => self.rng.random_range(4_000..20_000),
        };
        let text = self.text(text_bytes);
        let body = match kind {
            0..=6 => format!("Content-Type: text/plain; charset=utf-8\r\n\r\n{text}"),
            7 | 8 => format!(
                "Content-Type: multipart/alternative; boundary=\"alt\"\r\n\r\n\
                 --alt\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{text}\r\n\
                 --alt\r\nContent-Type: text/html; charset=utf-8\r\n\r\n{}\r\n--alt--\r\n",
                html(&text)
            ),
            _ => {
                let size = self.rng.random_range(40_000..400_000);
                format!(
                    "Content-Type: multipart/mixed; boundary=\"mix\"\r\n\r\n\
                     --mix\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{text}\r\n\
                     --mix\r\nContent-Type: application/pdf; name=\"document-{n}.pdf\"\r\n\
                     Content-Disposition: attachment; filename=\"document-{n}.pdf\"\r\n\
                     Content-Transfer-Encoding: base64\r\n\r\n{}\r\n--mix--\r\n",
                    self.base64(size)
                )
            }
        };
        (head + &body).into_bytes()
    }

    fn text(&mut self, bytes: usize) -> String {
        let mut text = String::from("Hi Alice,\r\n\r\n");
        while text.len() < bytes {
            let mut line = String::new();
            while line.len() < 60 {
                line.push_str(SENTENCES[self.rng.random_range(0..SENTENCES.len())]);
                line.push(' ');
            }
            text.push_str(line.trim_end());
            text.push_str("\r\n");
        }
        text.push_str("\r\nBest regards,\r\nJohn Miller\r\nHead of Operations\r\n");
        text
    }

    /// `bytes` of random content, base64 in 76-character lines.
    fn base64(&mut self, bytes: usize) -> String {
        const ALPHABET: &[u8; 64] =
            b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        let mut out = String::with_capacity(bytes * 4 / 3 + bytes / 38);
        let mut column = 0;
        for _ in 0..bytes * 4 / 3 {
            out.push(ALPHABET[self.rng.random_range(0..64)] as char);
            column += 1;
            if column == 76 {
                out.push_str("\r\n");
                column = 0;
            }
        }
        out
    }
}

fn html(text: &str) -> String {
    let mut html = String::from("<html><body>");
    for line in text.lines() {
        let _ = write!(html, "<p>{line}</p>");
    }
    html.push_str("</body></html>");
    html
}
