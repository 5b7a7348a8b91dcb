//! What an org's rules and workflows may do outside Mailroom: the org's
//! [`AutomationPolicy`]. Nothing by default: a `forward` goes only to the
//! addresses and domains an admin listed, a `webhook` only to the hosts an
//! admin listed (over HTTPS, to addresses the org's destination policy
//! allows), an `update-crm-field` only changes the fields an admin marked
//! writable. A workflow plugin is code an admin uploaded, and a rule can be
//! imported from a file nobody read closely: what reaches out is decided
//! here, by a person, not by them.
//!
//! The policy is plain data kept by the store per org and checked by the
//! executors (`mailroom-actions`) on every attempt, so narrowing it stops
//! actions already queued.

use serde::{Deserialize, Serialize};

/// Entries an admin may list, each.
const MAX_ENTRIES: usize = 256;
/// The longest field name a workflow may write.
const MAX_FIELD_NAME: usize = 64;

/// What an org's rules and workflows may reach outside Mailroom.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct AutomationPolicy {
    /// Where `forward` may send: an address (`partner@example.com`) or a
    /// domain (`example.com`, which also covers its subdomains).
    pub forward_to: Vec<String>,
    /// Where `webhook` may POST: a host name or address (`hooks.example.com`,
    /// any port) or `host:port` (`127.0.0.1:8443`). HTTPS only.
    pub webhook_hosts: Vec<String>,
    /// A CA certificate (PEM) webhook receivers' certificates may chain to,
    /// besides the public roots: for receivers inside the org's network.
    /// Certificates are always verified.
    pub webhook_ca_pem: Option<String>,
    /// The CRM fields `update-crm-field` may change, per record kind.
    pub writable_fields: WritableFields,
}

/// The CRM fields workflows may write, by their API names.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct WritableFields {
    /// Fields of contacts.
    pub contact: Vec<String>,
    /// Fields of leads.
    pub lead: Vec<String>,
}

/// A policy an admin wrote that cannot be applied: which entry, and why.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct InvalidAutomationPolicy(pub String);

/// Why an action may not reach where it asked, in words an admin can act on.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct NotAllowed(pub String);

/// A webhook URL the policy allows, taken apart.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WebhookTarget {
    /// The URL, as it will be requested.
    pub url: String,
    /// Its host, lower-cased (an IPv6 address without brackets).
    pub host: String,
    /// Its port (443 unless the URL names one).
    pub port: u16,
}

impl AutomationPolicy {
    /// Checks every entry; the error names the first one that is wrong.
    pub fn validate(&self) -> Result<(), InvalidAutomationPolicy> {
        let lists = [
            ("forward_to", self.forward_to.len()),
            ("webhook_hosts", self.webhook_hosts.len()),
            (
                "writable_fields.contact",
                self.writable_fields.contact.len(),
            ),
            ("writable_fields.lead", self.writable_fields.lead.len()),
        ];
        for (name, len) in lists {
            if len > MAX_ENTRIES {
                return Err(InvalidAutomationPolicy(format!(
                    "{name} lists {len} entries; at most {MAX_ENTRIES} are allowed"
                )));
            }
        }
        for entry in &self.forward_to {
            let e = entry.trim();
            let ok = match e.split_once('@') {
                Some((local, domain)) => !local.is_empty() && is_domain(domain),
                None => is_domain(e),
            };
            if !ok {
                return Err(InvalidAutomationPolicy(format!(
                    "forward_to entry {entry:?} is neither an address (name@example.com) \
                     nor a domain (example.com)"
                )));
            }
        }
        for entry in &self.webhook_hosts {
            if split_host_port(entry).is_none() {
                return Err(InvalidAutomationPolicy(format!(
                    "webhook_hosts entry {entry:?} is not a host (hooks.example.com, \
                     10.0.0.5, [::1]) or host:port (hooks.example.com:8443)"
                )));
            }
        }
        if let Some(pem) = &self.webhook_ca_pem
            && !pem.contains("-----BEGIN CERTIFICATE-----")
        {
            return Err(InvalidAutomationPolicy(
                "webhook_ca_pem is not a PEM certificate (-----BEGIN CERTIFICATE-----)".into(),
            ));
        }
        for (kind, fields) in [
            ("contact", &self.writable_fields.contact),
            ("lead", &self.writable_fields.lead),
        ] {
            for f in fields {
                let ok = !f.is_empty()
                    && f.len() <= MAX_FIELD_NAME
                    && f.chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == '.');
                if !ok {
                    return Err(InvalidAutomationPolicy(format!(
                        "writable_fields.{kind} entry {f:?} is not a field's API name \
                         (1 to {MAX_FIELD_NAME} letters, digits, '_', '-', '.')"
                    )));
                }
            }
        }
        Ok(())
    }

    /// May a `forward` go to `address` (already normalized, lower case)?
    pub fn check_forward(&self, address: &str) -> Result<(), NotAllowed> {
        let Some((_, domain)) = address.rsplit_once('@') else {
            return Err(NotAllowed(format!("{address:?} is not an email address")));
        };
        let allowed = self.forward_to.iter().any(|entry| {
            let e = entry.trim().to_ascii_lowercase();
            if e.contains('@') {
                e == address
            } else {
                domain == e || domain.ends_with(&format!(".{e}"))
            }
        });
        if allowed {
            Ok(())
        } else {
            Err(NotAllowed(format!(
                "forwarding to {address} is not allowed: an admin lists the address or its \
                 domain in the org's automation policy (forward_to) to allow it"
            )))
        }
    }

    /// May a `webhook` POST to `url`? Its host and port must be listed; the
    /// scheme must be https.
    pub fn check_webhook(&self, url: &str) -> Result<WebhookTarget, NotAllowed> {
        let parsed = url::Url::parse(url)
            .map_err(|e| NotAllowed(format!("the webhook URL {url:?} is not a URL: {e}")))?;
        if parsed.scheme() != "https" {
            return Err(NotAllowed(format!(
                "the webhook URL {url:?} must use https://"
            )));
        }
        if !parsed.username().is_empty() || parsed.password().is_some() {
            return Err(NotAllowed(format!(
                "the webhook URL {url:?} carries credentials; send them in a header instead"
            )));
        }
        let host = match parsed.host() {
            Some(url::Host::Domain(d)) => d.to_ascii_lowercase(),
            Some(url::Host::Ipv4(a)) => a.to_string(),
            Some(url::Host::Ipv6(a)) => a.to_string(),
            None => return Err(NotAllowed(format!("the webhook URL {url:?} has no host"))),
        };
        let port = parsed.port_or_known_default().unwrap_or(443);
        let allowed = self.webhook_hosts.iter().any(|entry| {
            split_host_port(entry).is_some_and(|(h, p)| h == host && p.is_none_or(|p| p == port))
        });
        if !allowed {
            return Err(NotAllowed(format!(
                "webhooks to {host}:{port} are not allowed: an admin lists the host in the \
                 org's automation policy (webhook_hosts) to allow it"
            )));
        }
        Ok(WebhookTarget {
            url: parsed.to_string(),
            host,
            port,
        })
    }

    /// May `update-crm-field` write `field` of a record of `kind`
    /// (`contact` or `lead`)?
    pub fn check_writable(&self, kind: &str, field: &str) -> Result<(), NotAllowed> {
        let fields = match kind {
            "contact" => &self.writable_fields.contact,
            "lead" => &self.writable_fields.lead,
            other => return Err(NotAllowed(format!("{other:?} is not a CRM record kind"))),
        };
        if fields.iter().any(|f| f == field) {
            Ok(())
        } else {
            Err(NotAllowed(format!(
                "the {kind} field {field:?} is not writable by workflows: an admin adds it to \
                 the org's automation policy (writable_fields.{kind}) to allow it"
            )))
        }
    }
}

fn is_domain(text: &str) -> bool {
    let t = text.trim_end_matches('.');
    !t.is_empty()
        && t.len() <= 253
        && t.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && label.chars().all(|c| c.is_alphanumeric() || c == '-')
        })
}

/// `host`, `host:port`, `[v6]`, `[v6]:port` or a bare IPv6 address,
/// lower-cased; `None` when it is none of them.
fn split_host_port(entry: &str) -> Option<(String, Option<u16>)> {
    let e = entry.trim().to_ascii_lowercase();
    if let Some(rest) = e.strip_prefix('[') {
        let (addr, after) = rest.split_once(']')?;
        let ip: std::net::Ipv6Addr = addr.parse().ok()?;
        let port = match after.strip_prefix(':') {
            Some(p) => Some(p.parse().ok()?),
            None if after.is_empty() => None,
            None => return None,
        };
        return Some((ip.to_string(), port));
    }
    if let Ok(ip) = e.parse::<std::net::Ipv6Addr>() {
        return Some((ip.to_string(), None));
    }
    let (host, port) = match e.rsplit_once(':') {
        Some((h, p)) => (h.to_owned(), Some(p.parse().ok()?)),
        None => (e.clone(), None),
    };
    (is_domain(&host) && port != Some(0)).then_some((host, port))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> AutomationPolicy {
        AutomationPolicy {
            forward_to: vec!["boss@corp.example".into(), "partner.example".into()],
            webhook_hosts: vec!["hooks.example.com".into(), "127.0.0.1:8443".into()],
            webhook_ca_pem: None,
            writable_fields: WritableFields {
                contact: vec!["stage".into()],
                lead: vec![],
            },
        }
    }

    #[test]
    fn nothing_is_allowed_by_default() {
        let p = AutomationPolicy::default();
        assert!(p.check_forward("a@b.example").is_err());
        assert!(p.check_webhook("https://hooks.example.com/x").is_err());
        assert!(p.check_writable("contact", "stage").is_err());
    }

    #[test]
    fn forwards_go_to_listed_addresses_and_domains_only() {
        let p = policy();
        assert!(p.check_forward("boss@corp.example").is_ok());
        assert!(p.check_forward("other@corp.example").is_err());
        assert!(p.check_forward("anyone@partner.example").is_ok());
        assert!(p.check_forward("anyone@eu.partner.example").is_ok());
        // A suffix that is not a subdomain is another domain.
        let refused = p.check_forward("x@evilpartner.example").unwrap_err();
        assert!(refused.0.contains("forward_to"), "{refused}");
    }

    #[test]
    fn webhooks_go_to_listed_hosts_over_https_only() {
        let p = policy();
        let t = p.check_webhook("https://HOOKS.example.com/in?x=1").unwrap();
        assert_eq!((t.host.as_str(), t.port), ("hooks.example.com", 443));
        assert!(p.check_webhook("https://hooks.example.com:9000/").is_ok());
        assert!(p.check_webhook("https://127.0.0.1:8443/hook").is_ok());
        assert!(p.check_webhook("https://127.0.0.1:8444/hook").is_err());
        assert!(p.check_webhook("http://hooks.example.com/").is_err());
        assert!(p.check_webhook("https://u:p@hooks.example.com/").is_err());
        assert!(p.check_webhook("https://other.example.com/").is_err());
        assert!(p.check_webhook("not a url").is_err());
    }

    #[test]
    fn only_marked_fields_are_writable() {
        let p = policy();
        assert!(p.check_writable("contact", "stage").is_ok());
        assert!(p.check_writable("lead", "stage").is_err());
        assert!(p.check_writable("contact", "owner").is_err());
    }

    #[test]
    fn entries_that_cannot_apply_are_named() {
        let mut p = policy();
        assert!(p.validate().is_ok());
        p.webhook_hosts.push("https://x.example/".into());
        assert!(p.validate().unwrap_err().0.contains("https://x.example/"));
        let mut p = policy();
        p.forward_to.push("@".into());
        assert!(p.validate().unwrap_err().0.contains("forward_to"));
        let mut p = policy();
        p.writable_fields.lead.push("a b".into());
        assert!(p.validate().unwrap_err().0.contains("writable_fields.lead"));
        let mut p = policy();
        p.webhook_ca_pem = Some("hello".into());
        assert!(p.validate().is_err());
        let mut p = policy();
        p.webhook_hosts = vec!["[::1]:8443".into(), "::1".into()];
        assert!(p.validate().is_ok());
        assert!(p.check_webhook("https://[::1]:8443/").is_ok());
    }
}
