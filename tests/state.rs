//! Interface state machine: plans, tables and policies per transition.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod common;
use common::*;

use if_ipsec::addr::Addr;
use if_ipsec::iface::IfState;
use if_ipsec::state::{Effect::*, Transition};
use if_ipsec::tables::IfHandle;
use if_ipsec::Errno;

const L: [u8; 4] = [192, 0, 2, 1];
const R: [u8; 4] = [198, 51, 100, 7];
const R2: [u8; 4] = [203, 0, 113, 9];
const L2: [u8; 4] = [192, 0, 2, 2];

fn reqid(w: &World, h: IfHandle) -> u32 {
    w.vnet.state(h).unwrap().reqid.unwrap().get()
}

/// mirrors if_ipsec.c ipsec_set_tunnel: policies registered, interface
/// hashed by reqid and source, RUNNING iff the source is local.
#[test]
fn ipsec_set_tunnel_first() {
    let mut w = World::new();
    w.local.push(Addr::V4(L));
    let h = w.create(1);
    w.set_tunnel(h, tun4(L, R)).unwrap();
    assert_eq!(
        w.log,
        [
            RegisterPolicies,
            PublishPolicies,
            PublishTables,
            CheckRunning,
            EpochWait,
            FreeRetired
        ]
    );
    let r = reqid(&w, h);
    assert!(r > 0x3fff, "automatic reqid");
    assert_eq!(w.spd.len(), 1);
    assert_eq!(
        w.tables.input_lookup(r, &Addr::V4(R), &Addr::V4(L)),
        Some(h)
    );
    assert_eq!(w.src_members(&Addr::V4(L)), [h]);
    assert_eq!(w.running, [h]);
    let st = w.vnet.state(h).unwrap();
    assert_eq!(
        st.policies(&if_ipsec::policy::PolicyTemplate::ROUTE_BASED)
            .unwrap()
            .specs[0]
            .priority,
        2,
        "priority = if_index"
    );
}

/// mirrors if_ipsec.c ipsec_set_addresses: the same tunnel again is a no-op.
#[test]
fn ipsec_set_addresses_unchanged_noop() {
    let mut w = World::new();
    let h = w.create(1);
    w.set_tunnel(h, tun4(L, R)).unwrap();
    let tx = w
        .vnet
        .prepare_set_tunnel(&w.tables, h, tun4(L, R), None)
        .unwrap();
    assert_eq!(tx.kind(), Transition::Nothing);
    assert!(tx.plan().is_empty());
}

/// Improvement over if_ipsec.c ipsec_set_tunnel + ipsec_delete_tunnel:
/// on a change the new policies are registered and published before the
/// old are withdrawn, and both are registered at the switch.
#[test]
fn change_tunnel_no_gap() {
    let mut w = World::new();
    w.local.extend([Addr::V4(L), Addr::V4(L2)]);
    let h = w.create(1);
    w.set_tunnel(h, tun4(L, R)).unwrap();
    let r = reqid(&w, h);
    let mut tx = w
        .vnet
        .prepare_set_tunnel(&w.tables, h, tun4(L2, R2), None)
        .unwrap();
    assert_eq!(tx.kind(), Transition::ChangeTunnel);
    let plan = tx.plan();
    let pos = |e| plan.iter().position(|x| *x == e).unwrap();
    assert!(pos(RegisterPolicies) < pos(PublishPolicies));
    assert!(pos(PublishPolicies) < pos(UnregisterPolicies));
    assert!(pos(PublishTables) < pos(UnregisterPolicies));
    assert!(pos(UnregisterPolicies) < pos(EpochWait));
    assert!(pos(EpochWait) < pos(FreePolicies));
    assert!(pos(EpochWait) < pos(FreeRetired));
    assert!(!plan.contains(&ClearRunning), "no down window");
    // Run step by step, watching the SPD.
    let _ = tx.take_tables();
    drop(tx);
    let tx = w
        .vnet
        .prepare_set_tunnel(&w.tables, h, tun4(L2, R2), None)
        .unwrap();
    w.run(tx).unwrap();
    assert_eq!(w.spd.len(), 1);
    assert_eq!(w.spd[0].1.specs[1].sa_dst, Addr::V4(R2));
    assert_eq!(reqid(&w, h), r, "reqid kept");
    assert_eq!(w.tables.input_lookup(r, &Addr::V4(R), &Addr::V4(L)), None);
    assert_eq!(
        w.tables.input_lookup(r, &Addr::V4(R2), &Addr::V4(L2)),
        Some(h)
    );
    assert_eq!(w.src_members(&Addr::V4(L)), []);
    assert_eq!(w.src_members(&Addr::V4(L2)), [h]);
    assert_eq!(w.running, [h]);
}

/// A failing key_register_ifnet (EAGAIN) leaves everything unchanged.
#[test]
fn register_failure_changes_nothing() {
    let mut w = World::new();
    let h = w.create(1);
    w.set_tunnel(h, tun4(L, R)).unwrap();
    let before = *w.vnet.state(h).unwrap();
    w.fail_register = true;
    assert_eq!(w.set_tunnel(h, tun4(L, R2)), Err(Errno::EAGAIN));
    assert_eq!(*w.vnet.state(h).unwrap(), before);
    let r = before.reqid.unwrap().get();
    assert_eq!(
        w.tables.input_lookup(r, &Addr::V4(R), &Addr::V4(L)),
        Some(h)
    );
    assert_eq!(w.spd.len(), 1);
    // First tunnel failing: the automatic reqid is not consumed.
    let g = w.create(2);
    w.fail_register = true;
    assert_eq!(w.set_tunnel(g, tun4(L2, R)), Err(Errno::EAGAIN));
    assert_eq!(w.vnet.state(g).unwrap().reqid, None);
    assert_eq!(w.vnet.reqids().len(), 1);
}

/// mirrors if_ipsec.c ipsec_delete_tunnel: RUNNING cleared, unhashed,
/// policies unregistered after publication, reqid kept.
#[test]
fn ipsec_delete_tunnel() {
    let mut w = World::new();
    w.local.push(Addr::V4(L));
    let h = w.create(1);
    w.set_tunnel(h, tun4(L, R)).unwrap();
    let r = reqid(&w, h);
    w.delete_tunnel(h).unwrap();
    assert_eq!(
        w.log,
        [
            ClearRunning,
            PublishPolicies,
            PublishTables,
            UnregisterPolicies,
            EpochWait,
            FreePolicies,
            FreeRetired
        ]
    );
    assert!(w.spd.is_empty() && w.running.is_empty());
    assert_eq!(w.tables.input_lookup(r, &Addr::V4(R), &Addr::V4(L)), None);
    assert_eq!(w.src_members(&Addr::V4(L)), []);
    assert_eq!(reqid(&w, h), r);
    // Without a tunnel: only RUNNING is cleared, as C.
    w.delete_tunnel(h).unwrap();
    assert_eq!(w.log, [ClearRunning]);
}

/// mirrors if_ipsec.c ipsec_set_reqid with a tunnel: policies rebuilt
/// with the new reqid, demux follows.
#[test]
fn ipsec_set_reqid_with_tunnel() {
    let mut w = World::new();
    let h = w.create(1);
    w.set_tunnel(h, tun4(L, R)).unwrap();
    let old = reqid(&w, h);
    w.set_reqid(h, 77).unwrap();
    assert_eq!(w.log[0], RegisterPolicies);
    assert_eq!(w.spd.len(), 1);
    assert_eq!(w.spd[0].1.specs[0].reqid, 77);
    assert_eq!(
        w.tables.input_lookup(77, &Addr::V4(R), &Addr::V4(L)),
        Some(h)
    );
    assert_eq!(w.tables.input_lookup(old, &Addr::V4(R), &Addr::V4(L)), None);
    assert!(w
        .vnet
        .reqids()
        .owner(if_ipsec::reqid::Reqid::new(old).unwrap())
        .is_none());
}

/// mirrors if_ipsec.c ipsec_clone_destroy: everything released.
#[test]
fn ipsec_clone_destroy() {
    let mut w = World::new();
    let h = w.create(1);
    let g = w.create(2);
    w.set_tunnel(h, tun4(L, R)).unwrap();
    w.set_tunnel(g, tun4(L, R2)).unwrap();
    let r = reqid(&w, h);
    w.destroy(h).unwrap();
    assert_eq!(*w.log.last().unwrap(), FreeInterface);
    assert!(w.log.iter().position(|e| *e == Detach) < w.log.iter().position(|e| *e == EpochWait));
    assert!(w.vnet.state(h).is_none());
    assert_eq!(w.spd.len(), 1);
    assert_eq!(w.tables.input_lookup(r, &Addr::V4(R), &Addr::V4(L)), None);
    assert_eq!(w.src_members(&Addr::V4(L)), [g]);
    assert_eq!(w.vnet.reqids().len(), 1);
    // Unit 0 is free again.
    let n = w.create(3);
    assert_eq!(w.vnet.state(n).unwrap().unit, 0);
    // Destroy without tunnel.
    w.destroy(n).unwrap();
    assert_eq!(w.log, [ClearRunning, Detach, EpochWait, FreeInterface]);
    assert_eq!(
        w.vnet.prepare_destroy(&w.tables, n).err(),
        Some(Errno::ENXIO)
    );
}

/// Two interfaces cannot share a reqid even via tunnels; the second gets
/// its own automatic value.
#[test]
fn automatic_reqids_distinct() {
    let mut w = World::new();
    let hs: Vec<_> = (0..50).map(|i| w.create(i)).collect();
    for (i, h) in hs.iter().enumerate() {
        w.set_tunnel(*h, tun4(L, [10, 0, 0, i as u8 + 1])).unwrap();
    }
    let mut rs: Vec<u32> = hs.iter().map(|h| reqid(&w, *h)).collect();
    rs.sort();
    rs.dedup();
    assert_eq!(rs.len(), 50);
    assert_eq!(w.src_members(&Addr::V4(L)).len(), 50);
}

/// Unknown handle -> ENXIO (C: destroyed softc).
#[test]
fn unknown_interface_enxio() {
    let w = World::new();
    let e = w
        .vnet
        .prepare_set_tunnel(&w.tables, IfHandle(9), tun4(L, R), None)
        .err();
    assert_eq!(e, Some(Errno::ENXIO));
}

/// fib and MTU are plain state.
#[test]
fn fib_and_mtu() {
    let mut w = World::new();
    let h = w.create(1);
    assert_eq!(w.vnet.state(h).unwrap().mtu, 1400);
    w.vnet.set_fib(h, 3).unwrap();
    w.vnet.set_mtu(h, 1500).unwrap();
    let s = w.vnet.state(h).unwrap();
    assert_eq!((s.fib, s.mtu), (3, 1500));
}

/// Improvement over if_ipsec.c ipsec_reassign: moving to another VNET
/// deletes the tunnel and also takes the record, reqid and unit out of the
/// old VNET (C leaves the softc in the old reqid hash); the new VNET keeps
/// the reqid only if it is free there.
#[test]
fn ipsec_reassign_moves_everything() {
    let mut a = World::new();
    let mut b = World::new();
    let h = a.create(1);
    a.set_reqid(h, 100).unwrap();
    a.set_tunnel(h, tun4(L, R)).unwrap();
    let tx = a.vnet.prepare_move_out(&a.tables, h).unwrap();
    assert_eq!(tx.kind(), Transition::DeleteTunnel);
    let mut moved = None;
    {
        let mut tx = tx;
        // Execute like World::run but keep what finish returns.
        for piece in tx.take_tables().into_pieces() {
            a.tables.publish(piece);
        }
        moved = moved.or(a.vnet.finish(tx));
    }
    let moved = moved.unwrap();
    assert!(a.vnet.state(h).is_none());
    assert_eq!(a.vnet.reqids().len(), 0);
    assert_eq!(a.tables.input_lookup(100, &Addr::V4(R), &Addr::V4(L)), None);
    assert_eq!(moved.tunnel, None);
    assert_eq!(moved.reqid.unwrap().get(), 100);
    // In VNET b reqid 100 is taken: dropped; the unit is free: kept.
    let g = b.create(7);
    b.set_reqid(g, 100).unwrap();
    b.vnet
        .adopt(IfHandle(50), IfState { unit: 3, ..moved })
        .unwrap();
    let st = b.vnet.state(IfHandle(50)).unwrap();
    assert_eq!((st.reqid, st.unit, st.tunnel), (None, 3, None));
    assert_eq!(
        b.vnet.adopt(IfHandle(51), IfState { unit: 3, ..moved }),
        Err(Errno::EEXIST)
    );
    // Free reqid is kept.
    let mut c = World::new();
    c.vnet.adopt(IfHandle(1), moved).unwrap();
    assert_eq!(c.vnet.state(IfHandle(1)).unwrap().reqid.unwrap().get(), 100);
    assert_eq!(
        c.vnet.reqids().owner(moved.reqid.unwrap()),
        Some(IfHandle(1))
    );
}
