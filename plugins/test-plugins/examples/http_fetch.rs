//! Classifies by fetching config `url` over `wasi:http`, `times` times
//! (default 1), and says what each request got in `summary`, one line per
//! request: `<status> <n> bytes`, or `error <code>` with the host's
//! message, or `<status> error after <n> bytes: <code> <text>` when the body
//! broke off. It asks for the `outbound-http` permission; the host sends
//! only what an admin granted.

use mailroom_plugin_sdk::prelude::*;
use mailroom_plugin_sdk::types::Permission;
use wasip2::http::outgoing_handler;
use wasip2::http::types::{Fields, OutgoingRequest, Scheme, http_error_code};
use wasip2::io::streams::StreamError;

pub struct HttpFetch;

impl Plugin for HttpFetch {
    fn metadata() -> Metadata {
        test_plugins::metadata("http-fetch")
            .config_key(ConfigKey::optional("url", "What to fetch", None))
            .config_key(ConfigKey::optional("times", "How many requests", Some("1")))
            .permission(Permission::OutboundHttp(vec!["models.example.com".into()]))
    }
}

impl Classifier for HttpFetch {
    fn classify(_message: Message) -> Result<Classification, String> {
        // Unconfigured (the upload's golden set): nothing to fetch.
        let Some(url) = config::get("url") else {
            return Ok(Classification::default());
        };
        let times: u32 = config::parse_or("times", 1);
        let lines: Vec<String> = (0..times).map(|_| fetch(&url)).collect();
        Ok(Classification {
            summary: Some(lines.join("\n")),
            ..Default::default()
        })
    }
}

fn fetch(url: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap_or(("https", url));
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    let request = OutgoingRequest::new(Fields::new());
    let scheme = match scheme {
        "http" => Scheme::Http,
        "https" => Scheme::Https,
        other => Scheme::Other(other.to_owned()),
    };
    if request.set_scheme(Some(&scheme)).is_err()
        || request.set_authority(Some(authority)).is_err()
        || request.set_path_with_query(Some(path)).is_err()
    {
        return format!("error the request for {url} cannot be built");
    }
    let pending = match outgoing_handler::handle(request, None) {
        Ok(pending) => pending,
        Err(code) => return format!("error {code:?}"),
    };
    pending.subscribe().block();
    let response = match pending.get() {
        Some(Ok(Ok(response))) => response,
        Some(Ok(Err(code))) => return format!("error {code:?}"),
        Some(Err(())) | None => return "error the response was taken already".into(),
    };
    let status = response.status();
    let Ok(body) = response.consume() else {
        return format!("{status} error the body was taken already");
    };
    let Ok(stream) = body.stream() else {
        return format!("{status} error the body stream was taken already");
    };
    let mut bytes = 0usize;
    loop {
        match stream.blocking_read(64 << 10) {
            Ok(chunk) => bytes += chunk.len(),
            Err(StreamError::Closed) => break,
            // wasmtime-wasi-http 48 gives a body's error as text only
            // (no `error-code`): both are shown.
            Err(StreamError::LastOperationFailed(e)) => {
                return format!(
                    "{status} error after {bytes} bytes: {:?} {}",
                    http_error_code(&e),
                    e.to_debug_string()
                );
            }
        }
    }
    format!("{status} {bytes} bytes")
}

mailroom_plugin_sdk::export_classifier!(HttpFetch);
