//! Where VitaSync may send a request to a URL a tenant chose (webhook endpoints): never to
//! this machine, the cloud's metadata service or a private network, unless the operator says
//! so. Checked on the URL at registration, and on every resolved address at connect time.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// What the operator allows beyond the public internet.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DestinationPolicy {
    /// Loopback addresses (the local host, whose receivers often run on the same machine).
    pub allow_loopback: bool,
    /// Private, unique-local and carrier-grade NAT ranges (`VITASYNC_WEBHOOKS_ALLOW_PRIVATE`):
    /// receivers inside the operator's own network. Link-local and metadata addresses stay
    /// refused whatever the setting.
    pub allow_private: bool,
}

/// Names that reach a cloud metadata service or a machine's own interfaces.
fn forbidden_name(name: &str) -> bool {
    let name = name.trim_end_matches('.').to_ascii_lowercase();
    name == "metadata"
        || name.ends_with(".internal")
        || name == "internal"
        || name.ends_with(".localhost")
        || name.ends_with(".local")
}

/// Whether a URL's host is this machine (`localhost`, 127.0.0.0/8, ::1, and their mapped
/// forms).
pub fn is_loopback(host: &url::Host<&str>) -> bool {
    match host {
        url::Host::Domain(name) => is_localhost(name),
        url::Host::Ipv4(address) => matches!(classify_v4(*address), Class::Loopback),
        url::Host::Ipv6(address) => matches!(classify_v6(*address), Class::Loopback),
    }
}

fn is_localhost(name: &str) -> bool {
    name.trim_end_matches('.').eq_ignore_ascii_case("localhost")
}

impl DestinationPolicy {
    /// Whether a URL's host may be called (before any DNS resolution).
    pub fn allows_host(&self, host: &url::Host<&str>) -> bool {
        match host {
            url::Host::Domain(name) if is_localhost(name) => self.allow_loopback,
            url::Host::Domain(name) => !forbidden_name(name),
            url::Host::Ipv4(address) => self.allows(IpAddr::V4(*address)),
            url::Host::Ipv6(address) => self.allows(IpAddr::V6(*address)),
        }
    }

    /// Whether an address a name resolved to may be connected to.
    pub fn allows(&self, address: IpAddr) -> bool {
        match classify(address) {
            Class::Public => true,
            Class::Loopback => self.allow_loopback,
            Class::Private => self.allow_private,
            Class::Never => false,
        }
    }
}

enum Class {
    Public,
    Loopback,
    Private,
    /// Link-local (cloud metadata lives there), unspecified, multicast, broadcast, reserved
    /// and documentation ranges: nothing a receiver can be at.
    Never,
}

fn classify(address: IpAddr) -> Class {
    match address {
        IpAddr::V4(v4) => classify_v4(v4),
        IpAddr::V6(v6) => classify_v6(v6),
    }
}

fn classify_v4(address: Ipv4Addr) -> Class {
    let [a, b, c, _] = address.octets();
    if address.is_loopback() {
        Class::Loopback
    } else if address.is_private() || (a == 100 && (64..128).contains(&b)) {
        // RFC 1918, and RFC 6598 carrier-grade NAT.
        Class::Private
    } else if address.is_link_local()
        || address.is_unspecified()
        || address.is_broadcast()
        || address.is_multicast()
        || address.is_documentation()
        || a == 0
        || a >= 240
        || (a == 192 && b == 0 && c == 0)
        || (a == 198 && (b == 18 || b == 19))
    {
        Class::Never
    } else {
        Class::Public
    }
}

fn classify_v6(address: Ipv6Addr) -> Class {
    if let Some(v4) = embedded_v4(address) {
        return classify_v4(v4);
    }
    let first = address.segments()[0];
    if address.is_loopback() {
        Class::Loopback
    } else if first & 0xfe00 == 0xfc00 {
        // fc00::/7, unique local.
        Class::Private
    } else if address.is_unspecified()
        || address.is_multicast()
        || first & 0xffc0 == 0xfe80
        || first & 0xffc0 == 0xfec0
        || (first == 0x2001 && address.segments()[1] == 0x0db8)
    {
        Class::Never
    } else {
        Class::Public
    }
}

/// The IPv4 address inside an IPv4-mapped (`::ffff:a.b.c.d`), IPv4-compatible or NAT64
/// (`64:ff9b::a.b.c.d`) IPv6 address: it reaches that IPv4 address.
fn embedded_v4(address: Ipv6Addr) -> Option<Ipv4Addr> {
    if let Some(v4) = address.to_ipv4_mapped() {
        return Some(v4);
    }
    let segments = address.segments();
    let nat64 = segments[..6] == [0x64, 0xff9b, 0, 0, 0, 0];
    let compatible = segments[..6] == [0; 6] && !address.is_loopback() && !address.is_unspecified();
    if nat64 || compatible {
        let [.., a, b, c, d] = address.octets();
        return Some(Ipv4Addr::new(a, b, c, d));
    }
    None
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn host_allowed(policy: DestinationPolicy, url: &str) -> bool {
        let url = url::Url::parse(url).unwrap();
        policy.allows_host(&url.host().unwrap())
    }

    #[test]
    fn public_addresses_only_by_default() {
        let policy = DestinationPolicy::default();
        for allowed in [
            "https://example.com/hook",
            "https://93.184.216.34/",
            "https://[2606:2800:220:1:248:1893:25c8:1946]/",
        ] {
            assert!(host_allowed(policy, allowed), "{allowed}");
        }
        for refused in [
            "https://169.254.169.254/latest/meta-data/",
            "https://10.0.0.1/",
            "https://172.16.5.4/",
            "https://192.168.1.1/",
            "https://100.64.0.1/",
            "https://127.0.0.1/",
            "https://2130706433/",
            "https://0.0.0.0/",
            "https://[::1]/",
            "https://[fd00::1]/",
            "https://[fe80::1]/",
            "https://[::ffff:169.254.169.254]/",
            "https://[::ffff:10.0.0.1]/",
            "https://[64:ff9b::a9fe:a9fe]/",
            "https://localhost/",
            "https://localhost./",
            "https://metadata.google.internal/computeMetadata/v1/",
            "https://printer.local/",
            "https://app.localhost/",
        ] {
            assert!(!host_allowed(policy, refused), "{refused}");
        }
    }

    #[test]
    fn the_operator_may_allow_loopback_and_private_ranges_but_never_metadata() {
        let open = DestinationPolicy {
            allow_loopback: true,
            allow_private: true,
        };
        for allowed in [
            "https://127.0.0.1/",
            "https://localhost/",
            "https://10.0.0.1/",
            "https://[fd00::1]/",
            "https://100.64.0.1/",
        ] {
            assert!(host_allowed(open, allowed), "{allowed}");
        }
        for refused in [
            "https://169.254.169.254/",
            "https://[fe80::1]/",
            "https://metadata.google.internal/",
            "https://[::ffff:169.254.169.254]/",
        ] {
            assert!(!host_allowed(open, refused), "{refused}");
        }
    }
}
