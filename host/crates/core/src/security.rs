//! How a connection to a mail server is secured: implicit TLS, STARTTLS
//! (STLS for POP3), or none. A plain value shared by the store (it is part
//! of an account's server settings) and the protocol clients in
//! `mailroom-net` (the transport decides from it whether and when to
//! handshake). It lives here, below both, so the clients need not depend on
//! the store to know what an account asked for.

use serde::{Deserialize, Serialize};

/// Transport security: implicit TLS, STARTTLS, or none (loopback/testing).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Security {
    /// TLS from the first byte (IMAPS 993, POP3S 995, SMTPS 465).
    #[serde(rename = "tls")]
    Tls,
    /// Plain text upgraded with STARTTLS/STLS before login.
    #[serde(rename = "starttls")]
    Starttls,
    /// No TLS at all: only for loopback and test servers.
    #[serde(rename = "none")]
    None,
}

impl Security {
    /// The stored and serialised name: `tls`, `starttls` or `none`.
    pub fn as_str(self) -> &'static str {
        match self {
            Security::Tls => "tls",
            Security::Starttls => "starttls",
            Security::None => "none",
        }
    }

    /// The value a stored or serialised name stands for.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "tls" => Some(Security::Tls),
            "starttls" => Some(Security::Starttls),
            "none" => Some(Security::None),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Security;

    #[test]
    fn names_round_trip() {
        for s in [Security::Tls, Security::Starttls, Security::None] {
            assert_eq!(Security::parse(s.as_str()), Some(s));
        }
        assert_eq!(Security::parse("ssl"), None);
    }
}
