//! The POP3 client (RFC 1939, CAPA from RFC 2449, STLS from RFC 2595, SASL
//! from RFC 5034): connecting (implicit TLS, STLS, plain: `connect`), the
//! wire (status lines and multi-line answers of any size: `wire`), logging
//! in (password, or SASL OAUTHBEARER/XOAUTH2: `auth`) and the commands of a
//! session (`session`: UIDL, LIST, RETR, DELE, QUIT). [`Pop3Session`] is the
//! one type the rest of the host sees. The UIDL-based download is in
//! `mailroom-sync`.

pub mod auth;
pub mod connect;
pub mod session;
pub mod wire;

pub use session::{MAX_MESSAGE_BYTES, Pop3Session, ServerMessage};
