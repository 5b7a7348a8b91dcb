//! Bearer-token authentication as axum extractors, so every route states who
//! may call it in its signature instead of checking by hand:
//! [`AuthUser`] admits any active user of an org, [`AuthAdmin`] only admins.
//!
//! Tokens are `mr_` + 32 random bytes in base64url, created by the store,
//! which keeps only their sha256. An unknown, revoked or malformed token and
//! a deactivated user all get the same 401, so a caller learns nothing about
//! which tokens exist. Failures are logged with the client address and
//! budgeted per address ([`failures`]): past the budget the answer is 429.

pub mod failures;

use axum::extract::{ConnectInfo, FromRef, FromRequestParts};
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use failures::AuthFailures;
use mailroom_core::ids::{OrgId, TokenId, UserId};
use mailroom_store::{AuthContext, Role, Store, StoreError};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

/// Who is calling: resolved once per request from the bearer token.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Principal {
    pub org: OrgId,
    pub user: UserId,
    pub role: Role,
    /// The token this request presented (so "revoke my current token" works).
    pub token: TokenId,
}

impl Principal {
    pub fn is_admin(&self) -> bool {
        self.role == Role::Admin
    }
}

impl From<AuthContext> for Principal {
    fn from(c: AuthContext) -> Self {
        Principal {
            org: c.org,
            user: c.user,
            role: c.role,
            token: c.token,
        }
    }
}

/// Why a request was refused; the API turns it into its JSON error shape.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("this route needs an `Authorization: Bearer <token>` header")]
    Missing,
    #[error("the Authorization header must be `Bearer <token>`")]
    Malformed,
    /// Unknown, revoked, or belonging to a deactivated user.
    #[error("the token is not valid (unknown, revoked, or its user is deactivated)")]
    Invalid,
    /// Too many failed authentications from the client's address.
    #[error("too many failed authentications from this address; try again in {} s", retry_after.as_secs().max(1))]
    TooManyFailures { retry_after: Duration },
    #[error("only an org admin may do this")]
    NotAdmin,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Any active user of an org.
#[derive(Clone, Debug)]
pub struct AuthUser(pub Principal);

/// An active admin of an org; anyone else gets 403.
#[derive(Clone, Debug)]
pub struct AuthAdmin(pub Principal);

/// The token from an `Authorization` header value (scheme case-insensitive).
pub fn bearer_token(value: &str) -> Result<&str, AuthError> {
    let (scheme, token) = value.trim().split_once(' ').ok_or(AuthError::Malformed)?;
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Err(AuthError::Malformed);
    }
    let token = token.trim();
    if token.is_empty() {
        return Err(AuthError::Malformed);
    }
    Ok(token)
}

/// The client's address as the connection shows it (unspecified when the
/// router runs without connection info, as in tests).
pub fn client_address(parts: &Parts) -> IpAddr {
    parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |c| c.0.ip())
}

/// Resolves the request's principal, caching it in the request so several
/// extractors in one handler cost one lookup. A presented credential that
/// fails is logged and counted against the client's address.
async fn principal<S>(parts: &mut Parts, state: &S) -> Result<Principal, AuthError>
where
    Store: FromRef<S>,
    Arc<AuthFailures>: FromRef<S>,
{
    if let Some(p) = parts.extensions.get::<Principal>() {
        return Ok(p.clone());
    }
    let header = parts.headers.get(AUTHORIZATION).ok_or(AuthError::Missing)?;
    let resolved = match header.to_str() {
        Ok(value) => match bearer_token(value) {
            Ok(token) => Store::from_ref(state)
                .authenticate(token)
                .await?
                .ok_or(AuthError::Invalid),
            Err(e) => Err(e),
        },
        Err(_) => Err(AuthError::Malformed),
    };
    let context = match resolved {
        Ok(context) => context,
        Err(e) => {
            let client = client_address(parts);
            tracing::warn!(client = %client, reason = %e, path = %parts.uri.path(), "authentication failed");
            return Err(match Arc::<AuthFailures>::from_ref(state).failed(client) {
                Some(retry_after) => AuthError::TooManyFailures { retry_after },
                None => e,
            });
        }
    };
    let p = Principal::from(context);
    parts.extensions.insert(p.clone());
    Ok(p)
}

impl<S> FromRequestParts<S> for AuthUser
where
    Store: FromRef<S>,
    Arc<AuthFailures>: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = AuthError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        principal(parts, state).await.map(AuthUser)
    }
}

impl<S> FromRequestParts<S> for AuthAdmin
where
    Store: FromRef<S>,
    Arc<AuthFailures>: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = AuthError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let p = principal(parts, state).await?;
        if !p.is_admin() {
            return Err(AuthError::NotAdmin);
        }
        Ok(AuthAdmin(p))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_bearer_headers() {
        assert_eq!(bearer_token("Bearer mr_abc").ok(), Some("mr_abc"));
        assert_eq!(bearer_token("bearer   mr_abc ").ok(), Some("mr_abc"));
        assert!(matches!(
            bearer_token("Basic dXNlcjpwYXNz"),
            Err(AuthError::Malformed)
        ));
        assert!(matches!(bearer_token("Bearer"), Err(AuthError::Malformed)));
        assert!(matches!(
            bearer_token("Bearer  "),
            Err(AuthError::Malformed)
        ));
    }
}
