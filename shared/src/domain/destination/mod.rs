//! Which IP addresses a webhook may be delivered to: the SSRF guard shared by URL validation
//! (literal IPs) and the HTTP sender (every address a hostname resolves to).
//!
//! Security by default: deployments call only public addresses. Local mode also allows
//! loopback, private and link-local ones; cloud metadata services, unspecified and reserved
//! addresses are refused everywhere.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// What kind of network an address belongs to, as far as delivery is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AddressClass {
    /// Globally routable unicast.
    Public,
    /// 127.0.0.0/8, ::1 (and `localhost` names, see `EndpointUrl::parse`).
    Loopback,
    /// RFC 1918, CGNAT 100.64.0.0/10, IPv6 unique-local fc00::/7.
    Private,
    /// 169.254.0.0/16, fe80::/10.
    LinkLocal,
    /// A cloud instance or task metadata service: hands out credentials, never called.
    Metadata,
    /// 0.0.0.0/8 and ::; connecting to them reaches the local host on most systems.
    Unspecified,
    /// Multicast, broadcast, documentation, benchmarking, protocol-assignment and unallocated
    /// ranges: no legitimate webhook receiver lives there.
    Reserved,
}

impl AddressClass {
    /// A short phrase for error messages: "a private address".
    pub fn describe(self) -> &'static str {
        match self {
            Self::Public => "a public address",
            Self::Loopback => "a loopback address",
            Self::Private => "a private address",
            Self::LinkLocal => "a link-local address",
            Self::Metadata => "a cloud metadata address",
            Self::Unspecified => "an unspecified address",
            Self::Reserved => "a reserved address",
        }
    }
}

/// Whether a deployment may deliver to an address of this class. Metadata, unspecified and
/// reserved addresses are refused even in local mode: loopback is all local mode needs.
pub fn is_allowed(class: AddressClass, allow_private: bool) -> bool {
    match class {
        AddressClass::Public => true,
        AddressClass::Loopback | AddressClass::Private | AddressClass::LinkLocal => allow_private,
        AddressClass::Metadata | AddressClass::Unspecified | AddressClass::Reserved => false,
    }
}

/// Classifies an address. IPv6 forms that carry an IPv4 address (mapped, compatible, SIIT,
/// NAT64, 6to4) are judged by the IPv4 address they lead to.
pub fn classify_ip(ip: IpAddr) -> AddressClass {
    match ip {
        IpAddr::V4(v4) => classify_v4(v4),
        IpAddr::V6(v6) => classify_v6(v6),
    }
}

/// Metadata endpoints with well-known link-local or CGNAT addresses: AWS/GCP/Azure/OCI/
/// DigitalOcean IMDS, the ECS task credentials endpoint, the EKS Pod Identity agent and
/// Alibaba Cloud's metadata service. They must be refused even where link-local or private
/// addresses are allowed, so they are matched before those ranges.
const METADATA_V4: [Ipv4Addr; 4] = [
    Ipv4Addr::new(169, 254, 169, 254),
    Ipv4Addr::new(169, 254, 170, 2),
    Ipv4Addr::new(169, 254, 170, 23),
    Ipv4Addr::new(100, 100, 100, 200),
];

/// AWS IMDS and the EKS Pod Identity agent over IPv6 (inside fd00::/8, hence before it).
const METADATA_V6: [Ipv6Addr; 2] = [
    Ipv6Addr::new(0xfd00, 0x0ec2, 0, 0, 0, 0, 0, 0x0254),
    Ipv6Addr::new(0xfd00, 0x0ec2, 0, 0, 0, 0, 0, 0x0023),
];

/// Whether `ip` lies in `base/prefix_len`.
fn in_v4(ip: Ipv4Addr, base: [u8; 4], prefix_len: u32) -> bool {
    let mask = u32::MAX.checked_shl(32 - prefix_len).unwrap_or(0);
    u32::from(ip) & mask == u32::from(Ipv4Addr::from(base)) & mask
}

/// Whether `ip` lies in `base/prefix_len`.
fn in_v6(ip: Ipv6Addr, base: Ipv6Addr, prefix_len: u32) -> bool {
    let mask = u128::MAX.checked_shl(128 - prefix_len).unwrap_or(0);
    u128::from(ip) & mask == u128::from(base) & mask
}

fn classify_v4(ip: Ipv4Addr) -> AddressClass {
    if METADATA_V4.contains(&ip) {
        AddressClass::Metadata
    } else if in_v4(ip, [0, 0, 0, 0], 8) {
        // "This network": only 0.0.0.0 is `is_unspecified`, but Linux routes the whole /8
        // to the local host.
        AddressClass::Unspecified
    } else if ip.is_loopback() {
        AddressClass::Loopback
    } else if ip.is_private() || in_v4(ip, [100, 64, 0, 0], 10) {
        AddressClass::Private
    } else if ip.is_link_local() {
        AddressClass::LinkLocal
    } else if ip.is_multicast()
        || ip.is_broadcast()
        || ip.is_documentation()
        || in_v4(ip, [192, 0, 0, 0], 24) // IETF protocol assignments (incl. OCI 192.0.0.192)
        || in_v4(ip, [192, 88, 99, 0], 24) // deprecated 6to4 relay anycast
        || in_v4(ip, [198, 18, 0, 0], 15) // benchmarking
        || in_v4(ip, [240, 0, 0, 0], 4)
    {
        AddressClass::Reserved
    } else {
        AddressClass::Public
    }
}

fn classify_v6(ip: Ipv6Addr) -> AddressClass {
    let seg = ip.segments();
    if METADATA_V6.contains(&ip) {
        return AddressClass::Metadata;
    }
    if ip.is_unspecified() {
        return AddressClass::Unspecified;
    }
    if ip.is_loopback() {
        return AddressClass::Loopback;
    }
    // ::ffff:a.b.c.d reaches a.b.c.d through any dual-stack socket.
    if let Some(v4) = ip.to_ipv4_mapped() {
        return classify_v4(v4);
    }
    // Deprecated IPv4-compatible ::a.b.c.d (:: and ::1 are handled above) and SIIT's
    // IPv4-translated ::ffff:0:a.b.c.d.
    if seg[..6] == [0; 6] || seg[..6] == [0, 0, 0, 0, 0xffff, 0] {
        return classify_v4(embedded_v4(seg[6], seg[7]));
    }
    // NAT64 (RFC 6052) and 6to4 (RFC 3056) lead to the embedded IPv4 address. RFC 6052 §3.1
    // forbids non-global IPv4 addresses under the well-known prefix, so a non-public one
    // there is reserved rather than private: it is never legitimate and a permissive gateway
    // would translate it into the internal network.
    let embedded = if in_v6(ip, Ipv6Addr::new(0x64, 0xff9b, 0, 0, 0, 0, 0, 0), 96) {
        Some(embedded_v4(seg[6], seg[7]))
    } else if seg[0] == 0x2002 {
        Some(embedded_v4(seg[1], seg[2]))
    } else {
        None
    };
    if let Some(v4) = embedded {
        return match classify_v4(v4) {
            class @ (AddressClass::Public | AddressClass::Metadata) => class,
            _ => AddressClass::Reserved,
        };
    }
    if ip.is_unique_local() {
        AddressClass::Private
    } else if ip.is_unicast_link_local() {
        AddressClass::LinkLocal
    } else if is_reserved_v6(ip) {
        AddressClass::Reserved
    } else {
        AddressClass::Public
    }
}

/// IPv6 ranges that are not globally reachable unicast. Only 2000::/3 is allocated for
/// global unicast, so everything outside it that is not classified above is reserved:
/// multicast ff00::/8, the rest of ::/8 (including local-use NAT64 64:ff9b:1::/48, whose
/// IPv4 embedding depends on the operator's prefix length), discard-only 100::/64,
/// deprecated site-local fec0::/10, SRv6 5f00::/16. Inside 2000::/3: IETF protocol
/// assignments 2001::/23 (Teredo, benchmarking, ORCHID), documentation 2001:db8::/32 and
/// 3fff::/20.
fn is_reserved_v6(ip: Ipv6Addr) -> bool {
    !in_v6(ip, Ipv6Addr::new(0x2000, 0, 0, 0, 0, 0, 0, 0), 3)
        || in_v6(ip, Ipv6Addr::new(0x2001, 0, 0, 0, 0, 0, 0, 0), 23)
        || in_v6(ip, Ipv6Addr::new(0x2001, 0x0db8, 0, 0, 0, 0, 0, 0), 32)
        || in_v6(ip, Ipv6Addr::new(0x3fff, 0, 0, 0, 0, 0, 0, 0), 20)
}

fn embedded_v4(high: u16, low: u16) -> Ipv4Addr {
    Ipv4Addr::from((u32::from(high) << 16) | u32::from(low))
}

#[cfg(test)]
mod tests;
