//! The SASL mechanisms that carry an OAuth2 access token to IMAP and POP3
//! servers: OAUTHBEARER (RFC 7628, the standard) and XOAUTH2 (Google's
//! older one, still the only one some servers know). This module owns the
//! choice between them from what the server advertises, the client's
//! first message, and the answer to the server's error challenge; the
//! protocols only move the bytes.

use crate::error::{NetError, NetResult};
use crate::transport::ServerTarget;

/// An OAuth2 SASL mechanism.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OAuthMechanism {
    OAuthBearer,
    XOAuth2,
}

impl OAuthMechanism {
    /// The mechanism's SASL name.
    pub fn name(self) -> &'static str {
        match self {
            OAuthMechanism::OAuthBearer => "OAUTHBEARER",
            OAuthMechanism::XOAuth2 => "XOAUTH2",
        }
    }

    /// OAUTHBEARER when the server advertises it, else XOAUTH2. A server
    /// with neither cannot take a token at all: the error says so and lists
    /// what it does offer, so the admin can pick a password login instead.
    pub fn choose(target: &ServerTarget, advertised: &[String]) -> NetResult<OAuthMechanism> {
        let offers =
            |m: OAuthMechanism| advertised.iter().any(|a| a.eq_ignore_ascii_case(m.name()));
        if offers(OAuthMechanism::OAuthBearer) {
            return Ok(OAuthMechanism::OAuthBearer);
        }
        if offers(OAuthMechanism::XOAuth2) {
            return Ok(OAuthMechanism::XOAuth2);
        }
        let offered = if advertised.is_empty() {
            "no SASL mechanisms".to_owned()
        } else {
            advertised.join(", ")
        };
        Err(NetError::Protocol(format!(
            "{} offers no OAuth login (neither OAUTHBEARER nor XOAUTH2), only: {offered}; \
             connect this account with a password or app password, or enable OAuth on the server",
            target.server()
        )))
    }

    /// The client's first message, carrying the token.
    pub fn initial_response(
        self,
        target: &ServerTarget,
        username: &str,
        access_token: &str,
    ) -> Vec<u8> {
        match self {
            // RFC 7628 §3.1: a GS2 header naming the user, then key=value
            // pairs separated by ^A, ended by an empty pair.
            OAuthMechanism::OAuthBearer => format!(
                "n,a={},\x01host={}\x01port={}\x01auth=Bearer {access_token}\x01\x01",
                gs2_saslname(username),
                target.host,
                target.port
            ),
            OAuthMechanism::XOAuth2 => {
                format!("user={username}\x01auth=Bearer {access_token}\x01\x01")
            }
        }
        .into_bytes()
    }

    /// What the client sends after the server's error challenge (a JSON
    /// status) so that the server finishes with its final NO/-ERR: a lone
    /// ^A for OAUTHBEARER (RFC 7628 §3.2.3), an empty line for XOAUTH2.
    pub fn answer_to_error(self) -> &'static [u8] {
        match self {
            OAuthMechanism::OAuthBearer => b"\x01",
            OAuthMechanism::XOAuth2 => b"",
        }
    }
}

/// The server's error challenge, kept as detail for the login error: its
/// JSON (`{"status":"invalid_token","scope":…}`) says why the token was
/// refused, which the final NO does not.
pub fn error_detail(challenge: &[u8]) -> Option<String> {
    let text = String::from_utf8_lossy(challenge).trim().to_owned();
    (!text.is_empty()).then_some(text)
}

/// RFC 5801 saslname: `,` and `=` would end or corrupt the GS2 header.
fn gs2_saslname(name: &str) -> String {
    name.replace('=', "=3D").replace(',', "=2C")
}

#[cfg(test)]
mod tests {
    use super::*;
    use mailroom_core::security::Security;

    fn target() -> ServerTarget {
        ServerTarget {
            host: "imap.example.com".into(),
            port: 993,
            security: Security::Tls,
            tls_verify: true,
            destinations: Default::default(),
        }
    }

    fn names(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn oauthbearer_is_preferred_and_xoauth2_is_the_fallback() {
        let both = names(&["PLAIN", "xoauth2", "OAUTHBEARER"]);
        assert_eq!(
            OAuthMechanism::choose(&target(), &both).expect("offered"),
            OAuthMechanism::OAuthBearer
        );
        let old = names(&["PLAIN", "XOAUTH2"]);
        assert_eq!(
            OAuthMechanism::choose(&target(), &old).expect("offered"),
            OAuthMechanism::XOAuth2
        );
    }

    #[test]
    fn a_server_without_oauth_says_what_it_offers() {
        let err =
            OAuthMechanism::choose(&target(), &names(&["PLAIN", "LOGIN"])).expect_err("no OAuth");
        let text = err.to_string();
        assert!(text.contains("offers no OAuth login"), "{text}");
        assert!(text.contains("only: PLAIN, LOGIN"), "{text}");
        assert!(text.contains("password or app password"), "{text}");
        let err = OAuthMechanism::choose(&target(), &[]).expect_err("nothing");
        assert!(err.to_string().contains("no SASL mechanisms"), "{err}");
    }

    #[test]
    fn the_oauthbearer_message_follows_rfc_7628() {
        let msg = OAuthMechanism::OAuthBearer.initial_response(&target(), "al,i=ce", "tok");
        assert_eq!(
            msg,
            b"n,a=al=2Ci=3Dce,\x01host=imap.example.com\x01port=993\x01auth=Bearer tok\x01\x01"
        );
        let msg = OAuthMechanism::XOAuth2.initial_response(&target(), "alice", "tok");
        assert_eq!(msg, b"user=alice\x01auth=Bearer tok\x01\x01");
        assert_eq!(OAuthMechanism::OAuthBearer.answer_to_error(), b"\x01");
        assert_eq!(OAuthMechanism::XOAuth2.answer_to_error(), b"");
    }
}
