//! What a login carries and how it went, the same for IMAP, POP3 and SMTP:
//! [`LoginAuth`] (a password, or an OAuth2 access token) and
//! [`LoginMechanism`] (which the connection test reports). Each protocol's
//! `auth` module turns them into its own commands.

use crate::sasl::OAuthMechanism;
use mailroom_core::secret::Secret;

/// Credentials for one login.
#[derive(Clone, Debug)]
pub enum LoginAuth {
    /// A password or app-specific password.
    Password { username: String, password: Secret },
    /// An OAuth2 access token, sent with SASL OAUTHBEARER or XOAUTH2.
    OAuth2 {
        username: String,
        access_token: Secret,
    },
}

impl LoginAuth {
    pub fn username(&self) -> &str {
        match self {
            LoginAuth::Password { username, .. } | LoginAuth::OAuth2 { username, .. } => username,
        }
    }
}

/// How a login went through, for the connection test's words.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LoginMechanism {
    /// IMAP LOGIN, or POP3's own choice of USER/PASS or PLAIN.
    Password,
    SaslPlain,
    /// SMTP AUTH PLAIN or LOGIN, whichever the server offered.
    SmtpPassword,
    OAuth(OAuthMechanism),
}

impl LoginMechanism {
    pub fn describe(self) -> &'static str {
        match self {
            LoginMechanism::Password => "a password",
            LoginMechanism::SaslPlain => "SASL PLAIN",
            LoginMechanism::SmtpPassword => "a password (AUTH PLAIN or LOGIN)",
            LoginMechanism::OAuth(m) => m.name(),
        }
    }
}
