//! What an admin lets one plugin of one org reach over HTTP: a list of
//! hosts (each with its port, 443 when none is written; `*.example.com`
//! for the subdomains of `example.com`), a CA trusted beside the public
//! roots (a service with its own certificates), and the caps on one call's
//! requests. Checked when an admin sets it; matched by `send.rs` on every
//! request a plugin makes.

use serde::{Deserialize, Serialize};
use std::net::IpAddr;

/// Most hosts one grant may name.
pub const MAX_HOSTS: usize = 50;
/// Defaults and ceilings of the caps an admin may set.
pub const DEFAULT_REQUESTS_PER_CALL: u32 = 4;
pub const MAX_REQUESTS_PER_CALL: u32 = 100;
pub const DEFAULT_RESPONSE_BYTES: u64 = 1 << 20;
pub const MAX_RESPONSE_BYTES: u64 = 64 << 20;
pub const DEFAULT_REQUEST_BYTES: u64 = 1 << 20;
pub const MAX_REQUEST_BYTES: u64 = 16 << 20;

/// One plugin's outbound HTTP, as its org's admin granted it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OutboundGrant {
    /// `host`, `host:port`, `*.domain`, `*.domain:port`, an IP address or
    /// `[v6]:port`. Requests go over HTTPS to these and nowhere else.
    pub hosts: Vec<String>,
    /// A CA certificate (PEM) trusted for these hosts besides the public roots.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca_pem: Option<String>,
    /// Requests one plugin call may make.
    #[serde(default = "default_requests")]
    pub max_requests_per_call: u32,
    /// Largest response body the plugin may read; beyond it the body ends
    /// with an error.
    #[serde(default = "default_response_bytes")]
    pub max_response_bytes: u64,
    /// Largest request body the plugin may send.
    #[serde(default = "default_request_bytes")]
    pub max_request_bytes: u64,
}

fn default_requests() -> u32 {
    DEFAULT_REQUESTS_PER_CALL
}
fn default_response_bytes() -> u64 {
    DEFAULT_RESPONSE_BYTES
}
fn default_request_bytes() -> u64 {
    DEFAULT_REQUEST_BYTES
}

impl OutboundGrant {
    /// A grant of `hosts` with the default caps and no CA of its own.
    pub fn hosts<I: IntoIterator<Item = S>, S: Into<String>>(hosts: I) -> Self {
        Self {
            hosts: hosts.into_iter().map(Into::into).collect(),
            ca_pem: None,
            max_requests_per_call: DEFAULT_REQUESTS_PER_CALL,
            max_response_bytes: DEFAULT_RESPONSE_BYTES,
            max_request_bytes: DEFAULT_REQUEST_BYTES,
        }
    }

    /// Everything wrong with the grant an admin wrote, in words that say
    /// which entry and what to write instead. The CA's PEM is parsed where
    /// it is used (`send.rs`), which refuses the grant too
    /// ([`check_ca`](super::send::check_ca)).
    pub fn check(&self) -> Result<(), String> {
        if self.hosts.is_empty() {
            return Err("`hosts` is empty: name at least one host, e.g. \
                 \"models.example.com\" or \"crm.example.com:8443\"; to take the grant \
                 back, delete it"
                .into());
        }
        if self.hosts.len() > MAX_HOSTS {
            return Err(format!(
                "`hosts` has {} entries; the limit is {MAX_HOSTS}",
                self.hosts.len()
            ));
        }
        for (i, host) in self.hosts.iter().enumerate() {
            HostRule::parse(host).map_err(|why| format!("`hosts[{i}]` ({host:?}) {why}"))?;
        }
        let caps = [
            (
                "max_requests_per_call",
                u64::from(self.max_requests_per_call),
                u64::from(MAX_REQUESTS_PER_CALL),
            ),
            (
                "max_response_bytes",
                self.max_response_bytes,
                MAX_RESPONSE_BYTES,
            ),
            (
                "max_request_bytes",
                self.max_request_bytes,
                MAX_REQUEST_BYTES,
            ),
        ];
        for (name, value, max) in caps {
            if value == 0 || value > max {
                return Err(format!("`{name}` is {value}; it must be 1..={max}"));
            }
        }
        Ok(())
    }
}

/// A grant's hosts, parsed once for all the requests they are matched against.
#[derive(Clone, Debug, Default)]
pub struct HostRules(Vec<HostRule>);

impl HostRules {
    /// An entry that does not parse lets nothing through (a grant is
    /// checked when an admin sets it; only a hand-edited database has one).
    pub fn of(grant: &OutboundGrant) -> Self {
        Self(
            grant
                .hosts
                .iter()
                .filter_map(|h| HostRule::parse(h).ok())
                .collect(),
        )
    }

    /// Whether an entry lets a request reach `host:port`.
    pub fn allows(&self, host: &str, port: u16) -> bool {
        let host = normalized(host);
        self.0.iter().any(|rule| rule.matches(&host, port))
    }
}

/// One entry of a grant, parsed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HostRule {
    /// Lower-case, without a trailing dot or IPv6 brackets.
    host: String,
    /// `*.host`: any name below `host`, not `host` itself.
    subdomains: bool,
    port: u16,
}

impl HostRule {
    /// Parses `host`, `host:port`, `*.domain[:port]`, `1.2.3.4[:port]`,
    /// `[v6][:port]`; the error says what is wrong.
    pub fn parse(entry: &str) -> Result<Self, String> {
        let entry = entry.trim();
        if entry.contains("://") || entry.contains('/') {
            return Err(
                "is a URL: write the host alone (requests are always HTTPS), \
                 e.g. \"api.example.com\" or \"api.example.com:8443\""
                    .into(),
            );
        }
        let (host, port) = split_port(entry)?;
        let (host, subdomains) = match host.strip_prefix("*.") {
            Some(rest) => (rest, true),
            None => (host, false),
        };
        let host = normalized(host);
        if host.is_empty() {
            return Err("names no host".into());
        }
        if host.parse::<IpAddr>().is_err() {
            let valid = host.len() <= 253
                && host.split('.').all(|label| {
                    !label.is_empty()
                        && label.len() <= 63
                        && !label.starts_with('-')
                        && !label.ends_with('-')
                        && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
                });
            if !valid {
                return Err(
                    "is not a host name (letters, digits, `-` and `.`; a leading \
                     `*.` for subdomains) nor an IP address"
                        .into(),
                );
            }
        } else if subdomains {
            return Err("puts `*.` before an IP address; an address has no subdomains".into());
        }
        Ok(Self {
            host,
            subdomains,
            port,
        })
    }

    /// The host (or, for `*.domain`, the domain) the entry names.
    pub fn host(&self) -> &str {
        &self.host
    }

    /// `host` is already normalized.
    fn matches(&self, host: &str, port: u16) -> bool {
        if port != self.port {
            return false;
        }
        if self.subdomains {
            host.strip_suffix(self.host.as_str())
                .is_some_and(|prefix| prefix.len() > 1 && prefix.ends_with('.'))
        } else {
            host == self.host
        }
    }
}

/// `host` and its port (443 when none is written).
fn split_port(entry: &str) -> Result<(&str, u16), String> {
    let bad_port = |p: &str| format!("has port {p:?}; a port is a number 1..=65535");
    if let Some(rest) = entry.strip_prefix('[') {
        let (host, after) = rest
            .split_once(']')
            .ok_or_else(|| "opens `[` without closing it".to_owned())?;
        return match after.strip_prefix(':') {
            None if after.is_empty() => Ok((host, 443)),
            None => Err("has text after `]` that is not `:port`".into()),
            Some(p) => Ok((host, parse_port(p).ok_or_else(|| bad_port(p))?)),
        };
    }
    match entry.rsplit_once(':') {
        // Two or more colons without brackets: an IPv6 address alone.
        Some((host, _)) if host.contains(':') => Ok((entry, 443)),
        Some((host, p)) => Ok((host, parse_port(p).ok_or_else(|| bad_port(p))?)),
        None => Ok((entry, 443)),
    }
}

fn parse_port(p: &str) -> Option<u16> {
    p.parse::<u16>().ok().filter(|&p| p > 0)
}

fn normalized(host: &str) -> String {
    host.trim_start_matches('[')
        .trim_end_matches(']')
        .trim_end_matches('.')
        .to_ascii_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_match_their_host_and_port_only() {
        let written = OutboundGrant::hosts([
            "Models.Example.com",
            "crm.example.org:8443",
            "*.svc.example.net",
            "127.0.0.1:9443",
            "[::1]:9444",
        ]);
        assert!(written.check().is_ok());
        let grant = HostRules::of(&written);
        assert!(grant.allows("models.example.com", 443));
        assert!(grant.allows("models.example.com.", 443));
        assert!(!grant.allows("models.example.com", 8443));
        assert!(grant.allows("crm.example.org", 8443));
        assert!(!grant.allows("crm.example.org", 443));
        assert!(grant.allows("a.b.svc.example.net", 443));
        assert!(!grant.allows("svc.example.net", 443));
        assert!(!grant.allows("evilsvc.example.net", 443));
        assert!(grant.allows("127.0.0.1", 9443));
        assert!(grant.allows("::1", 9444));
        assert!(grant.allows("[::1]", 9444));
        assert!(!grant.allows("models.example.com.evil.example", 443));
    }

    #[test]
    fn bad_entries_and_caps_are_named() {
        for (entry, says) in [
            ("https://x.example/", "is a URL"),
            ("x.example:0", "port"),
            ("x.example:http", "port"),
            ("*.1.2.3.4", "IP address"),
            ("exa mple.com", "not a host name"),
            ("-x.example", "not a host name"),
            ("[::1", "without closing"),
            ("", "names no host"),
        ] {
            let err = OutboundGrant::hosts([entry]).check().unwrap_err();
            assert!(
                err.contains("hosts[0]") && err.contains(says),
                "{entry}: {err}"
            );
        }
        assert!(OutboundGrant::hosts(Vec::<String>::new()).check().is_err());
        let mut grant = OutboundGrant::hosts(["x.example"]);
        grant.max_requests_per_call = 0;
        assert!(grant.check().unwrap_err().contains("max_requests_per_call"));
        grant.max_requests_per_call = 1;
        grant.max_response_bytes = MAX_RESPONSE_BYTES + 1;
        assert!(grant.check().unwrap_err().contains("max_response_bytes"));
    }
}
