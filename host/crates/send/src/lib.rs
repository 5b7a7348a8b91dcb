//! Sending mail (DESIGN.md, "API send ──► outbox ──► SMTP ──► copy to Sent"):
//!
//! - [`compose`] builds the message from a user's request (`lettre`), with
//!   the from-address checked against the account's addresses;
//! - [`outbox`] commits it to the durable outbox before any network call;
//! - [`smtp`] makes one SMTP attempt as the account (its outgoing login,
//!   an OAuth token refreshed once when refused) with `mailroom-net`'s SMTP
//!   client, which sorts failures into transient and permanent;
//! - [`retry`] spaces attempts out (exponential backoff with jitter);
//! - [`sent_copy`] files the copy in Sent unless the provider does, learning
//!   per account whether it does, and stores the message for the pipeline;
//! - [`worker`] moves entries through those steps and runs in the background.

// Not every public item has its doc comment yet (the workspace warns on
// missing docs; the module docs say what each part owns).
#![allow(missing_docs)]

pub mod compose;
mod error;
pub mod outbox;
pub mod retry;
pub mod sent_copy;
pub mod smtp;
pub mod worker;

pub use compose::{OutgoingAttachment, OutgoingMessage};
pub use error::{SendError, SendResult};
pub use mailroom_core::backoff::Backoff;
pub use outbox::enqueue;
pub use retry::RetryPolicy;
pub use worker::{RunReport, Sender, run_worker};

use mailroom_net::Timeouts;
use std::time::Duration;

/// How sending behaves. The defaults suit real servers; tests shrink them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SendOptions {
    /// Deadline of each SMTP read or write (the whole attempt gets three times it).
    pub smtp_timeout: Duration,
    /// IMAP deadlines for filing the Sent copy.
    pub imap_timeouts: Timeouts,
    /// Spacing and number of SMTP attempts.
    pub retry: RetryPolicy,
    /// Spacing and number of attempts at filing the Sent copy.
    pub copy_retry: RetryPolicy,
    /// While learning whether a server files sent mail itself, how long to
    /// keep looking for the copy before concluding it does not.
    pub learn_wait: Duration,
    /// How long a worker holds an entry it is working on; after that (it
    /// crashed) another worker may take the entry up. Longer than any step.
    pub lease: Duration,
    /// How often the background worker looks for due entries when not woken.
    pub poll_interval: Duration,
}

impl Default for SendOptions {
    fn default() -> Self {
        Self {
            smtp_timeout: Duration::from_secs(60),
            imap_timeouts: Timeouts::default(),
            retry: RetryPolicy {
                backoff: Backoff {
                    base: Duration::from_secs(30),
                    max: Duration::from_secs(3600),
                },
                // About a day and a half of trying before giving up.
                max_attempts: 40,
            },
            copy_retry: RetryPolicy {
                backoff: Backoff {
                    base: Duration::from_secs(60),
                    max: Duration::from_secs(3600),
                },
                max_attempts: 24,
            },
            learn_wait: Duration::from_secs(5),
            lease: Duration::from_secs(600),
            poll_interval: Duration::from_secs(5),
        }
    }
}
