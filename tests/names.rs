//! Cloner names and units.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use if_ipsec::names::{format_name, parse_name, UnitRequest, Units, DENSE_UNITS, MAX_UNIT};
use if_ipsec::Errno;

#[test]
fn names_ours() {
    assert_eq!(parse_name(b"ipsec"), Some(UnitRequest::Any));
    assert_eq!(parse_name(b"ipsec0"), Some(UnitRequest::Unit(0)));
    assert_eq!(parse_name(b"ipsec42"), Some(UnitRequest::Unit(42)));
    assert_eq!(
        parse_name(b"ipsec2147483647"),
        Some(UnitRequest::Unit(MAX_UNIT))
    );
}

#[test]
fn names_not_ours() {
    for n in [
        &b"ipsec01"[..],
        b"ipsec00",
        b"ipsec-1",
        b"ipsec1a",
        b"ipse",
        b"gif0",
        b"ipsec2147483648",
        b"ipsec99999999999",
        b"Ipsec0",
        b"",
    ] {
        assert_eq!(parse_name(n), None, "{}", String::from_utf8_lossy(n));
    }
}

#[test]
fn format_roundtrip() {
    for u in [0, 7, 10, 99, 12345, MAX_UNIT] {
        let n = format_name(u);
        let len = n.iter().position(|&c| c == 0).unwrap();
        assert_eq!(parse_name(&n[..len]), Some(UnitRequest::Unit(u)));
    }
    assert_eq!(&format_name(3)[..7], b"ipsec3\0");
}

/// mirrors if_clone.c ifc_alloc_unit: lowest free unit; a taken one EEXIST.
#[test]
fn ifc_alloc_unit_lowest_free() {
    let mut u = Units::new(1).unwrap();
    for i in 0..200 {
        assert_eq!(u.lowest_free(|_| false).unwrap(), i);
        u.take(i).unwrap();
    }
    assert_eq!(u.take(5), Err(Errno::EEXIST));
    u.release(70);
    u.release(3);
    assert_eq!(u.lowest_free(|_| false).unwrap(), 3);
    u.take(3).unwrap();
    assert_eq!(u.lowest_free(|_| false).unwrap(), 70);
    assert_eq!(u.choose(UnitRequest::Unit(70), |_| false), Ok(70));
    assert_eq!(
        u.choose(UnitRequest::Unit(71), |_| false),
        Err(Errno::EEXIST)
    );
}

/// Units taken by other interfaces named ipsecN (renamed) are skipped.
#[test]
fn taken_elsewhere_skipped() {
    let mut u = Units::new(1).unwrap();
    u.take(0).unwrap();
    assert_eq!(u.lowest_free(|x| x == 1 || x == 2).unwrap(), 3);
    assert_eq!(
        u.choose(UnitRequest::Unit(1), |x| x == 1),
        Err(Errno::EEXIST)
    );
}

/// Large explicit units go to the sparse set and do not disturb auto-unit.
#[test]
fn sparse_units() {
    let mut u = Units::new(1).unwrap();
    u.take(DENSE_UNITS + 5).unwrap();
    u.take(MAX_UNIT).unwrap();
    assert!(u.contains(MAX_UNIT));
    assert_eq!(u.take(MAX_UNIT), Err(Errno::EEXIST));
    assert_eq!(u.lowest_free(|_| false).unwrap(), 0);
    u.release(MAX_UNIT);
    assert!(!u.contains(MAX_UNIT));
}

/// Auto-unit stays cheap and correct across word boundaries at scale.
#[test]
fn many_units() {
    let mut u = Units::new(1).unwrap();
    for i in 0..100_000 {
        u.take(i).unwrap();
    }
    assert_eq!(u.lowest_free(|_| false).unwrap(), 100_000);
    u.release(4095);
    assert_eq!(u.lowest_free(|_| false).unwrap(), 4095);
    u.take(4095).unwrap();
    u.release(99_999);
    assert_eq!(u.lowest_free(|_| false).unwrap(), 99_999);
}
