//! The `webhook` executor: an HTTPS POST of a JSON body to a host the
//! org's automation policy lists, at an address its destination policy
//! allows, signed with the org's webhook secret.
//!
//! What a receiver gets (documented in the README's "Webhooks"):
//! - `Mailroom-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256>` over
//!   `<t>.<body>` with the org's secret: the receiver recomputes it and
//!   refuses old timestamps, so a captured delivery cannot be replayed
//!   later or altered;
//! - `Mailroom-Event` (the call's event, `workflow.action` by default),
//!   `Mailroom-Delivery` (the action's id, the same on every attempt) and
//!   `Mailroom-Idempotency-Key`, so a receiver can drop a repeat.
//!
//! Delivery is at least once on the wire (a crash between the receiver's
//! answer and the commit sends it again, with the same delivery id) and at
//! most once per idempotency key in effect: a key delivered before is not
//! sent again. A 2xx answer is success; 410 Gone stops for good; a redirect
//! is refused (redirects are never followed: the signed body would go
//! where nobody allowed); anything else is retried with backoff.

use super::ExecuteError;
use mailroom_core::automation::AutomationPolicy;
use mailroom_core::clock::now_ms;
use mailroom_net::https::{HttpsOptions, HttpsSetupError, checked_client};
use mailroom_plugin_host::bindings::latest::types::WebhookCall;
use mailroom_store::{ActionEffect, ClaimedAction, Store};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The whole request, connect to last byte.
pub const TIMEOUT: Duration = Duration::from_secs(15);
/// The largest body a webhook may carry.
pub const MAX_BODY_BYTES: usize = 256 * 1024;
/// Extra headers a call may add.
const MAX_HEADERS: usize = 20;
/// How much of a failing receiver's answer the attempt log keeps.
const ANSWER_SNIPPET: usize = 200;
/// The event name when the call gives none.
const DEFAULT_EVENT: &str = "workflow.action";

/// Header names the host sets itself (or the HTTP layer owns).
fn reserved_header(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    n.starts_with("mailroom-")
        || matches!(
            n.as_str(),
            "host"
                | "content-length"
                | "content-type"
                | "transfer-encoding"
                | "connection"
                | "user-agent"
        )
}

/// `t=<ts>,v1=<hex HMAC-SHA256(secret, "<ts>.<body>")>`: the signature
/// header's value.
pub fn signature(secret: &str, timestamp: i64, body: &[u8]) -> String {
    let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, secret.as_bytes());
    let mut ctx = ring::hmac::Context::with_key(&key);
    ctx.update(timestamp.to_string().as_bytes());
    ctx.update(b".");
    ctx.update(body);
    format!("t={timestamp},v1={}", hex::encode(ctx.sign().as_ref()))
}

/// The idempotency key: the call's own, or one per message and action.
fn idempotency_key(claim: &ClaimedAction, call: &WebhookCall) -> String {
    call.idempotency_key
        .clone()
        .filter(|k| !k.trim().is_empty())
        .unwrap_or_else(|| format!("{}:{}", claim.message, claim.id))
}

/// Carries out one `webhook` action.
pub async fn deliver(
    store: &Store,
    claim: &ClaimedAction,
    call: &WebhookCall,
) -> Result<(ActionEffect, String), ExecuteError> {
    let policy: AutomationPolicy = store.automation_policy(&claim.org).await?;
    let target = policy
        .check_webhook(&call.url)
        .map_err(|e| ExecuteError::Refused(e.to_string()))?;
    let headers = extra_headers(call)?;
    let key = idempotency_key(claim, call);
    if key.len() > 200 {
        return Err(ExecuteError::Refused(
            "the idempotency key is longer than 200 bytes".into(),
        ));
    }
    if let Some(earlier) = store.webhook_key_delivery(&claim.org, &key).await?
        && earlier != claim.id
    {
        return Ok((
            ActionEffect::None,
            format!("not sent: action {earlier} delivered with the same idempotency key {key:?}"),
        ));
    }
    let body = body(store, claim, call).await?;
    let secret = store.webhook_secret(&claim.org).await?.ok_or_else(|| {
        ExecuteError::Refused(
            "the org has no webhook secret to sign with: an admin creates one with \
             POST /v1/org/webhook-secret"
                .into(),
        )
    })?;
    let options = HttpsOptions {
        destinations: Arc::new(store.destination_policy(&claim.org).await?),
        allow_plain_http: false,
        extra_root_pem: policy.webhook_ca_pem.as_deref(),
        timeout: TIMEOUT,
    };
    let client = checked_client(&target.url, &options).map_err(|e| match e {
        HttpsSetupError::Refused(r) => ExecuteError::Refused(r.to_string()),
        other => ExecuteError::Refused(other.to_string()),
    })?;
    let timestamp = now_ms() / 1000;
    let event = call.event.clone().unwrap_or_else(|| DEFAULT_EVENT.into());
    let mut request = client
        .post(&target.url)
        .header("content-type", "application/json")
        .header(
            "user-agent",
            concat!("Mailroom/", env!("CARGO_PKG_VERSION")),
        )
        .header("mailroom-event", event.as_str())
        .header("mailroom-delivery", claim.id.to_string())
        .header("mailroom-idempotency-key", key.as_str())
        .header(
            "mailroom-signature",
            signature(secret.expose(), timestamp, body.as_bytes()),
        );
    for (name, value) in headers {
        request = request.header(name, value);
    }
    let started = Instant::now();
    let response = request
        .body(body)
        .send()
        .await
        .map_err(|e| unreachable(&target.url, &e))?;
    let took = started.elapsed().as_millis();
    let status = response.status();
    if status.is_success() {
        return Ok((
            ActionEffect::WebhookDelivered { key },
            format!(
                "delivered {event} to {}: HTTP {} in {took} ms",
                target.url,
                status.as_u16()
            ),
        ));
    }
    let answer = snippet(response).await;
    if status == reqwest::StatusCode::GONE {
        return Err(ExecuteError::Refused(format!(
            "{} answered 410 Gone: it wants no more deliveries{answer}",
            target.url
        )));
    }
    if status.is_redirection() {
        return Err(ExecuteError::Refused(format!(
            "{} answered HTTP {} (a redirect); webhooks follow no redirects: point the URL at \
             the final address{answer}",
            target.url,
            status.as_u16()
        )));
    }
    Err(ExecuteError::Transient(format!(
        "{} answered HTTP {}{answer}",
        target.url,
        status.as_u16()
    )))
}

/// The call's extra headers, checked: names and values HTTP accepts, none
/// the host sets itself.
fn extra_headers(
    call: &WebhookCall,
) -> Result<Vec<(reqwest::header::HeaderName, reqwest::header::HeaderValue)>, ExecuteError> {
    if call.headers.len() > MAX_HEADERS {
        return Err(ExecuteError::Refused(format!(
            "the call has {} extra headers; at most {MAX_HEADERS} are allowed",
            call.headers.len()
        )));
    }
    call.headers
        .iter()
        .map(|(name, value)| {
            if reserved_header(name) {
                return Err(ExecuteError::Refused(format!(
                    "the header {name:?} is set by the host and cannot be given"
                )));
            }
            let n = reqwest::header::HeaderName::from_bytes(name.as_bytes())
                .map_err(|_| ExecuteError::Refused(format!("{name:?} is not a header name")))?;
            let v = reqwest::header::HeaderValue::from_str(value).map_err(|_| {
                ExecuteError::Refused(format!(
                    "the value of header {name:?} is not a header value"
                ))
            })?;
            Ok((n, v))
        })
        .collect()
}

/// The body: the call's JSON, checked, or the message's summary.
async fn body(
    store: &Store,
    claim: &ClaimedAction,
    call: &WebhookCall,
) -> Result<String, ExecuteError> {
    let text = match &call.body {
        Some(given) => {
            serde_json::from_str::<serde_json::Value>(given)
                .map_err(|e| ExecuteError::Refused(format!("the webhook body is not JSON: {e}")))?;
            given.clone()
        }
        None => {
            let message = store.get_message(&claim.org, &claim.message).await?;
            let links: Vec<serde_json::Value> = claim
                .context
                .links
                .iter()
                .map(|(kind, id)| serde_json::json!({"kind": kind, "id": id}))
                .collect();
            serde_json::json!({
                "org": claim.org,
                "source": claim.source,
                "message": message.summary,
                "links": links,
            })
            .to_string()
        }
    };
    if text.len() > MAX_BODY_BYTES {
        return Err(ExecuteError::Refused(format!(
            "the webhook body is {} bytes; at most {MAX_BODY_BYTES} are sent",
            text.len()
        )));
    }
    Ok(text)
}

/// A request that got no answer: refused for good when the org's
/// destination policy stopped it (after the DNS lookup), retried otherwise.
fn unreachable(url: &str, e: &reqwest::Error) -> ExecuteError {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = source {
        if let Some(refused) = err.downcast_ref::<mailroom_core::destinations::Refused>() {
            return ExecuteError::Refused(refused.to_string());
        }
        source = err.source();
    }
    let what = if e.is_timeout() {
        format!("no answer within {} s", TIMEOUT.as_secs())
    } else {
        // reqwest's own message names the step; its sources say why.
        let mut text = e.to_string();
        let mut source = std::error::Error::source(e);
        while let Some(err) = source {
            text.push_str(": ");
            text.push_str(&err.to_string());
            source = err.source();
        }
        text
    };
    ExecuteError::Transient(format!("{url} could not be reached: {what}"))
}

/// The start of a failing answer's body, for the attempt log.
async fn snippet(response: reqwest::Response) -> String {
    let text = response.text().await.unwrap_or_default();
    let text: String = text.chars().take(ANSWER_SNIPPET).collect();
    let text = text.trim();
    if text.is_empty() {
        String::new()
    } else {
        format!(": {text}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_signature_is_hmac_sha256_over_timestamp_dot_body() {
        // Python's hmac.new(b"whsec_test", b"1700000000.{}", sha256).hexdigest()
        let sig = signature("whsec_test", 1_700_000_000, b"{}");
        assert_eq!(
            sig,
            "t=1700000000,v1=35495024f4ef3f94e5a93e22221544c4b75e9a42300cd965ab81cb85cd994e91"
        );
        // Another body or time, another signature.
        assert_ne!(sig, signature("whsec_test", 1_700_000_000, b"{ }"));
        assert_ne!(sig, signature("whsec_test", 1_700_000_001, b"{}"));
    }

    #[test]
    fn headers_the_host_sets_cannot_be_given() {
        for name in [
            "Host",
            "content-length",
            "Mailroom-Signature",
            "MAILROOM-EVENT",
        ] {
            assert!(reserved_header(name), "{name}");
        }
        assert!(!reserved_header("X-Customer"));
        assert!(!reserved_header("Authorization"));
    }
}
