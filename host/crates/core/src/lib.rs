//! The values every layer of the host shares and nothing else: typed ids,
//! the clock, the retry backoff, email addresses as they are compared, MIME parsing and indexing into the fields
//! the store and plugins see, a parallel map over the machine's cores, a
//! plugin call's [`plugin_limits::Limits`],
//! owner-only file creation ([`private_fs`]), an org's
//! [`destinations::DestinationPolicy`] and
//! [`automation::AutomationPolicy`] (kept by the store, applied by the
//! protocol clients and the OAuth client), and the two values
//! both the store and the protocol clients (`mailroom-net`) need: a
//! connection's [`security::Security`] and a credential in memory
//! ([`secret::Secret`]); and the rules for text crossing a trust boundary
//! ([`text`]: label and folder names, log escaping). It depends on no other Mailroom
//! crate, so every layer can use it without reaching up.

pub mod automation;
pub mod backoff;
pub mod clock;
pub mod destinations;
pub mod email;
pub mod ids;
pub mod mbox;
pub mod mime;
pub mod mime_index;
pub mod parallel;
pub mod plugin_limits;
pub mod private_fs;
pub mod secret;
pub mod security;
pub mod text;
