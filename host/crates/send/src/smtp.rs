//! One SMTP attempt with `lettre`: implicit TLS (RFC 8314), STARTTLS
//! (required, never opportunistic), or plain text to a loopback server
//! only; login with a password (PLAIN/LOGIN) or an OAuth2 access token
//! (XOAUTH2: lettre has no OAUTHBEARER, which IMAP and POP3 prefer);
//! certificates verified against the Mozilla roots unless the
//! account opted out; the whole attempt under a deadline.
//!
//! The outcome is sorted for the retry logic: 4xx replies, refused or
//! dropped connections and timeouts are transient; 5xx replies, untrusted
//! certificates and settings that cannot work (no STARTTLS offered, no
//! common AUTH mechanism) are permanent. Either way the server's own words
//! are kept, never a credential.

use super::error::{SendError, SendResult};
use lettre::address::Envelope;
use lettre::transport::smtp::authentication::{Credentials, Mechanism};
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::{Address, AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use mailroom_store::{Account, AuthKind, Secret, Security, Store};
use std::net::IpAddr;
use std::str::FromStr;
use std::time::Duration;

/// Where and how to connect.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SmtpTarget {
    pub host: String,
    pub port: u16,
    pub security: Security,
    /// Verify the server's certificate (false only when the account opted out).
    pub tls_verify: bool,
}

impl SmtpTarget {
    pub fn server(&self) -> String {
        format!("{}:{}", self.host, self.port)
    }
}

/// How to log in.
#[derive(Clone, Debug)]
pub enum SmtpAuth {
    Password {
        username: String,
        password: Secret,
    },
    OAuth2 {
        username: String,
        access_token: Secret,
    },
}

fn permanent(reason: impl Into<String>) -> SendError {
    SendError::Smtp {
        reason: reason.into(),
        transient: false,
    }
}

/// The account's outgoing server and login: the incoming credentials when
/// it uses the same for both, else its outgoing username and password.
pub async fn connection(store: &Store, account: &Account) -> SendResult<(SmtpTarget, SmtpAuth)> {
    let server = account.outgoing.as_ref().ok_or_else(|| {
        permanent("this account has no outgoing (SMTP) server; set one in its settings")
    })?;
    let target = SmtpTarget {
        host: server.host.clone(),
        port: server.port,
        security: server.security,
        tls_verify: account.tls_verify,
    };
    let secrets = store.account_secrets(&account.org, &account.id).await?;
    let username = if account.same_credentials_for_outgoing {
        account.username.clone()
    } else {
        account
            .outgoing_username
            .clone()
            .unwrap_or_else(|| account.username.clone())
    };
    let auth = match account.auth_kind {
        AuthKind::Password | AuthKind::AppPassword => {
            let password = if account.same_credentials_for_outgoing {
                secrets.password
            } else {
                secrets.outgoing_password.or(secrets.password)
            };
            let password = password.ok_or_else(|| {
                permanent("no password is stored for this account's outgoing server; set one")
            })?;
            SmtpAuth::Password { username, password }
        }
        AuthKind::Oauth2 => {
            let access_token =
                mailroom_oauth::fresh_access_token(store, &account.org, &account.id).await?;
            SmtpAuth::OAuth2 {
                username,
                access_token,
            }
        }
    };
    Ok((target, auth))
}

/// Sends as `account`: its server and login (an OAuth access token
/// refreshed when about to expire), and when the server refuses an OAuth
/// token, one more attempt with a refreshed one.
pub async fn send_for_account(
    store: &Store,
    account: &Account,
    from: &str,
    to: &[String],
    raw: &[u8],
    timeout: Duration,
) -> SendResult<()> {
    let (target, auth) = connection(store, account).await?;
    match send(&target, &auth, from, to, raw, timeout).await {
        Err(SendError::LoginRefused { reason }) => {
            let SmtpAuth::OAuth2 {
                username,
                access_token,
            } = auth
            else {
                return Err(SendError::LoginRefused { reason });
            };
            tracing::info!(account = %account.id, server_says = %reason, "OAuth access token refused by SMTP; refreshing once");
            let access_token = mailroom_oauth::access_token_after_rejection(
                store,
                &account.org,
                &account.id,
                &access_token,
            )
            .await?;
            let retry = SmtpAuth::OAuth2 {
                username,
                access_token,
            };
            send(&target, &retry, from, to, raw, timeout).await
        }
        other => other,
    }
}

/// Credentials in plain text go to this machine only.
fn is_loopback(host: &str) -> bool {
    host.eq_ignore_ascii_case("localhost")
        || IpAddr::from_str(host.trim_start_matches('[').trim_end_matches(']'))
            .map(|ip| ip.is_loopback())
            .unwrap_or(false)
}

fn transport(
    target: &SmtpTarget,
    auth: &SmtpAuth,
    timeout: Duration,
) -> SendResult<AsyncSmtpTransport<Tokio1Executor>> {
    let tls_parameters = || {
        TlsParameters::builder(target.host.clone())
            .dangerous_accept_invalid_certs(!target.tls_verify)
            .build_rustls()
            .map_err(|e| permanent(format!("TLS is not available: {e}")))
    };
    let tls = match target.security {
        Security::Tls => Tls::Wrapper(tls_parameters()?),
        Security::Starttls => Tls::Required(tls_parameters()?),
        Security::None if is_loopback(&target.host) => Tls::None,
        Security::None => {
            return Err(permanent(format!(
                "refusing to send a password in plain text to {}: use STARTTLS (port 587) or \
                 TLS (port 465); plain SMTP is only for a server on this machine",
                target.server()
            )));
        }
    };
    let (credentials, mechanisms) = match auth {
        SmtpAuth::Password { username, password } => (
            Credentials::new(username.clone(), password.expose().to_owned()),
            vec![Mechanism::Plain, Mechanism::Login],
        ),
        SmtpAuth::OAuth2 {
            username,
            access_token,
        } => (
            Credentials::new(username.clone(), access_token.expose().to_owned()),
            vec![Mechanism::Xoauth2],
        ),
    };
    Ok(
        AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(target.host.clone())
            .port(target.port)
            .tls(tls)
            .credentials(credentials)
            .authentication(mechanisms)
            // Per socket operation; the whole attempt has its own deadline.
            .timeout(Some(timeout))
            .build(),
    )
}

/// Sends `raw` to `to` as `from` in one SMTP session.
pub async fn send(
    target: &SmtpTarget,
    auth: &SmtpAuth,
    from: &str,
    to: &[String],
    raw: &[u8],
    timeout: Duration,
) -> SendResult<()> {
    let address = |a: &str| {
        Address::from_str(a).map_err(|e| permanent(format!("{a:?} is not an address: {e}")))
    };
    let recipients = to
        .iter()
        .map(|a| address(a))
        .collect::<SendResult<Vec<_>>>()?;
    let envelope = Envelope::new(Some(address(from)?), recipients)
        .map_err(|e| permanent(format!("no envelope: {e}")))?;
    let transport = transport(target, auth, timeout)?;
    // The socket timeout bounds each read and write; this bounds a server
    // that trickles bytes forever. Connect, TLS, EHLO, AUTH, MAIL, RCPT and
    // DATA for a large message fit well within three times it.
    let deadline = timeout.saturating_mul(3);
    match tokio::time::timeout(deadline, transport.send_raw(&envelope, raw)).await {
        Ok(Ok(_response)) => Ok(()),
        Ok(Err(e)) => Err(classify(target, auth, &e)),
        Err(_) => Err(SendError::Smtp {
            reason: format!(
                "{} did not finish the SMTP exchange within {} s",
                target.server(),
                deadline.as_secs()
            ),
            transient: true,
        }),
    }
}

/// The server refused the credentials: 535 (RFC 4954), or the error
/// challenge a server sends on a bad XOAUTH2 token, which lettre cannot
/// answer and reports as a client error.
fn login_refused(e: &lettre::transport::smtp::Error) -> bool {
    e.status().is_some_and(|code| code.to_string() == "535")
        || (e.is_client() && e.to_string().contains("does not expect a challenge"))
}

/// Every error in the chain, outermost first.
fn chain<'a>(
    e: &'a (dyn std::error::Error + 'static),
) -> Vec<&'a (dyn std::error::Error + 'static)> {
    let mut out = vec![e];
    let mut next = e.source();
    while let Some(err) = next {
        out.push(err);
        // io::Error::source skips its own payload: look inside explicitly.
        next = match err
            .downcast_ref::<std::io::Error>()
            .and_then(|io| io.get_ref())
        {
            Some(inner) => Some(inner as &(dyn std::error::Error + 'static)),
            None => err.source(),
        };
        if out.len() > 16 {
            break;
        }
    }
    out
}

/// The server's EHLO lists none of the mechanisms this login can use.
fn no_common_mechanism(server: &str, auth: &SmtpAuth) -> String {
    match auth {
        SmtpAuth::OAuth2 { .. } => format!(
            "{server} offers no XOAUTH2 login, the one OAuth mechanism Mailroom can send with \
             (its SMTP client has no OAUTHBEARER); enable XOAUTH2 on the server, or connect \
             this account with a password or app password"
        ),
        SmtpAuth::Password { .. } => format!(
            "{server} offers neither PLAIN nor LOGIN for a password login (over this \
             connection's security); use the port and security the provider documents"
        ),
    }
}

/// Sorts a failed attempt into transient or permanent, in words an admin
/// can act on, keeping the server's reply.
fn classify(target: &SmtpTarget, auth: &SmtpAuth, e: &lettre::transport::smtp::Error) -> SendError {
    let server = target.server();
    if e.is_client()
        && e.to_string()
            .contains("No compatible authentication mechanism")
    {
        return permanent(no_common_mechanism(&server, auth));
    }
    if login_refused(e) {
        let reason = match e.status() {
            Some(code) => {
                let words = std::error::Error::source(e)
                    .map(|s| s.to_string())
                    .unwrap_or_default();
                format!("{server} answered {code} {words}")
                    .trim_end()
                    .to_owned()
            }
            None => format!("{server} refused the OAuth access token (XOAUTH2)"),
        };
        return SendError::LoginRefused { reason };
    }
    if let Some(code) = e.status() {
        let words = std::error::Error::source(e)
            .map(|s| s.to_string())
            .unwrap_or_default();
        return SendError::Smtp {
            reason: format!("{server} answered {code} {words}")
                .trim_end()
                .to_owned(),
            transient: e.is_transient(),
        };
    }
    let errors = chain(e);
    let certificate = errors
        .iter()
        .find_map(|err| match err.downcast_ref::<rustls::Error>() {
            Some(rustls::Error::InvalidCertificate(why)) => Some(format!("{why:?}")),
            _ => None,
        });
    if let Some(why) = certificate {
        return permanent(format!(
            "the certificate of {server} is not trusted ({why}). Fix the server's certificate, or \
             turn off certificate verification for this account if you trust this network"
        ));
    }
    let detail = errors
        .last()
        .map(|root| root.to_string())
        .unwrap_or_else(|| e.to_string());
    if e.is_timeout() {
        return SendError::Smtp {
            reason: format!("{server} did not answer in time: {detail}"),
            transient: true,
        };
    }
    if e.is_client() {
        // lettre's own refusals: no STARTTLS offered, no common AUTH
        // mechanism. Retrying changes nothing.
        return permanent(format!("cannot send through {server}: {e}"));
    }
    let refused = errors.iter().any(|err| {
        err.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::ConnectionRefused)
    });
    let reason = if refused {
        format!(
            "{server} refused the connection: nothing listens on port {} (server down or wrong port?)",
            target.port
        )
    } else {
        format!("cannot reach {server}: {e}")
    };
    SendError::Smtp {
        reason,
        transient: true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_text_only_to_loopback() {
        assert!(is_loopback("127.0.0.1"));
        assert!(is_loopback("localhost"));
        assert!(is_loopback("[::1]"));
        assert!(!is_loopback("smtp.example.com"));
        assert!(!is_loopback("10.0.0.1"));
        let target = SmtpTarget {
            host: "smtp.example.com".into(),
            port: 25,
            security: Security::None,
            tls_verify: true,
        };
        let auth = SmtpAuth::Password {
            username: "ann".into(),
            password: Secret::new("pw"),
        };
        let err = transport(&target, &auth, Duration::from_secs(1)).expect_err("refused");
        assert!(!err.is_transient(), "{err}");
        assert!(!err.to_string().contains("pw"));
    }
}
