//! Real mail servers on loopback for Mailroom's integration tests.
//!
//! - [`Dovecot`]: a private Dovecot instance (IMAP, IMAPS, POP3, POP3S,
//!   submission) with its own config, ports, certificate and users, in one
//!   of two [`Layout`]s: RFC 6154 special-use folders, or a non-standard
//!   server (`INBOX.` prefix, `.` separator, no special-use). Mail is seeded
//!   and changed behind the client's back with `doveadm`.
//! - [`CuttingProxy`]: a TCP proxy that drops connections mid-stream, e.g.
//!   in the middle of a FETCH response.
//! - [`SilentServer`]: accepts connections and never says a word (the
//!   "server that never answers" case).
//! - [`SmtpSink`]: an SMTP server that records every message it receives,
//!   e.g. at the end of Dovecot's submission relay.
//! - [`OAuthServer`]: an OAuth2 authorization server (authorize, token with
//!   PKCE and refresh rotation, introspection for Dovecot's oauth2 passdb).
//!
//! The harness panics with an install hint when Dovecot is missing: a test
//! that silently skips would pass on a machine that tested nothing.

// Test code: a failed set-up fails the test with the reason.
#![allow(clippy::unwrap_used, clippy::expect_used)]
// Not every public item has its doc comment yet (the workspace warns on
// missing docs; the module docs say what each part owns).
#![allow(missing_docs)]

mod dovecot;
mod net;
mod oauth_server;
mod proxy;
mod smtp_sink;
mod tempdir;
mod tls;

pub use dovecot::{Dovecot, DovecotOptions, Layout, Ports, TestUser};
pub use net::{ClosedPort, SilentServer, closed_port, free_port};
pub use oauth_server::OAuthServer;
pub use proxy::CuttingProxy;
pub use smtp_sink::{ReceivedMail, SmtpSink};
pub use tempdir::TempDir;
pub use tls::SelfSigned;
