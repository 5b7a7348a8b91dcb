//! The protocol clients: everything that talks to a mail server, and
//! nothing that decides what to do with the mail.
//!
//! - [`transport`]: DNS, TCP and TLS with deadlines and verified
//!   certificates, shared by every protocol ([`ServerTarget`] says where
//!   and how to connect, [`Timeouts`] how long to wait);
//! - [`login`]: the credentials of one login ([`LoginAuth`]) and how it
//!   went through ([`LoginMechanism`]), the same for every protocol;
//! - [`sasl`]: the OAuth2 SASL mechanisms (OAUTHBEARER, XOAUTH2);
//! - [`steps`]: the one sequence that reaches a server (DNS, TCP, TLS,
//!   greeting), each step timed and its outcome typed;
//! - [`imap`], [`pop3`], [`smtp`]: connect, log in, and the commands;
//! - [`https`]: HTTPS requests to endpoints an org configured (OAuth
//!   token URLs, webhook receivers), bound by its destination policy;
//! - [`error`]: one [`NetError`] for all of them, with the server's words
//!   and never a credential.
//!
//! The crate depends on `mailroom-core` only, never on the store, sync or
//! sending: those hand it a target and a login and get sessions and
//! errors back. That is why the values both sides need sit in
//! `mailroom-core`: a connection's [`Security`] (an account setting the
//! store keeps, and what the transport acts on) and [`Secret`] (a
//! credential in memory, which the store decrypts and a login sends).

// Not every public item has its doc comment yet (the workspace warns on
// missing docs; the module docs say what each part owns).
#![allow(missing_docs)]

pub mod error;
pub mod https;
pub mod imap;
pub mod login;
pub mod pop3;
pub mod sasl;
pub mod smtp;
pub mod steps;
pub mod transport;

pub use error::{NetError, NetResult};
pub use imap::ImapSession;
pub use login::{LoginAuth, LoginMechanism};
pub use mailroom_core::secret::Secret;
pub use mailroom_core::security::Security;
pub use pop3::Pop3Session;
pub use transport::{MailStream, ServerTarget, Timeouts};
