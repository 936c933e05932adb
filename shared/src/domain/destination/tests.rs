use super::*;
use proptest::prelude::*;

use AddressClass::*;

fn class(s: &str) -> AddressClass {
    classify_ip(s.parse().unwrap())
}

fn assert_all(expected: AddressClass, addrs: &[&str]) {
    for a in addrs {
        assert_eq!(class(a), expected, "{a}");
    }
}

#[test]
fn ipv4_ranges() {
    assert_all(
        Public,
        &[
            "1.1.1.1",
            "8.8.8.8",
            "9.255.255.255",
            "11.0.0.0",
            "100.63.255.255",
            "100.128.0.0",
            "169.253.255.255",
            "169.255.0.0",
            "172.15.255.255",
            "172.32.0.0",
            "192.0.1.0",
            "192.167.255.255",
            "192.169.0.0",
            "198.17.255.255",
            "198.20.0.0",
            "223.255.255.255",
        ],
    );
    assert_all(Loopback, &["127.0.0.1", "127.0.0.0", "127.255.255.255"]);
    assert_all(
        Private,
        &[
            "10.0.0.0",
            "10.255.255.255",
            "172.16.0.0",
            "172.31.255.255",
            "192.168.0.1",
            "192.168.255.255",
            "100.64.0.0",
            "100.127.255.255",
            "100.100.100.199",
        ],
    );
    assert_all(
        LinkLocal,
        &["169.254.0.0", "169.254.255.255", "169.254.169.253"],
    );
    assert_all(
        Metadata,
        &[
            "169.254.169.254",
            "169.254.170.2",
            "169.254.170.23",
            "100.100.100.200",
        ],
    );
    assert_all(Unspecified, &["0.0.0.0", "0.1.2.3", "0.255.255.255"]);
    assert_all(
        Reserved,
        &[
            "224.0.0.1",
            "239.255.255.255",
            "255.255.255.255",
            "240.0.0.0",
            "250.1.2.3",
            "192.0.0.0",
            "192.0.0.192",
            "192.0.0.255",
            "192.0.2.1",
            "192.88.99.1",
            "198.18.0.0",
            "198.19.255.255",
            "198.51.100.7",
            "203.0.113.9",
        ],
    );
}

#[test]
fn ipv6_ranges() {
    assert_all(
        Public,
        &[
            "2606:4700:4700::1111",
            "2a00:1450::1",
            "2001:200::1",
            "3ffe::1",
            "2002:808:808::1",
        ],
    );
    assert_all(Loopback, &["::1"]);
    assert_all(Unspecified, &["::"]);
    assert_all(
        Private,
        &["fc00::1", "fd00::1", "fdff:ffff::1", "fd00:ec2::253"],
    );
    assert_all(LinkLocal, &["fe80::1", "febf:ffff::1"]);
    assert_all(Metadata, &["fd00:ec2::254", "fd00:ec2::23"]);
    assert_all(
        Reserved,
        &[
            "ff02::1",
            "ff05::2",
            "2001:db8::1",
            "2001:db8:ffff::1",
            "2001::1",          // Teredo
            "2001:2::1",        // benchmarking
            "2001:1ff::1",      // end of 2001::/23
            "3fff::1",          // documentation (RFC 9637)
            "100::1",           // discard-only
            "fec0::1",          // deprecated site-local
            "5f00::1",          // SRv6 SIDs
            "64:ff9b:1::a00:1", // local-use NAT64
            "1::1",             // unallocated
            "4000::1",          // outside 2000::/3
            "::1:0:0:1",        // rest of ::/8
        ],
    );
}

#[test]
fn ipv4_in_ipv6_forms_follow_the_embedded_address() {
    // Mapped, compatible and SIIT-translated forms.
    assert_eq!(class("::ffff:127.0.0.1"), Loopback);
    assert_eq!(class("::ffff:10.1.2.3"), Private);
    assert_eq!(class("::ffff:169.254.169.254"), Metadata);
    assert_eq!(class("::ffff:0.0.0.0"), Unspecified);
    assert_eq!(class("::ffff:8.8.8.8"), Public);
    assert_eq!(class("::127.0.0.1"), Loopback);
    assert_eq!(class("::192.168.1.1"), Private);
    assert_eq!(class("::0.0.0.2"), Unspecified);
    assert_eq!(class("::ffff:0:127.0.0.1"), Loopback);
    assert_eq!(class("::ffff:0:8.8.4.4"), Public);
    // NAT64 and 6to4: public passes, metadata stays metadata, anything else is reserved.
    assert_eq!(class("64:ff9b::8.8.8.8"), Public);
    assert_eq!(class("64:ff9b::10.0.0.1"), Reserved);
    assert_eq!(class("64:ff9b::127.0.0.1"), Reserved);
    assert_eq!(class("64:ff9b::169.254.169.254"), Metadata);
    assert_eq!(class("2002:c0a8:101::1"), Reserved); // 6to4 of 192.168.1.1
    assert_eq!(class("2002:7f00:1::1"), Reserved);
    assert_eq!(class("2002:a9fe:a9fe::1"), Metadata);
}

#[test]
fn policy_allows_public_always_and_local_only_when_configured() {
    for allow in [false, true] {
        assert!(is_allowed(Public, allow));
        assert!(!is_allowed(Metadata, allow));
        assert!(!is_allowed(Unspecified, allow));
        assert!(!is_allowed(Reserved, allow));
        for local in [Loopback, Private, LinkLocal] {
            assert_eq!(is_allowed(local, allow), allow);
        }
    }
}

#[test]
fn descriptions_name_the_class() {
    assert_eq!(Metadata.describe(), "a cloud metadata address");
    assert_eq!(Private.describe(), "a private address");
}

proptest! {
    #[test]
    fn nothing_in_10_slash_8_is_allowed_without_allow_private(low in 0u32..(1 << 24)) {
        let ip = Ipv4Addr::from((10u32 << 24) | low);
        for addr in [IpAddr::V4(ip), IpAddr::V6(ip.to_ipv6_mapped()), IpAddr::V6(ip.to_ipv6_compatible())] {
            prop_assert_eq!(classify_ip(addr), Private);
            prop_assert!(!is_allowed(classify_ip(addr), false));
        }
    }

    #[test]
    fn mapped_forms_classify_like_their_ipv4(bits: u32) {
        let ip = Ipv4Addr::from(bits);
        prop_assert_eq!(classify_ip(IpAddr::V6(ip.to_ipv6_mapped())), classify_v4(ip));
    }

    #[test]
    fn allowed_without_allow_private_means_public(bits: u128) {
        let class = classify_ip(IpAddr::V6(Ipv6Addr::from(bits)));
        prop_assert_eq!(is_allowed(class, false), class == Public);
    }

    #[test]
    fn public_ipv6_lies_in_global_unicast(bits: u128) {
        let ip = Ipv6Addr::from(bits);
        if classify_ip(IpAddr::V6(ip)) == Public {
            // Outside 2000::/3 only IPv4-carrying forms (compatible, mapped, SIIT, NAT64)
            // can be public.
            let embeds_v4 = [0, 0xffff, 0xffff_0000, 0x0064_ff9b << 64].contains(&(bits >> 32));
            prop_assert!(bits >> 125 == 0b001 || embeds_v4);
        }
    }
}
