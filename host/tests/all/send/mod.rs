//! Sending against real servers started by the tests (see the
//! `mailroom-test-servers` crate): Dovecot's submission service relaying to
//! a recording SMTP sink, its IMAP for the copy in Sent. Covers the outbox
//! from the API to the sink, the Sent copy (appended, filed by the provider,
//! found and learned), crash resumption (also a crash mid-SMTP), retries
//! and permanent failures, and the connection test of the outgoing server.

mod send_connection;
mod send_crash;
mod send_failures;
mod send_flow;
mod send_forward;
mod send_trigger;
pub(crate) mod support;
