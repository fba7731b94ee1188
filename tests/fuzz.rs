//! Property tests on untrusted input: any bytes for any request never
//! panic and decode only to valid commands; unit allocation agrees with a
//! set model.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::collections::BTreeSet;

use if_ipsec::addr::{Addr, Family};
use if_ipsec::ioctl::{decode, encode_addr, encode_fib, Command, MTU_MAX, MTU_MIN};
use if_ipsec::names::{parse_name, UnitRequest, Units};
use if_ipsec::Errno;
use proptest::prelude::*;
use sys_bindings::net::ioctl::*;

const CODES: [u64; 17] = [
    SIOCSIFADDR,
    SIOCSIFFLAGS,
    SIOCADDMULTI,
    SIOCDELMULTI,
    SIOCGIFMTU,
    SIOCSIFMTU,
    SIOCSIFPHYADDR,
    SIOCGIFPSRCADDR,
    SIOCGIFPDSTADDR,
    SIOCDIFPHYADDR,
    SIOCGTUNFIB,
    SIOCSTUNFIB,
    SIOCSIFPHYADDR_IN6,
    SIOCGIFPSRCADDR_IN6,
    SIOCGIFPDSTADDR_IN6,
    IPSECGREQID,
    IPSECSREQID,
];

fn code() -> impl Strategy<Value = u64> {
    prop_oneof![
        4 => proptest::sample::select(CODES.to_vec()),
        1 => any::<u64>(),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2048, ..ProptestConfig::default() })]

    /// decode is total; what it accepts is valid (mirrors the checks of
    /// if_ipsec.c ipsec_ioctl, plus ours).
    #[test]
    fn decode_never_panics(cmd in code(), data in proptest::collection::vec(any::<u8>(), 0..320)) {
        match decode(cmd, &data) {
            Ok(Command::SetMtu(m)) => prop_assert!((MTU_MIN..=MTU_MAX).contains(&m)),
            Ok(Command::SetTunnel(t)) => {
                prop_assert_eq!(t.src().family(), t.dst().family());
                prop_assert!(t.src() != t.dst());
                prop_assert!(!t.src().is_unspecified() && !t.dst().is_unspecified());
                prop_assert!(!t.src().is_multicast() && !t.dst().is_multicast());
                let want = if cmd == SIOCSIFPHYADDR { Family::Inet } else { Family::Inet6 };
                prop_assert_eq!(t.family(), want);
            }
            Ok(_) => prop_assert!(CODES.contains(&cmd)),
            Err(e) => prop_assert!(
                [Errno::EINVAL, Errno::EAFNOSUPPORT, Errno::EADDRNOTAVAIL].contains(&e)
            ),
        }
        if !CODES.contains(&cmd) {
            prop_assert_eq!(decode(cmd, &data), Err(Errno::EINVAL));
        }
    }

    /// Encoders never write past the buffer nor panic on short ones.
    #[test]
    fn encoders_total(len in 0usize..320, v6 in any::<bool>(), fib in any::<u32>()) {
        let mut buf = vec![0xaa; len];
        let (f, a) = if v6 {
            (Family::Inet6, Addr::v6([0x20, 1, 0xd, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]))
        } else {
            (Family::Inet, Addr::V4([192, 0, 2, 1]))
        };
        let need = if v6 { 288 } else { 32 };
        prop_assert_eq!(encode_addr(&mut buf, f, Some(&a)).is_ok(), len >= need);
        prop_assert_eq!(encode_fib(&mut buf, fib).is_ok(), len >= 32);
        prop_assert_eq!(buf.len(), len);
    }

    /// parse_name never panics and accepts exactly ipsec / ipsec<N>.
    #[test]
    fn names_total(name in proptest::collection::vec(any::<u8>(), 0..20)) {
        if let Some(UnitRequest::Unit(u)) = parse_name(&name) {
            prop_assert_eq!(name, format!("ipsec{u}").into_bytes());
        }
    }

    /// Units agree with a set: lowest free, EEXIST, release.
    #[test]
    fn units_model(ops in proptest::collection::vec((any::<bool>(), 0u32..300), 1..200)) {
        let mut u = Units::new(3).unwrap();
        let mut m = BTreeSet::new();
        for (take, x) in ops {
            if take {
                let want = if m.contains(&x) { Err(Errno::EEXIST) } else { Ok(()) };
                prop_assert_eq!(u.take(x), want);
                m.insert(x);
            } else {
                u.release(x);
                m.remove(&x);
            }
            let lowest = (0..).find(|i| !m.contains(i)).unwrap();
            prop_assert_eq!(u.lowest_free(|_| false).unwrap(), lowest);
            let odd_free = (0..).find(|i| !m.contains(i) && i % 2 == 1).unwrap();
            prop_assert_eq!(u.lowest_free(|i| i % 2 == 0).unwrap(), odd_free);
        }
    }
}
