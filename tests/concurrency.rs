//! What a reader concurrent with a writer can observe.  Table changes are
//! published one piece at a time (as the kernel layer does, one release
//! store each); after every piece a "reader" looks everything up.  For
//! every key it must see the value before or after the transition, never
//! something else, and a source-address enumeration must contain every
//! interface that is a member both before and after and nothing that is a
//! member of neither (tables module docs).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod common;
use common::*;

use std::collections::BTreeSet;

use if_ipsec::addr::Addr;
use if_ipsec::endpoint::Tunnel;
use if_ipsec::tables::{IfHandle, Tables};
use proptest::prelude::*;

const POOL: usize = 4;
const REQIDS: [u32; 3] = [1, 2, 3];

fn addr(i: usize) -> Addr {
    Addr::V4([10, 0, 0, i as u8 + 1])
}

#[derive(Clone, Debug)]
enum Op {
    Create(u32),
    SetTunnel(u32, usize, usize),
    SetReqid(u32, u32),
    Delete(u32),
    Destroy(u32),
}

fn op() -> impl Strategy<Value = Op> {
    let h = 0u32..8;
    prop_oneof![
        2 => h.clone().prop_map(Op::Create),
        5 => (h.clone(), 0..POOL, 0..POOL).prop_map(|(h, s, d)| Op::SetTunnel(h, s, d)),
        2 => (h.clone(), 0u32..4).prop_map(|(h, r)| Op::SetReqid(h, r)),
        1 => h.clone().prop_map(Op::Delete),
        1 => h.prop_map(Op::Destroy),
    ]
}

/// Everything a reader can look up.
#[derive(Clone, Debug, PartialEq)]
struct Obs {
    demux: Vec<Option<IfHandle>>,
    src: Vec<BTreeSet<IfHandle>>,
}

fn observe(t: &Tables, reqids: &[u32]) -> Obs {
    let mut demux = Vec::new();
    for r in reqids {
        for s in 0..POOL {
            for d in 0..POOL {
                demux.push(t.input_lookup(*r, &addr(s), &addr(d)));
            }
        }
    }
    let src = (0..POOL)
        .map(|a| {
            let mut set = BTreeSet::new();
            t.for_each_src(&addr(a), |h| {
                set.insert(h);
            });
            set
        })
        .collect();
    Obs { demux, src }
}

fn step(w: &mut World, o: &Op) {
    let reqids: Vec<u32> = {
        let mut v: Vec<u32> = REQIDS.to_vec();
        v.extend(w.vnet.iter().filter_map(|s| s.reqid.map(|r| r.get())));
        v.sort();
        v.dedup();
        v
    };
    let tx = match *o {
        Op::Create(h) => {
            if w.vnet.state(IfHandle(h)).is_none() {
                w.create(h);
            }
            return;
        }
        Op::SetTunnel(h, s, d) => {
            let Ok(t) = Tunnel::new(addr(s), addr(d)) else {
                return;
            };
            w.vnet.prepare_set_tunnel(&w.tables, IfHandle(h), t, None)
        }
        Op::SetReqid(h, r) => w.vnet.prepare_set_reqid(&w.tables, IfHandle(h), r, None),
        Op::Delete(h) => w.vnet.prepare_delete_tunnel(&w.tables, IfHandle(h)),
        Op::Destroy(h) => w.vnet.prepare_destroy(&w.tables, IfHandle(h)),
    };
    let Ok(tx) = tx else {
        return;
    };
    // Also observe the reqid the transition will use.
    let mut keys = reqids;
    if let Some(r) = tx.next_state().and_then(|s| s.reqid) {
        keys.push(r.get());
    }
    let before = observe(&w.tables, &keys);
    let mut mids = Vec::new();
    w.run_with(tx, &mut |t| mids.push(observe(t, &keys)))
        .unwrap();
    let after = observe(&w.tables, &keys);
    for mid in &mids {
        for (k, v) in mid.demux.iter().enumerate() {
            assert!(
                *v == before.demux[k] || *v == after.demux[k],
                "demux key {k}: saw {v:?}, before {:?}, after {:?}",
                before.demux[k],
                after.demux[k]
            );
        }
        for a in 0..POOL {
            let (b, f, m) = (&before.src[a], &after.src[a], &mid.src[a]);
            assert!(
                b.intersection(f).all(|h| m.contains(h)),
                "lost member: {b:?} {m:?} {f:?}"
            );
            assert!(
                m.iter().all(|h| b.contains(h) || f.contains(h)),
                "phantom: {b:?} {m:?} {f:?}"
            );
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]
    #[test]
    fn readers_see_old_or_new(ops in proptest::collection::vec(op(), 1..50)) {
        let mut w = World::new();
        for o in &ops {
            step(&mut w, o);
        }
    }
}
