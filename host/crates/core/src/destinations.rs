//! Where an org's accounts and integrations may connect: the org's
//! [`DestinationPolicy`]. By default only public addresses, on the ports
//! mail uses (and 443 for HTTPS); loopback, private, link-local, unique
//! local, shared (CGNAT), multicast, unspecified and reserved addresses are
//! refused unless an admin names the host or its network. The same rule
//! binds admins (they may change the policy, and every change is theirs to
//! make on purpose), so no account, connection test, OAuth token URL or
//! sync is a way to probe the machine's own network.
//!
//! The policy is plain data kept by the store per org; the protocol
//! clients apply it to each address DNS gave, after the lookup and before
//! connecting to that very address (no second lookup an attacker's DNS
//! could answer differently).

use serde::{Deserialize, Serialize};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::str::FromStr;

/// The ports mail uses: IMAP 143/993, POP3 110/995, SMTP 25/465/587.
pub const MAIL_PORTS: [u16; 7] = [143, 993, 110, 995, 25, 465, 587];
/// The port of an HTTPS endpoint (an OAuth token URL).
pub const HTTPS_PORTS: [u16; 1] = [443];
/// Entries an admin may list, each.
const MAX_ENTRIES: usize = 256;

/// Which destinations an org's users (admins included) may connect to.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct DestinationPolicy {
    /// Destinations allowed although not public, on any port: a host name
    /// (`mail.corp.example`, matched as written, whatever it resolves to),
    /// an address (`10.0.0.5`, `::1`) or a network (`10.0.0.0/8`,
    /// `fd00::/8`).
    pub allowed_hosts: Vec<String>,
    /// Ports allowed on public addresses besides the mail ports (IMAP
    /// 143/993, POP3 110/995, SMTP 25/465/587) and 443 for HTTPS.
    pub extra_ports: Vec<u16>,
    /// Hosts (names or addresses) an account may log in to with
    /// `security: none`, passwords in plain text, besides this machine.
    /// Only where they resolve to a non-public address; off by default.
    /// Such accounts carry a warning.
    pub plain_text_hosts: Vec<String>,
}

/// What a connection is for, which decides the ports allowed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Purpose {
    /// IMAP, POP3, SMTP.
    Mail,
    /// An HTTPS endpoint: an OAuth token or authorization URL.
    Https,
}

/// A policy an admin wrote that cannot be applied: which entry, and why.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct InvalidPolicy(pub String);

/// Why a destination was refused, in words naming the host, the address
/// it resolved to, why, and what an admin can do.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Refused(pub String);

/// One `allowed_hosts` entry, parsed.
enum Entry {
    Name(String),
    Network(ipnet::IpNet),
}

impl Entry {
    fn parse(text: &str) -> Option<Entry> {
        let text = text.trim();
        if let Ok(net) = ipnet::IpNet::from_str(text) {
            return Some(Entry::Network(net.trunc()));
        }
        if let Some(ip) = literal_ip(text) {
            return Some(Entry::Network(ipnet::IpNet::from(ip)));
        }
        is_host_name(text).then(|| Entry::Name(normal_name(text)))
    }

    fn matches(&self, host: &str, ip: IpAddr) -> bool {
        match self {
            Entry::Name(name) => *name == normal_name(host),
            Entry::Network(net) => net.contains(&canonical(ip)),
        }
    }
}

impl DestinationPolicy {
    /// The default policy with this machine allowed: for a server whose
    /// mail servers all run here (the demo, tests).
    pub fn allowing_loopback() -> Self {
        Self {
            allowed_hosts: vec!["127.0.0.0/8".into(), "::1".into(), "localhost".into()],
            ..Self::default()
        }
    }

    /// Checks every entry; the error names the first one that is wrong.
    pub fn validate(&self) -> Result<(), InvalidPolicy> {
        for (field, len) in [
            ("allowed_hosts", self.allowed_hosts.len()),
            ("extra_ports", self.extra_ports.len()),
            ("plain_text_hosts", self.plain_text_hosts.len()),
        ] {
            if len > MAX_ENTRIES {
                return Err(InvalidPolicy(format!(
                    "`{field}` has {len} entries; at most {MAX_ENTRIES}"
                )));
            }
        }
        for host in &self.allowed_hosts {
            if Entry::parse(host).is_none() {
                return Err(InvalidPolicy(format!(
                    "`allowed_hosts`: {host:?} is neither a host name, an address nor a \
                     network (e.g. \"mail.corp.example\", \"10.0.0.5\", \"10.0.0.0/8\")"
                )));
            }
        }
        if self.extra_ports.contains(&0) {
            return Err(InvalidPolicy("`extra_ports`: 0 is not a port".into()));
        }
        for host in &self.plain_text_hosts {
            if literal_ip(host).is_none() && !is_host_name(host.trim()) {
                return Err(InvalidPolicy(format!(
                    "`plain_text_hosts`: {host:?} is neither a host name nor an address \
                     (a network is not accepted here: name each server)"
                )));
            }
        }
        Ok(())
    }

    /// May a connection for `purpose` to `host`, which resolved to `addr`,
    /// be made? Run on every address DNS gave, before connecting to it.
    pub fn check(&self, host: &str, addr: SocketAddr, purpose: Purpose) -> Result<(), Refused> {
        let ip = canonical(addr.ip());
        if self.allowed(host, ip) {
            return Ok(());
        }
        if let Some(class) = address_class(ip) {
            let resolved = if literal_ip(host).is_some() {
                format!("{host} is {class}")
            } else {
                format!("{host} resolved to {ip}, {class}")
            };
            return Err(Refused(format!(
                "{resolved}: the org's destination policy allows public addresses only. \
                 An admin can allow it by adding \"{host}\" (or its network) to \
                 `allowed_hosts` with PUT /v1/org/destination-policy"
            )));
        }
        self.check_port(addr.port(), purpose)
    }

    /// What can be told before any DNS lookup (when an account is created
    /// or changed): the port, and the address when the host is one.
    pub fn check_before_lookup(
        &self,
        host: &str,
        port: u16,
        purpose: Purpose,
    ) -> Result<(), Refused> {
        let ip = if host.trim().eq_ignore_ascii_case("localhost") {
            Some(IpAddr::V4(Ipv4Addr::LOCALHOST))
        } else {
            literal_ip(host)
        };
        match ip {
            Some(ip) => self.check(host, SocketAddr::new(ip, port), purpose),
            None if self.allowed_by_name(host) => Ok(()),
            None => self.check_port(port, purpose),
        }
    }

    /// May an account log in with `security: none` to `host`, resolved to
    /// `ip`? This machine always; a listed host only at a non-public address.
    pub fn allows_plain_text(&self, host: &str, ip: Option<IpAddr>) -> bool {
        let ip = ip.or_else(|| literal_ip(host)).map(canonical);
        if ip.is_some_and(|ip| ip.is_loopback()) || is_this_machine(host) {
            return true;
        }
        let listed = self
            .plain_text_hosts
            .iter()
            .any(|h| normal_name(h) == normal_name(host));
        listed && ip.is_none_or(|ip| address_class(ip).is_some())
    }

    fn allowed(&self, host: &str, ip: IpAddr) -> bool {
        self.allowed_hosts
            .iter()
            .filter_map(|h| Entry::parse(h))
            .any(|entry| entry.matches(host, ip))
    }

    fn allowed_by_name(&self, host: &str) -> bool {
        self.allowed_hosts
            .iter()
            .filter_map(|h| Entry::parse(h))
            .any(|entry| matches!(&entry, Entry::Name(name) if *name == normal_name(host)))
    }

    fn check_port(&self, port: u16, purpose: Purpose) -> Result<(), Refused> {
        let (usual, what): (&[u16], &str) = match purpose {
            Purpose::Mail => (
                &MAIL_PORTS,
                "a mail port (IMAP 143/993, POP3 110/995, SMTP 25/465/587)",
            ),
            Purpose::Https => (&HTTPS_PORTS, "the HTTPS port 443"),
        };
        if usual.contains(&port) || self.extra_ports.contains(&port) {
            return Ok(());
        }
        Err(Refused(format!(
            "port {port} is not {what}, and the org's destination policy allows no other. \
             An admin can allow it by adding {port} to `extra_ports` with \
             PUT /v1/org/destination-policy"
        )))
    }
}

/// True for a name or address of this machine.
pub fn is_this_machine(host: &str) -> bool {
    host.trim().eq_ignore_ascii_case("localhost")
        || literal_ip(host).is_some_and(|ip| canonical(ip).is_loopback())
}

/// Why `ip` is not a public address, or `None` when it is one.
pub fn address_class(ip: IpAddr) -> Option<&'static str> {
    match canonical(ip) {
        IpAddr::V4(v4) => v4_class(v4),
        IpAddr::V6(v6) => v6_class(v6),
    }
}

fn v4_class(ip: Ipv4Addr) -> Option<&'static str> {
    let [a, b, _, _] = ip.octets();
    if ip.is_loopback() {
        Some("a loopback address (this machine)")
    } else if ip.is_private() {
        Some("a private address (RFC 1918)")
    } else if ip.is_link_local() {
        Some("a link-local address (169.254.0.0/16, e.g. a cloud metadata service)")
    } else if a == 100 && (64..128).contains(&b) {
        Some("a shared address (CGNAT, 100.64.0.0/10)")
    } else if ip.is_multicast() {
        Some("a multicast address")
    } else if ip.is_unspecified() || a == 0 {
        Some("an unspecified address (0.0.0.0/8)")
    } else if ip.is_broadcast() || a >= 240 {
        Some("a reserved address (240.0.0.0/4)")
    } else if a == 198 && (b == 18 || b == 19) {
        Some("a benchmarking address (198.18.0.0/15)")
    } else if ip.is_documentation() {
        Some("a documentation address")
    } else if a == 192 && b == 0 && ip.octets()[2] == 0 {
        Some("a protocol assignment address (192.0.0.0/24)")
    } else {
        None
    }
}

fn v6_class(ip: Ipv6Addr) -> Option<&'static str> {
    let first = ip.segments()[0];
    if ip.is_loopback() {
        Some("a loopback address (this machine)")
    } else if ip.is_unspecified() {
        Some("an unspecified address (::)")
    } else if ip.is_multicast() {
        Some("a multicast address")
    } else if first & 0xfe00 == 0xfc00 {
        Some("a unique local address (fc00::/7)")
    } else if first & 0xffc0 == 0xfe80 || first & 0xffc0 == 0xfec0 {
        Some("a link-local address (fe80::/10)")
    } else if first == 0x2001 && ip.segments()[1] == 0x0db8 {
        Some("a documentation address (2001:db8::/32)")
    } else if first == 0x0064 && ip.segments()[1] == 0xff9b {
        // NAT64 (64:ff9b::/96): the address inside decides.
        let [.., c, d] = ip.segments();
        let v4 = Ipv4Addr::new((c >> 8) as u8, c as u8, (d >> 8) as u8, d as u8);
        v4_class(v4)
    } else if first == 0x2002 {
        // 6to4 (2002::/16): the IPv4 address in the next 32 bits decides.
        let [_, b, c, ..] = ip.segments();
        let v4 = Ipv4Addr::new((b >> 8) as u8, b as u8, (c >> 8) as u8, c as u8);
        v4_class(v4)
    } else {
        None
    }
}

/// An IPv4 address written as IPv6 (`::ffff:10.0.0.1`) is that IPv4
/// address: the same host, the same rule.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6
            .to_ipv4_mapped()
            .map(IpAddr::V4)
            .unwrap_or(IpAddr::V6(v6)),
        v4 => v4,
    }
}

/// The address a host is when written as one (`10.0.0.1`, `[::1]`).
fn literal_ip(host: &str) -> Option<IpAddr> {
    IpAddr::from_str(host.trim().trim_start_matches('[').trim_end_matches(']')).ok()
}

/// A DNS name (RFC 1123 labels), for the policy's entries.
fn is_host_name(text: &str) -> bool {
    let text = text.strip_suffix('.').unwrap_or(text);
    !text.is_empty()
        && text.len() <= 253
        && text.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        })
}

fn normal_name(host: &str) -> String {
    let host = host.trim().trim_start_matches('[').trim_end_matches(']');
    host.strip_suffix('.').unwrap_or(host).to_ascii_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(ip: &str, port: u16) -> SocketAddr {
        SocketAddr::new(IpAddr::from_str(ip).expect("ip"), port)
    }

    #[test]
    fn non_public_ranges_are_refused_by_default() {
        let policy = DestinationPolicy::default();
        for ip in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "224.0.0.1",
            "0.0.0.0",
            "255.255.255.255",
            "::1",
            "::",
            "fd00::1",
            "fe80::1",
            "ff02::1",
            "::ffff:10.0.0.1",
            "64:ff9b::a00:1",
            "2002:7f00:1::",
        ] {
            let err = policy
                .check("mail.example.com", at(ip, 993), Purpose::Mail)
                .expect_err(ip);
            assert!(err.0.contains("allowed_hosts"), "{ip}: {err}");
        }
        policy
            .check("mail.example.com", at("93.184.215.14", 993), Purpose::Mail)
            .expect("public on a mail port");
    }

    #[test]
    fn ports_outside_the_list_are_refused_unless_added() {
        let mut policy = DestinationPolicy::default();
        let err = policy
            .check("mail.example.com", at("93.184.215.14", 8080), Purpose::Mail)
            .expect_err("8080");
        assert!(err.0.contains("port 8080") && err.0.contains("extra_ports"));
        policy
            .check(
                "login.example.com",
                at("93.184.215.14", 443),
                Purpose::Https,
            )
            .expect("https");
        policy.extra_ports.push(8080);
        policy
            .check("mail.example.com", at("93.184.215.14", 8080), Purpose::Mail)
            .expect("added");
    }

    #[test]
    fn allowed_names_addresses_and_networks_open_any_port() {
        let policy = DestinationPolicy {
            allowed_hosts: vec!["Mail.Corp.Example.".into(), "10.0.0.0/8".into()],
            ..Default::default()
        };
        policy.validate().expect("valid");
        policy
            .check("mail.corp.example", at("192.168.0.9", 1143), Purpose::Mail)
            .expect("by name");
        policy
            .check("other.corp.example", at("10.9.9.9", 1143), Purpose::Mail)
            .expect("by network");
        policy
            .check("other.corp.example", at("192.168.0.9", 993), Purpose::Mail)
            .expect_err("not listed");
    }

    #[test]
    fn invalid_entries_are_named() {
        let policy = DestinationPolicy {
            allowed_hosts: vec!["not a host".into()],
            ..Default::default()
        };
        let err = policy.validate().expect_err("invalid");
        assert!(err.0.contains("\"not a host\""), "{err}");
        let policy = DestinationPolicy {
            plain_text_hosts: vec!["10.0.0.0/8".into()],
            ..Default::default()
        };
        assert!(policy.validate().is_err());
    }

    #[test]
    fn plain_text_only_to_this_machine_or_a_listed_private_host() {
        let mut policy = DestinationPolicy::default();
        assert!(policy.allows_plain_text("localhost", None));
        assert!(policy.allows_plain_text("[::1]", None));
        assert!(!policy.allows_plain_text("mail.corp.example", None));
        policy.plain_text_hosts.push("mail.corp.example".into());
        let private = IpAddr::from_str("10.0.0.5").ok();
        let public = IpAddr::from_str("93.184.215.14").ok();
        assert!(policy.allows_plain_text("mail.corp.example", private));
        assert!(!policy.allows_plain_text("mail.corp.example", public));
    }
}
