//! Outbound HTTP for plugins: the grant an admin gives one plugin
//! (`grant`) and the `wasi:http` requests checked against it and sent
//! (`send`). A plugin without a grant links `wasi:http` like any other
//! component and has every request refused.

pub mod grant;
pub mod send;

pub use grant::OutboundGrant;
pub use send::{OutboundAccess, OutboundClients, OutboundHooks};
