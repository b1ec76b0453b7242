//! Which IP addresses a tenant may reach: only globally reachable unicast ones.
//!
//! The lists follow the IANA IPv4 and IPv6 Special-Purpose Address Registries (entries whose
//! "Globally Reachable" is False), plus multicast, and for IPv6 everything outside global unicast
//! `2000::/3`. IPv6 forms that carry an IPv4 address (IPv4-mapped, IPv4-compatible, NAT64, 6to4,
//! Teredo) are judged by the IPv4 address inside, so no spelling of a private IPv4 address gets
//! through as IPv6.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use ipnet::{Ipv4Net, Ipv6Net};

const fn v4(a: u8, b: u8, c: u8, d: u8, prefix: u8) -> (Ipv4Addr, u8) {
    (Ipv4Addr::new(a, b, c, d), prefix)
}

/// IPv4 ranges that are not globally reachable, and why.
const BLOCKED_V4: &[((Ipv4Addr, u8), &str)] = &[
    (v4(0, 0, 0, 0, 8), "\"this network\" (0.0.0.0/8)"),
    (v4(10, 0, 0, 0, 8), "private network (10.0.0.0/8)"),
    (v4(100, 64, 0, 0, 10), "carrier-grade NAT (100.64.0.0/10)"),
    (v4(127, 0, 0, 0, 8), "loopback (127.0.0.0/8)"),
    (v4(169, 254, 0, 0, 16), "link-local, incl. cloud metadata (169.254.0.0/16)"),
    (v4(172, 16, 0, 0, 12), "private network (172.16.0.0/12)"),
    (v4(192, 0, 0, 0, 24), "IETF protocol assignments (192.0.0.0/24)"),
    (v4(192, 0, 2, 0, 24), "documentation (192.0.2.0/24)"),
    (v4(192, 88, 99, 0, 24), "deprecated 6to4 relay anycast (192.88.99.0/24)"),
    (v4(192, 168, 0, 0, 16), "private network (192.168.0.0/16)"),
    (v4(198, 18, 0, 0, 15), "benchmarking (198.18.0.0/15)"),
    (v4(198, 51, 100, 0, 24), "documentation (198.51.100.0/24)"),
    (v4(203, 0, 113, 0, 24), "documentation (203.0.113.0/24)"),
    (v4(224, 0, 0, 0, 4), "multicast (224.0.0.0/4)"),
    (v4(240, 0, 0, 0, 4), "reserved, incl. broadcast (240.0.0.0/4)"),
];

const fn v6(segments: [u16; 8], prefix: u8) -> (Ipv6Addr, u8) {
    let [a, b, c, d, e, f, g, h] = segments;
    (Ipv6Addr::new(a, b, c, d, e, f, g, h), prefix)
}

/// Globally reachable exceptions inside 2001::/23 (IANA registry).
const GLOBAL_IN_2001_23: &[(Ipv6Addr, u8)] = &[
    v6([0x2001, 1, 0, 0, 0, 0, 0, 1], 128),
    v6([0x2001, 1, 0, 0, 0, 0, 0, 2], 128),
    v6([0x2001, 1, 0, 0, 0, 0, 0, 3], 128),
    v6([0x2001, 3, 0, 0, 0, 0, 0, 0], 32),
    v6([0x2001, 4, 0x112, 0, 0, 0, 0, 0], 48),
    v6([0x2001, 0x20, 0, 0, 0, 0, 0, 0], 28),
    v6([0x2001, 0x30, 0, 0, 0, 0, 0, 0], 28),
];

/// IPv6 ranges inside global unicast 2000::/3 that are nevertheless not globally reachable.
const BLOCKED_V6_IN_GLOBAL: &[((Ipv6Addr, u8), &str)] = &[
    (v6([0x2001, 0xdb8, 0, 0, 0, 0, 0, 0], 32), "documentation (2001:db8::/32)"),
    (v6([0x2001, 0, 0, 0, 0, 0, 0, 0], 23), "IETF protocol assignments (2001::/23)"),
    (v6([0x3fff, 0, 0, 0, 0, 0, 0, 0], 20), "documentation (3fff::/20)"),
];

fn in_v4(ip: Ipv4Addr, (net, prefix): (Ipv4Addr, u8)) -> bool {
    Ipv4Net::new(net, prefix).is_ok_and(|n| n.contains(&ip))
}

fn in_v6(ip: Ipv6Addr, (net, prefix): (Ipv6Addr, u8)) -> bool {
    Ipv6Net::new(net, prefix).is_ok_and(|n| n.contains(&ip))
}

/// Why `ip` must not be reached, or `None` when it is a globally reachable address.
pub fn blocked_reason(ip: IpAddr) -> Option<String> {
    match ip {
        IpAddr::V4(v4) => blocked_v4(v4).map(str::to_owned),
        IpAddr::V6(v6) => blocked_v6(v6),
    }
}

fn blocked_v4(ip: Ipv4Addr) -> Option<&'static str> {
    BLOCKED_V4.iter().find(|(net, _)| in_v4(ip, *net)).map(|(_, why)| *why)
}

fn embedded_verdict(kind: &str, inner: Ipv4Addr) -> Option<String> {
    blocked_v4(inner).map(|why| format!("{kind} form of {inner}: {why}"))
}

fn blocked_v6(ip: Ipv6Addr) -> Option<String> {
    let s = ip.segments();
    let low32 = Ipv4Addr::from((u32::from(s[6]) << 16) | u32::from(s[7]));
    if ip.is_unspecified() {
        return Some("unspecified address (::)".into());
    }
    if ip.is_loopback() {
        return Some("loopback (::1)".into());
    }
    // ::ffff:a.b.c.d (IPv4-mapped) and ::a.b.c.d (IPv4-compatible, deprecated).
    if s[..5] == [0; 5] && (s[5] == 0xffff || s[5] == 0) {
        let kind = if s[5] == 0xffff { "IPv4-mapped" } else { "IPv4-compatible" };
        return embedded_verdict(kind, low32);
    }
    // NAT64 well-known prefix 64:ff9b::/96 translates to the IPv4 address in the low 32 bits.
    if in_v6(ip, v6([0x64, 0xff9b, 0, 0, 0, 0, 0, 0], 96)) {
        return embedded_verdict("NAT64", low32);
    }
    if in_v6(ip, v6([0x64, 0xff9b, 1, 0, 0, 0, 0, 0], 48)) {
        return Some("local-use NAT64 (64:ff9b:1::/48)".into());
    }
    // 6to4: 2002:AABB:CCDD::/48 routes to IPv4 AA.BB.CC.DD.
    if in_v6(ip, v6([0x2002, 0, 0, 0, 0, 0, 0, 0], 16)) {
        let inner = Ipv4Addr::from((u32::from(s[1]) << 16) | u32::from(s[2]));
        return embedded_verdict("6to4", inner);
    }
    // Teredo 2001:0::/32: the server's IPv4 sits in bits 32–63, the client's, inverted, in the
    // low 32 bits. Either being private makes the address a way into a private network.
    if in_v6(ip, v6([0x2001, 0, 0, 0, 0, 0, 0, 0], 32)) {
        let server = Ipv4Addr::from((u32::from(s[2]) << 16) | u32::from(s[3]));
        let client = Ipv4Addr::from(!u32::from(low32));
        return embedded_verdict("Teredo server", server)
            .or_else(|| embedded_verdict("Teredo client", client));
    }
    if !in_v6(ip, v6([0x2000, 0, 0, 0, 0, 0, 0, 0], 3)) {
        return Some(match s[0] {
            0xfc00..=0xfdff => "unique local address (fc00::/7)".into(),
            0xfe80..=0xfebf => "link-local (fe80::/10)".into(),
            0xfec0..=0xfeff => "site-local (fec0::/10)".into(),
            0xff00..=0xffff => "multicast (ff00::/8)".into(),
            _ => format!("{ip} is outside global unicast (2000::/3)"),
        });
    }
    if GLOBAL_IN_2001_23.iter().any(|net| in_v6(ip, *net)) {
        return None;
    }
    BLOCKED_V6_IN_GLOBAL.iter().find(|(net, _)| in_v6(ip, *net)).map(|(_, why)| (*why).to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn blocked(ip: &str) -> bool {
        blocked_reason(ip.parse().unwrap()).is_some()
    }

    #[test]
    fn range_edges_are_exact() {
        for ip in [
            "9.255.255.255",
            "11.0.0.0",
            "100.63.255.255",
            "100.128.0.0",
            "172.15.255.255",
            "172.32.0.0",
            "169.253.255.255",
            "169.255.0.0",
            "192.167.255.255",
            "192.169.0.0",
            "198.17.255.255",
            "198.20.0.0",
            "223.255.255.255",
            "1.0.0.0",
        ] {
            assert!(!blocked(ip), "{ip} is public");
        }
        for ip in [
            "10.0.0.0",
            "10.255.255.255",
            "100.64.0.0",
            "100.127.255.255",
            "172.16.0.0",
            "172.31.255.255",
            "198.18.0.0",
            "198.19.255.255",
            "224.0.0.0",
            "255.255.255.255",
            "0.255.255.255",
        ] {
            assert!(blocked(ip), "{ip} is not public");
        }
    }

    #[test]
    fn teredo_is_judged_by_both_embedded_addresses() {
        // Server 65.54.227.120, client 127.0.0.1 (stored inverted: 80ff:fffe).
        assert!(blocked("2001:0:4136:e378:8000:63bf:80ff:fffe"));
        // Server 10.0.0.1.
        assert!(blocked("2001:0:a00:1:8000:63bf:f7f7:f7f7"));
        // Server 65.54.227.120, client 8.8.8.8 (inverted: f7f7:f7f7).
        assert!(!blocked("2001:0:4136:e378:8000:63bf:f7f7:f7f7"));
    }

    #[test]
    fn reasons_explain_the_range() {
        let why = blocked_reason("::ffff:169.254.169.254".parse().unwrap()).unwrap();
        assert!(why.contains("IPv4-mapped") && why.contains("link-local"), "{why}");
    }
}
