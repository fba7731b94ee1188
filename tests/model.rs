//! Property test: random sequences of create / set tunnel / change tunnel
//! / set reqid / delete / destroy (and failing policy registration)
//! against a naive reference model.  Checks after every step: reqids
//! unique, every demux and source lookup agrees with the model, no stale
//! entries, the SPD holds exactly one policy set per tunnel.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod common;
use common::*;

use std::collections::BTreeMap;

use if_ipsec::addr::Addr;
use if_ipsec::endpoint::Tunnel;
use if_ipsec::reqid::AUTO_MIN;
use if_ipsec::tables::{IfHandle, MapSlots};
use if_ipsec::Errno;
use proptest::prelude::*;

const POOL: usize = 5;

fn addr(i: usize) -> Addr {
    if i < 3 {
        Addr::V4([10, 0, 0, i as u8 + 1])
    } else {
        Addr::v6(v6(i as u8))
    }
}

#[derive(Clone, Debug)]
enum Op {
    Create(u32),
    SetTunnel(u32, usize, usize),
    SetReqid(u32, u32),
    Delete(u32),
    Destroy(u32),
    /// Move to another VNET and back, under a new handle.
    Reassign(u32, u32),
    FailNextRegister,
}

fn op() -> impl Strategy<Value = Op> {
    let h = 0u32..6;
    prop_oneof![
        2 => h.clone().prop_map(Op::Create),
        4 => (h.clone(), 0..POOL, 0..POOL).prop_map(|(h, s, d)| Op::SetTunnel(h, s, d)),
        2 => (h.clone(), prop_oneof![Just(0u32), 1u32..4, Just(AUTO_MIN), Just(AUTO_MIN + 1)])
            .prop_map(|(h, r)| Op::SetReqid(h, r)),
        1 => h.clone().prop_map(Op::Delete),
        1 => h.clone().prop_map(Op::Destroy),
        1 => (h.clone(), h).prop_map(|(a, b)| Op::Reassign(a, b)),
        1 => Just(Op::FailNextRegister),
    ]
}

#[derive(Clone, Copy, Debug, Default, PartialEq)]
struct M {
    reqid: Option<u32>,
    tunnel: Option<(Addr, Addr)>,
}

struct Run {
    w: World,
    m: BTreeMap<u32, M>,
    fail: bool,
}

impl Run {
    fn step(&mut self, op: &Op) {
        match *op {
            Op::Create(h) => {
                if self.m.contains_key(&h) {
                    return;
                }
                self.w.create(h);
                self.m.insert(h, M::default());
            }
            Op::FailNextRegister => self.fail = true,
            Op::SetTunnel(h, s, d) => {
                let Ok(t) = Tunnel::new(addr(s), addr(d)) else {
                    return;
                };
                self.expect(
                    h,
                    |w| w.set_tunnel(IfHandle(h), t),
                    |m, got| {
                        let same = m.tunnel == Some((t.src(), t.dst())) && m.reqid.is_some();
                        if !same {
                            m.tunnel = Some((t.src(), t.dst()));
                            m.reqid = m.reqid.or(got);
                            return (true, Ok(()));
                        }
                        (false, Ok(()))
                    },
                );
            }
            Op::SetReqid(h, v) => {
                let taken = self
                    .m
                    .iter()
                    .any(|(k, x)| *k != h && x.reqid == Some(v) && v != 0);
                self.expect(
                    h,
                    |w| w.set_reqid(IfHandle(h), v),
                    |m, got| match (v, m.reqid) {
                        (0, Some(_)) => (false, Ok(())),
                        (0, None) => {
                            m.reqid = got;
                            (m.tunnel.is_some(), Ok(()))
                        }
                        (v, Some(c)) if v == c => (false, Ok(())),
                        _ if taken => (false, Err(Errno::EEXIST)),
                        (v, _) => {
                            m.reqid = Some(v);
                            (m.tunnel.is_some(), Ok(()))
                        }
                    },
                );
            }
            Op::Delete(h) => {
                self.expect(
                    h,
                    |w| w.delete_tunnel(IfHandle(h)),
                    |m, _| {
                        m.tunnel = None;
                        (false, Ok(()))
                    },
                );
            }
            Op::Reassign(h, g) => {
                if !self.m.contains_key(&h) || self.m.contains_key(&g) {
                    return;
                }
                self.w.fail_register = false;
                let mut tx = self
                    .w
                    .vnet
                    .prepare_move_out(&self.w.tables, IfHandle(h))
                    .unwrap();
                self.w.spd.retain(|(x, _)| *x != IfHandle(h));
                for p in tx.take_tables().into_pieces() {
                    self.w.tables.publish(p);
                }
                let moved = self.w.vnet.finish(tx).unwrap();
                self.w.vnet.adopt(IfHandle(g), moved).unwrap();
                let m = self.m.remove(&h).unwrap();
                self.m.insert(
                    g,
                    M {
                        reqid: m.reqid,
                        tunnel: None,
                    },
                );
            }
            Op::Destroy(h) => {
                if !self.m.contains_key(&h) {
                    assert_eq!(self.w.destroy(IfHandle(h)), Err(Errno::ENXIO));
                    return;
                }
                self.w.fail_register = false;
                self.w.destroy(IfHandle(h)).unwrap();
                self.m.remove(&h);
            }
        }
    }

    /// Run `f` on the world; `model` updates the model given the reqid the
    /// implementation ended with, and says whether the op registers
    /// policies (so an armed failure hits it) and what it returns.
    fn expect(
        &mut self,
        h: u32,
        f: impl FnOnce(&mut World) -> if_ipsec::Result<()>,
        model: impl FnOnce(&mut M, Option<u32>) -> (bool, if_ipsec::Result<()>),
    ) {
        let Some(before) = self.m.get(&h).copied() else {
            assert_eq!(f(&mut self.w), Err(Errno::ENXIO));
            return;
        };
        self.w.fail_register = self.fail;
        let res = f(&mut self.w);
        let got = self
            .w
            .vnet
            .state(IfHandle(h))
            .unwrap()
            .reqid
            .map(|r| r.get());
        let mut next = before;
        let (registers, want) = model(&mut next, got);
        if registers && self.fail {
            self.fail = false;
            assert_eq!(res, Err(Errno::EAGAIN));
            return; // model unchanged
        }
        assert_eq!(res, want, "{before:?} -> {next:?}");
        self.m.insert(h, next);
    }

    fn check(&self) {
        let w = &self.w;
        assert_eq!(w.vnet.len(), self.m.len());
        let mut reqids = Vec::new();
        for (h, m) in &self.m {
            let s = w.vnet.state(IfHandle(*h)).unwrap();
            assert_eq!(s.reqid.map(|r| r.get()), m.reqid, "reqid of {h}");
            assert_eq!(
                s.tunnel.map(|t| (t.src(), t.dst())),
                m.tunnel,
                "tunnel of {h}"
            );
            if let Some(r) = m.reqid {
                reqids.push(r);
                assert_eq!(
                    w.vnet
                        .reqids()
                        .owner(if_ipsec::reqid::Reqid::new(r).unwrap()),
                    Some(IfHandle(*h))
                );
            }
        }
        let n = reqids.len();
        reqids.sort();
        reqids.dedup();
        assert_eq!(reqids.len(), n, "reqids unique");
        assert_eq!(w.vnet.reqids().len(), n, "no stale reqid owners");
        // Demux agrees for every reqid in use and every address pair.
        for r in &reqids {
            for s in 0..POOL {
                for d in 0..POOL {
                    let want = self.m.iter().find_map(|(h, m)| {
                        (m.reqid == Some(*r) && m.tunnel == Some((addr(d), addr(s))))
                            .then_some(IfHandle(*h))
                    });
                    assert_eq!(w.tables.input_lookup(*r, &addr(s), &addr(d)), want);
                }
            }
        }
        let tunnels = self.m.values().filter(|m| m.tunnel.is_some()).count();
        assert_eq!(
            MapSlots::len(w.tables.demux_map()),
            tunnels,
            "no stale demux"
        );
        // Source index agrees.
        for a in 0..POOL {
            let want: Vec<IfHandle> = self
                .m
                .iter()
                .filter(|(_, m)| m.tunnel.map(|t| t.0) == Some(addr(a)))
                .map(|(h, _)| IfHandle(*h))
                .collect();
            assert_eq!(w.src_members(&addr(a)), want, "members of {:?}", addr(a));
        }
        let mut srcs: Vec<Addr> = self
            .m
            .values()
            .filter_map(|m| m.tunnel.map(|t| t.0))
            .collect();
        srcs.sort_by_key(|a| format!("{a:?}"));
        srcs.dedup();
        assert_eq!(
            MapSlots::len(w.tables.src_count_map()),
            srcs.len(),
            "no stale counts"
        );
        // SPD: one set per tunnel, built from the model's values.
        assert_eq!(w.spd.len(), tunnels);
        for (h, set) in &w.spd {
            let m = self.m[&h.0];
            let (src, dst) = m.tunnel.unwrap();
            assert_eq!(set.specs[1].sa_src, src);
            assert_eq!(set.specs[1].sa_dst, dst);
            assert_eq!(set.specs[0].reqid, m.reqid.unwrap());
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]
    #[test]
    fn random_ops_agree_with_model(ops in proptest::collection::vec(op(), 1..60)) {
        let mut run = Run { w: World::new(), m: BTreeMap::new(), fail: false };
        for o in &ops {
            run.step(o);
            run.check();
        }
    }
}
