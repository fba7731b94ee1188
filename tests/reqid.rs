//! reqid rules.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod common;
use common::*;

use if_ipsec::reqid::{Reqid, ReqidSpace, AUTO_MIN};
use if_ipsec::tables::IfHandle;
use if_ipsec::Errno;

fn r(v: u32) -> Reqid {
    Reqid::new(v).unwrap()
}

/// mirrors key.c key_newreqid: automatic values start above IPSEC_MANUAL_REQID_MAX.
#[test]
fn key_newreqid_range() {
    let s = ReqidSpace::new(1).unwrap();
    assert_eq!(AUTO_MIN, 0x4000);
    let a = s.pick_auto(None).unwrap();
    assert!(a.get() >= AUTO_MIN);
    assert_eq!(s.pick_auto(Some(5)).unwrap(), a, "hint below range ignored");
    assert_eq!(s.pick_auto(Some(0x9000)).unwrap().get(), 0x9000);
}

/// mirrors if_ipsec.c ipsec_init_reqid, improved: collisions are skipped
/// however many there are (C gives up after 63 tries).
#[test]
fn ipsec_init_reqid_skips_all_collisions() {
    let mut s = ReqidSpace::new(1).unwrap();
    for i in 0..1000 {
        s.claim(r(AUTO_MIN + i), IfHandle(i)).unwrap();
    }
    assert_eq!(s.pick_auto(None).unwrap().get(), AUTO_MIN + 1000);
    assert_eq!(
        s.pick_auto(Some(AUTO_MIN + 10)).unwrap().get(),
        AUTO_MIN + 1000
    );
}

/// Wraps from u32::MAX back to the start of the automatic range.
#[test]
fn auto_wraps() {
    let mut s = ReqidSpace::new(1).unwrap();
    s.claim(r(u32::MAX), IfHandle(1)).unwrap();
    s.claim(r(AUTO_MIN), IfHandle(2)).unwrap();
    assert_eq!(s.pick_auto(Some(u32::MAX)).unwrap().get(), AUTO_MIN + 1);
}

/// mirrors if_ipsec.c ipsec_check_reqid: another interface's reqid is EEXIST.
#[test]
fn ipsec_check_reqid_eexist() {
    let mut s = ReqidSpace::new(1).unwrap();
    s.claim(r(100), IfHandle(1)).unwrap();
    assert_eq!(s.check_free(r(100), IfHandle(2)), Err(Errno::EEXIST));
    assert_eq!(s.check_free(r(100), IfHandle(1)), Ok(()));
    s.release(r(100));
    assert_eq!(s.check_free(r(100), IfHandle(2)), Ok(()));
}

/// mirrors if_ipsec.c ipsec_set_reqid through the state machine: manual
/// value, same value no-op, duplicate EEXIST, 0 keeps, kept across -tunnel.
#[test]
fn ipsec_set_reqid_rules() {
    let mut w = World::new();
    let (a, b) = (w.create(1), w.create(2));
    w.set_reqid(a, 100).unwrap();
    assert_eq!(w.vnet.state(a).unwrap().reqid, Some(r(100)));
    assert_eq!(w.set_reqid(b, 100), Err(Errno::EEXIST));
    assert_eq!(w.vnet.state(b).unwrap().reqid, None, "unchanged on error");
    w.set_reqid(a, 100).unwrap();
    assert_eq!(w.log, []);
    w.set_reqid(a, 0).unwrap();
    assert_eq!(w.vnet.state(a).unwrap().reqid, Some(r(100)), "0 keeps");
    w.set_reqid(b, 0).unwrap();
    assert!(
        w.vnet.state(b).unwrap().reqid.unwrap().get() >= AUTO_MIN,
        "0 allocates"
    );
    w.set_tunnel(a, tun4([192, 0, 2, 1], [198, 51, 100, 7]))
        .unwrap();
    w.delete_tunnel(a).unwrap();
    assert_eq!(
        w.vnet.state(a).unwrap().reqid,
        Some(r(100)),
        "kept across -tunnel"
    );
    // Freed by a reqid change: the old value becomes available.
    w.set_reqid(a, 200).unwrap();
    w.set_reqid(b, 100).unwrap();
    assert_eq!(w.vnet.reqids().len(), 2);
}

/// Manual reqids may be any nonzero u32, including the automatic range.
#[test]
fn manual_any_nonzero() {
    let mut w = World::new();
    let a = w.create(1);
    w.set_reqid(a, u32::MAX).unwrap();
    w.set_reqid(a, 1).unwrap();
    assert_eq!(w.vnet.state(a).unwrap().reqid, Some(r(1)));
}

/// mirrors key.c key_newreqid: the first automatic reqid is 0x4001
/// (the counter starts at IPSEC_MANUAL_REQID_MAX + 1 and is incremented
/// before use); 0x4000 comes only after wrapping past 0xffffffff.
#[test]
fn first_auto_reqid_is_0x4001_as_key_newreqid() {
    let s = ReqidSpace::new(1).unwrap();
    assert_eq!(s.pick_auto(None).unwrap().get(), 0x4001);
    assert_eq!(s.pick_auto(Some(u32::MAX)).unwrap().get(), u32::MAX);
}
