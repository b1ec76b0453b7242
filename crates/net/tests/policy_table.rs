//! The SSRF policy against a table of URLs, drawn from well-known SSRF filter test suites and
//! bypass lists (alternative IPv4 notations, IPv6 embeddings, internal names, parser confusion).
//! Nothing here connects anywhere: the policy is checked on the URL alone.

use sb_net::{AllowEntry, CheckedHost, NetError, SsrfPolicy, Url};

#[derive(Debug, Clone, Copy, PartialEq)]
enum Verdict {
    Allowed,
    Blocked,
    Invalid,
}
use Verdict::{Allowed, Blocked, Invalid};

fn verdict(policy: &SsrfPolicy, raw: &str) -> Verdict {
    let Ok(url) = Url::parse(raw) else {
        return Invalid;
    };
    match policy.check_url(&url) {
        Ok(_) => Allowed,
        Err(NetError::SsrfBlocked(_)) => Blocked,
        Err(NetError::InvalidUrl(_)) => Invalid,
        Err(other) => panic!("{raw}: unexpected {other:?}"),
    }
}

const TABLE: &[(&str, Verdict)] = &[
    // Loopback, in every spelling parsers accept.
    ("http://127.0.0.1/", Blocked),
    ("http://127.0.0.1:8080/admin", Blocked),
    ("http://127.1/", Blocked),
    ("http://127.0.1/", Blocked),
    ("http://127.000.000.001/", Blocked),
    ("http://0177.0.0.1/", Blocked),
    ("http://0177.0000.0000.0001/", Blocked),
    ("http://0x7f.0.0.1/", Blocked),
    ("http://0x7f.0x0.0x0.0x1/", Blocked),
    ("http://0X7F.1/", Blocked),
    ("http://0x7f000001/", Blocked),
    ("http://2130706433/", Blocked),
    ("http://017700000001/", Blocked),
    ("http://127.0.0.1./", Blocked),
    ("http://127.255.255.254/", Blocked),
    ("http://127.127.127.127/", Blocked),
    ("http://[::1]/", Blocked),
    ("http://[0:0:0:0:0:0:0:1]/", Blocked),
    ("http://[0000::1]/", Blocked),
    ("http://[::ffff:127.0.0.1]/", Blocked),
    ("http://[::ffff:7f00:1]/", Blocked),
    ("http://[0:0:0:0:0:ffff:127.0.0.1]/", Blocked),
    ("http://[::127.0.0.1]/", Blocked),
    ("http://[64:ff9b::127.0.0.1]/", Blocked),
    ("http://[64:ff9b::7f00:1]/", Blocked),
    ("http://[2002:7f00:1::]/", Blocked),
    ("http://[2002:7f00:0001:0:0:0:0:1]/", Blocked),
    ("http://[2001:0:4136:e378:8000:63bf:80ff:fffe]/", Blocked),
    ("http://%31%32%37%2e%30%2e%30%2e%31/", Blocked),
    ("http://①②⑦.⓪.⓪.①/", Blocked),
    ("http://127。0。0。1/", Blocked),
    ("http://127%E3%80%820%E3%80%820%E3%80%821/", Blocked),
    // This network / unspecified.
    ("http://0/", Blocked),
    ("http://0.0.0.0/", Blocked),
    ("http://0.0.0.0:22/", Blocked),
    ("http://00000000/", Blocked),
    ("http://0x0/", Blocked),
    ("http://[::]/", Blocked),
    ("http://[0:0:0:0:0:0:0:0]/", Blocked),
    ("http://[::ffff:0.0.0.0]/", Blocked),
    // Internal names.
    ("http://localhost/", Blocked),
    ("http://LOCALHOST/", Blocked),
    ("http://LocalHost:8080/", Blocked),
    ("http://localhost./", Blocked),
    ("http://localhost../", Blocked),
    ("http://api.localhost/", Blocked),
    ("http://a.b.localhost./", Blocked),
    ("http://%6c%6f%63%61%6c%68%6f%73%74/", Blocked),
    ("http://ⓛⓞⓒⓐⓛⓗⓞⓢⓣ/", Blocked),
    ("http://printer.local/", Blocked),
    ("http://metadata.google.internal/computeMetadata/v1/", Blocked),
    ("http://METADATA.GOOGLE.INTERNAL./", Blocked),
    ("http://db.internal/", Blocked),
    ("http://host.localdomain/", Blocked),
    ("http://router.home.arpa/", Blocked),
    ("http://1.0.0.127.in-addr.arpa/", Blocked),
    ("http://metadata/", Blocked),
    ("http://intranet/", Blocked),
    ("http://instance-data/latest/", Blocked),
    // Cloud metadata.
    ("http://169.254.169.254/latest/meta-data/", Blocked),
    ("http://169.254.169.254:80/", Blocked),
    ("http://0xa9fea9fe/", Blocked),
    ("http://0xa9.0xfe.0xa9.0xfe/", Blocked),
    ("http://2852039166/", Blocked),
    ("http://0251.0376.0251.0376/", Blocked),
    ("http://169.254.43518/", Blocked),
    ("http://[::ffff:169.254.169.254]/", Blocked),
    ("http://[::ffff:a9fe:a9fe]/", Blocked),
    ("http://[fd00:ec2::254]/", Blocked),
    ("http://100.100.100.200/", Blocked),
    ("http://169.254.170.2/v2/credentials", Blocked),
    // Private, shared and link-local IPv4.
    ("http://10.0.0.1/", Blocked),
    ("http://10.255.255.255/", Blocked),
    ("http://012.0.0.1/", Blocked),
    ("http://0xa000001/", Blocked),
    ("http://167772161/", Blocked),
    ("http://172.16.0.1/", Blocked),
    ("http://172.31.255.255/", Blocked),
    ("http://192.168.0.1/", Blocked),
    ("http://192.168.1.1:8443/", Blocked),
    ("http://0xc0a80001/", Blocked),
    ("http://3232235521/", Blocked),
    ("http://192.168.257/", Blocked),
    ("http://100.64.0.1/", Blocked),
    ("http://100.127.255.254/", Blocked),
    ("http://169.254.0.1/", Blocked),
    ("http://[::ffff:10.0.0.1]/", Blocked),
    ("http://[::ffff:192.168.1.1]/", Blocked),
    ("http://[64:ff9b::10.0.0.1]/", Blocked),
    ("http://[2002:c0a8:0101::1]/", Blocked),
    ("http://[::10.0.0.1]/", Blocked),
    // Reserved, documentation, benchmarking, multicast, broadcast.
    ("http://192.0.0.1/", Blocked),
    ("http://192.0.2.1/", Blocked),
    ("http://198.51.100.7/", Blocked),
    ("http://203.0.113.9/", Blocked),
    ("http://198.18.0.1/", Blocked),
    ("http://198.19.255.255/", Blocked),
    ("http://192.88.99.1/", Blocked),
    ("http://224.0.0.1/", Blocked),
    ("http://239.255.255.250/", Blocked),
    ("http://240.0.0.1/", Blocked),
    ("http://255.255.255.255/", Blocked),
    ("http://4294967295/", Blocked),
    // IPv6 special ranges.
    ("http://[fe80::1]/", Blocked),
    ("http://[fe80::a:b:c:d]/", Blocked),
    ("http://[febf::1]/", Blocked),
    ("http://[fec0::1]/", Blocked),
    ("http://[fc00::1]/", Blocked),
    ("http://[fd12:3456:789a::1]/", Blocked),
    ("http://[ff02::1]/", Blocked),
    ("http://[ff05::1:3]/", Blocked),
    ("http://[2001:db8::1]/", Blocked),
    ("http://[2001:db8:85a3::8a2e:370:7334]/", Blocked),
    ("http://[3fff::1]/", Blocked),
    ("http://[100::1]/", Blocked),
    ("http://[64:ff9b:1::1]/", Blocked),
    ("http://[2001:2::1]/", Blocked),
    ("http://[2001:10::1]/", Blocked),
    ("http://[4000::1]/", Blocked),
    ("http://[::2]/", Blocked),
    ("http://[5f00::1]/", Blocked),
    // Not http(s), credentials in the URL, or not a URL at all.
    ("ftp://example.com/", Invalid),
    ("file:///etc/passwd", Invalid),
    ("gopher://127.0.0.1:25/_HELO", Invalid),
    ("dict://127.0.0.1:11211/stat", Invalid),
    ("ldap://127.0.0.1/", Invalid),
    ("jar:http://example.com!/", Invalid),
    ("javascript:alert(1)", Invalid),
    ("data:text/plain,hi", Invalid),
    ("http://user@example.com/", Invalid),
    ("http://user:pass@example.com/", Invalid),
    ("http://example.com@127.0.0.1/", Invalid),
    ("http://:@example.com/", Allowed),
    ("http://0x100000000/", Invalid),
    ("http://4294967296/", Invalid),
    ("http://256.0.0.1/", Invalid),
    ("http://[fe80::1%25eth0]/", Invalid),
    ("http://[::1/", Invalid),
    ("not a url", Invalid),
    // WHATWG parsers skip extra slashes: the host is "path-only", a single-label name.
    ("http:///path-only", Blocked),
    ("http://exa mple.com/", Invalid),
    // Public destinations stay reachable.
    ("http://example.com/", Allowed),
    ("https://api.example.com:8443/v1/orders?id=7", Allowed),
    ("HTTPS://API.EXAMPLE.COM/", Allowed),
    ("https://example.com./", Allowed),
    ("http://8.8.8.8/", Allowed),
    ("http://1.1.1.1:80/", Allowed),
    ("http://93.184.216.34/", Allowed),
    ("http://0x5db8d822/", Allowed),
    ("http://1572395042/", Allowed),
    ("http://11.0.0.1/", Allowed),
    ("http://172.32.0.1/", Allowed),
    ("http://172.15.255.255/", Allowed),
    ("http://100.128.0.1/", Allowed),
    ("http://169.255.0.1/", Allowed),
    ("http://192.169.0.1/", Allowed),
    ("http://198.20.0.1/", Allowed),
    ("http://223.255.255.255/", Allowed),
    ("http://[2606:4700:4700::1111]/", Allowed),
    ("http://[2001:4860:4860::8888]/", Allowed),
    ("http://[::ffff:8.8.8.8]/", Allowed),
    ("http://[64:ff9b::8.8.8.8]/", Allowed),
    ("http://[2002:808:808::1]/", Allowed),
    ("http://[2001:0:4136:e378:8000:63bf:f7f7:f7f7]/", Allowed),
    ("http://[2001:4:112::1]/", Allowed),
    ("http://xn--bcher-kva.example/", Allowed),
    ("https://bücher.example/", Allowed),
    ("https://例え.jp/", Allowed),
    ("http://localhost.example.com/", Allowed),
    ("http://internal.example.com/", Allowed),
    ("http://127.0.0.1.nip.io/", Allowed),
    ("http://local/", Blocked),
];

#[test]
fn default_policy_verdicts() {
    let policy = SsrfPolicy::default();
    let failures: Vec<String> = TABLE
        .iter()
        .filter(|(url, expected)| verdict(&policy, url) != *expected)
        .map(|(url, expected)| {
            format!("{url}: expected {expected:?}, got {:?}", verdict(&policy, url))
        })
        .collect();
    assert!(TABLE.len() > 150, "the table covers {} URLs", TABLE.len());
    assert!(failures.is_empty(), "{} mismatches:\n{}", failures.len(), failures.join("\n"));
}

#[test]
fn names_are_left_for_the_resolver_to_check() {
    let policy = SsrfPolicy::default();
    let checked = policy.check_url(&Url::parse("https://API.Example.COM./x").unwrap()).unwrap();
    assert_eq!(checked, CheckedHost::Name("api.example.com".into()));
}

#[test]
fn operator_allowlist_opens_exact_exceptions() {
    let allow: Vec<AllowEntry> =
        ["127.0.0.1:9000", "10.1.0.0/16", "[::1]:7000", "backend.corp:8443", "fd00:abcd::/32"]
            .iter()
            .map(|e| e.parse().unwrap())
            .collect();
    let policy = SsrfPolicy::new(allow);
    let cases = [
        ("http://127.0.0.1:9000/", Allowed),
        ("http://127.0.0.1:9001/", Blocked),
        ("http://127.0.0.1/", Blocked),
        ("http://0x7f000001:9000/", Allowed),
        ("http://127.0.0.2:9000/", Blocked),
        ("http://10.1.2.3/", Allowed),
        ("http://10.1.2.3:5432/", Allowed),
        ("http://10.2.0.1/", Blocked),
        ("http://[::1]:7000/", Allowed),
        ("http://[::1]:7001/", Blocked),
        ("http://[fd00:abcd::5]/", Allowed),
        ("http://backend.corp:8443/", Allowed),
        ("http://BACKEND.corp.:8443/", Allowed),
        ("http://backend.corp/", Blocked),
        ("http://other.corp:8443/", Allowed),
        ("http://localhost:9000/", Blocked),
        ("http://169.254.169.254/", Blocked),
    ];
    for (url, expected) in cases {
        assert_eq!(verdict(&policy, url), expected, "{url}");
    }
    // DNS answers: only port-less ranges and allowed names open private addresses.
    assert!(policy.check_resolved("anything.example", "10.1.0.9".parse().unwrap()).is_ok());
    assert!(policy.check_resolved("anything.example", "127.0.0.1".parse().unwrap()).is_err());
    assert!(policy.check_resolved("backend.corp", "192.168.5.5".parse().unwrap()).is_ok());
    assert!(policy.check_resolved("anything.example", "8.8.8.8".parse().unwrap()).is_ok());
}

#[test]
fn allowlist_entries_parse_strictly() {
    for bad in
        ["", "127.0.0.1:", "127.0.0.1:99999", "10.0.0.0/33", "[::1", "[::1]x", "bad host", "a..b"]
    {
        assert!(bad.parse::<AllowEntry>().is_err(), "{bad:?} should be refused");
    }
    assert_eq!(
        "10.1.2.3/16".parse::<AllowEntry>().unwrap(),
        AllowEntry::Net { net: "10.1.0.0/16".parse().unwrap(), port: None },
        "ranges are normalised"
    );
}
