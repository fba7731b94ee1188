//! The policy template.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod common;
use common::*;

use if_ipsec::addr::{Addr, Family};
use if_ipsec::policy::{Dir, PolicyTemplate, Prefix};
use if_ipsec::reqid::Reqid;
use sys_bindings::ipsec_consts::*;

/// mirrors if_ipsec.c ipsec_newpolicies: four policies, v4 in/out then v6
/// in/out; IPSEC/UNIQUE/ESP/tunnel; reqid; priority = if_index; any/any/255;
/// inbound SA src = remote, dst = local.
#[test]
fn ipsec_newpolicies_route_based() {
    let (l, r) = ([192, 0, 2, 1], [198, 51, 100, 7]);
    let set = PolicyTemplate::ROUTE_BASED.instantiate(&tun4(l, r), Reqid::new(100).unwrap(), 42);
    let order: Vec<(Dir, Family)> = set
        .specs
        .iter()
        .map(|s| (s.dir, s.selector.inner))
        .collect();
    assert_eq!(
        order,
        [
            (Dir::In, Family::Inet),
            (Dir::Out, Family::Inet),
            (Dir::In, Family::Inet6),
            (Dir::Out, Family::Inet6)
        ]
    );
    for s in &set.specs {
        assert_eq!(s.policy, IPSEC_POLICY_IPSEC);
        assert_eq!(s.level, IPSEC_LEVEL_UNIQUE);
        assert_eq!(s.proto, IPPROTO_ESP);
        assert_eq!(s.mode, IPSEC_MODE_TUNNEL);
        assert_eq!(s.reqid, 100);
        assert_eq!(s.priority, 42);
        assert_eq!(s.selector.ul_proto, IPSEC_ULPROTO_ANY);
        assert_eq!(s.selector.src, Prefix::ANY);
        assert_eq!(s.selector.dst, Prefix::ANY);
        let (src, dst) = match s.dir {
            Dir::In => (r, l),
            Dir::Out => (l, r),
        };
        assert_eq!((s.sa_src, s.sa_dst), (Addr::V4(src), Addr::V4(dst)));
    }
    assert_eq!(Dir::In.raw(), IPSEC_DIR_INBOUND);
    assert_eq!(Dir::Out.raw(), IPSEC_DIR_OUTBOUND);
}

/// mirrors if_ipsec.c ipsec_getpolicy: (dir, af) -> index 0..3.
#[test]
fn ipsec_getpolicy_slots() {
    let set = PolicyTemplate::ROUTE_BASED.instantiate(
        &tun4([192, 0, 2, 1], [198, 51, 100, 7]),
        Reqid::new(1).unwrap(),
        1,
    );
    assert_eq!(set.slot(Dir::In, Family::Inet), Some(0));
    assert_eq!(set.slot(Dir::Out, Family::Inet), Some(1));
    assert_eq!(set.slot(Dir::In, Family::Inet6), Some(2));
    assert_eq!(set.slot(Dir::Out, Family::Inet6), Some(3));
    assert_eq!(set.get(Dir::Out, Family::Inet6).unwrap().dir, Dir::Out);
    for d in [Dir::In, Dir::Out] {
        for f in [Family::Inet, Family::Inet6] {
            assert_eq!(PolicyTemplate::ROUTE_BASED.slot(d, f), set.slot(d, f));
        }
    }
}

/// An IPv6 outer tunnel carries IPv4 and IPv6 inner traffic alike.
#[test]
fn v6_outer_any_inner() {
    let t = if_ipsec::endpoint::Tunnel::new(Addr::v6(v6(1)), Addr::v6(v6(2))).unwrap();
    let set = PolicyTemplate::ROUTE_BASED.instantiate(&t, Reqid::new(5).unwrap(), 3);
    assert_eq!(set.specs[0].sa_src, Addr::v6(v6(2)));
    assert_eq!(set.specs[0].selector.inner, Family::Inet);
}
