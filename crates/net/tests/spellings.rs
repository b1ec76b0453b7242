//! Property: however an IPv4 address is written in a URL — any notation a WHATWG parser accepts,
//! or embedded in IPv6 — the policy's verdict is the verdict on the address itself.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use proptest::prelude::*;
use sb_net::{NetError, SsrfPolicy, Url, blocked_reason};

fn spellings(ip: Ipv4Addr) -> Vec<String> {
    let [a, b, c, d] = ip.octets();
    let n = u32::from(ip);
    let (a, b, c, d) = (u32::from(a), u32::from(b), u32::from(c), u32::from(d));
    let low16 = (c << 8) | d;
    let low24 = (b << 16) | low16;
    let hi = n >> 16;
    let lo = n & 0xffff;
    vec![
        format!("{a}.{b}.{c}.{d}"),
        format!("{a}.{b}.{c}.{d}."),
        format!("{n}"),
        format!("0x{n:x}"),
        format!("0X{n:X}"),
        format!("0{n:o}"),
        format!("0x{a:x}.0x{b:x}.0x{c:x}.0x{d:x}"),
        format!("0{a:o}.0{b:o}.0{c:o}.0{d:o}"),
        format!("{a}.0x{b:x}.0{c:o}.{d}"),
        format!("{a}.{b}.{low16}"),
        format!("{a}.{low24}"),
        format!("0x{a:x}.0{low24:o}"),
        format!("[::ffff:{a}.{b}.{c}.{d}]"),
        format!("[::ffff:{hi:x}:{lo:x}]"),
        format!("[0:0:0:0:0:ffff:{hi:x}:{lo:x}]"),
        format!("[64:ff9b::{a}.{b}.{c}.{d}]"),
        format!("[64:ff9b::{hi:x}:{lo:x}]"),
        format!("[2002:{hi:x}:{lo:x}::1]"),
    ]
}

fn blocked_url(policy: &SsrfPolicy, host: &str) -> bool {
    let url =
        Url::parse(&format!("http://{host}:8080/x")).unwrap_or_else(|e| panic!("{host}: {e}"));
    match policy.check_url(&url) {
        Ok(_) => false,
        Err(NetError::SsrfBlocked(_)) => true,
        Err(other) => panic!("{host}: {other:?}"),
    }
}

/// IPv4 addresses biased towards the blocked ranges, where a parser slip would matter most.
fn interesting_v4() -> impl Strategy<Value = Ipv4Addr> {
    prop_oneof![
        any::<u32>().prop_map(Ipv4Addr::from),
        (0u32..1 << 24).prop_map(|low| Ipv4Addr::from((127 << 24) | low)),
        (0u32..1 << 24).prop_map(|low| Ipv4Addr::from((10 << 24) | low)),
        (0u32..1 << 16).prop_map(|low| Ipv4Addr::from((169 << 24) | (254 << 16) | low)),
        (0u32..1 << 16).prop_map(|low| Ipv4Addr::from((192 << 24) | (168 << 16) | low)),
        (0u32..1 << 20).prop_map(|low| Ipv4Addr::from((172 << 24) | (16 << 16) | low)),
        (0u32..1 << 22).prop_map(|low| Ipv4Addr::from((100 << 24) | (64 << 16) | low)),
        (0u32..1 << 24).prop_map(Ipv4Addr::from),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn every_spelling_of_an_ipv4_address_gets_its_verdict(ip in interesting_v4()) {
        let policy = SsrfPolicy::default();
        let expected = blocked_reason(IpAddr::V4(ip)).is_some();
        for host in spellings(ip) {
            prop_assert_eq!(blocked_url(&policy, &host), expected, "{} written as {}", ip, host);
        }
    }

    #[test]
    fn ipv6_outside_global_unicast_or_in_special_ranges_is_blocked(bits in any::<u128>()) {
        let ip = Ipv6Addr::from(bits);
        let policy = SsrfPolicy::default();
        let blocked = blocked_url(&policy, &format!("[{ip}]"));
        prop_assert_eq!(blocked, blocked_reason(IpAddr::V6(ip)).is_some());
        let first = ip.segments()[0];
        let embeds_v4 = ip.segments()[..5] == [0; 5] || first == 0x64 || first == 0x2002 || (first == 0x2001 && ip.segments()[1] == 0);
        if !embeds_v4 && !(0x2000..=0x3fff).contains(&first) {
            prop_assert!(blocked, "{} is outside 2000::/3", ip);
        }
        if (0xfc00..=0xffff).contains(&first) {
            prop_assert!(blocked, "{} is ULA, link-local, site-local or multicast", ip);
        }
    }
}
