//! Copy-on-write tables: lookups, updates, resizes, publication order.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use if_ipsec::addr::Addr;
use if_ipsec::tables::cowmap::{target_buckets, MIN_BUCKETS};
use if_ipsec::tables::*;

fn a4(i: u32) -> Addr {
    Addr::V4((0x0a00_0000 | i).to_be_bytes())
}

#[test]
fn insert_get_remove() {
    let mut m: CowMap<u32, u32> = CowMap::new(7).unwrap();
    for i in 0..1000 {
        m.insert(i, i * 2).unwrap();
    }
    assert_eq!(m.len(), 1000);
    for i in 0..1000 {
        assert_eq!(m.get(&i), Some(&(i * 2)));
    }
    m.insert(5, 1).unwrap();
    assert_eq!((m.get(&5), m.len()), (Some(&1), 1000));
    for i in 0..990 {
        m.remove(i).unwrap();
    }
    assert_eq!(m.len(), 10);
    assert_eq!(m.get(&3), None);
    assert_eq!(m.get(&995), Some(&1990));
    assert!(m.bucket_count() <= 128, "shrunk: {}", m.bucket_count());
    m.remove(123_456).unwrap();
    assert_eq!(m.len(), 10);
}

/// Load stays within 1/8..1 so buckets stay short at any size.
#[test]
fn buckets_stay_short() {
    let mut m: CowMap<u32, ()> = CowMap::new(99).unwrap();
    for i in 0..100_000u32 {
        m.insert(i.wrapping_mul(2_654_435_761), ()).unwrap();
    }
    assert!(m.bucket_count() >= 100_000 && m.bucket_count() <= 262_144);
    assert!(
        m.max_bucket_len() <= 12,
        "max bucket {}",
        m.max_bucket_len()
    );
    assert_eq!(target_buckets(MIN_BUCKETS, 0), MIN_BUCKETS);
    assert_eq!(target_buckets(8, 9), 16);
    assert_eq!(target_buckets(1024, 100), 512);
}

/// prepare changes nothing; dropping the prepared pieces is an abort.
#[test]
fn prepare_is_side_effect_free() {
    let mut m: CowMap<u32, u32> = CowMap::new(1).unwrap();
    m.insert(1, 1).unwrap();
    let p = prepare(&m, &[MapOp::Insert(1, 2), MapOp::Insert(2, 2)]).unwrap();
    assert_eq!(p.new_len, 2);
    assert_eq!((m.get(&1), m.get(&2), m.len()), (Some(&1), None, 1));
    drop(p);
    assert_eq!(m.get(&1), Some(&1));
}

/// A reader holding a retired bucket still sees the complete old state.
#[test]
fn retired_piece_is_old_state() {
    let mut m: CowMap<u32, u32> = CowMap::new(1).unwrap();
    m.insert(1, 10).unwrap();
    let p = prepare(&m, &[MapOp::Insert(1, 11)]).unwrap();
    let retired = m.commit(p);
    match retired {
        Change::Buckets(v) => {
            assert_eq!(v.len(), 1);
            assert_eq!(v[0].1.get(&1), Some(&10));
        }
        _ => panic!("no resize expected"),
    }
    assert_eq!(m.get(&1), Some(&11));
}

/// Ops on one bucket are merged into one piece; pieces follow first touch.
#[test]
fn batch_pieces_ordered_and_merged() {
    let mut m: CowMap<u32, u32> = CowMap::new(3).unwrap();
    for i in 0..6 {
        m.insert(i, i).unwrap();
    }
    let idx = |k: u32| index_of(hash::hash(&k, MapSlots::seed(&m)), m.bucket_count());
    // Find two keys in the same bucket and one in another.
    let (k1, k2) = (0..1000u32)
        .flat_map(|a| (a + 1..1000).map(move |b| (a, b)))
        .find(|&(a, b)| idx(a) == idx(b))
        .unwrap();
    let k3 = (0..1000u32).find(|&c| idx(c) != idx(k1)).unwrap();
    let p = prepare(
        &m,
        &[
            MapOp::Insert(k3, 0),
            MapOp::Insert(k1, 1),
            MapOp::Insert(k2, 2),
        ],
    )
    .unwrap();
    match &p.change {
        Change::Buckets(v) => {
            assert_eq!(
                v.iter().map(|(i, _)| *i).collect::<Vec<_>>(),
                [idx(k3), idx(k1)]
            );
            assert_eq!(v[1].1.get(&k1), Some(&1));
            assert_eq!(v[1].1.get(&k2), Some(&2));
        }
        _ => panic!("unexpected resize"),
    }
}

/// A resize hands out one new directory and retires the old one whole.
#[test]
fn resize_retires_directory() {
    let mut m: CowMap<u32, u32> = CowMap::new(1).unwrap();
    for i in 0..8 {
        m.insert(i, i).unwrap();
    }
    let p = prepare(&m, &[MapOp::Insert(8, 8)]).unwrap();
    assert!(matches!(p.change, Change::Directory(ref d) if d.len() == 16));
    let old = m.commit(p);
    assert!(matches!(old, Change::Directory(ref d) if d.len() == 8));
    for i in 0..9 {
        assert_eq!(m.get(&i), Some(&i));
    }
}

/// mirrors if_ipsec.c ipsec_if_input lookup: reqid plus both SA addresses
/// (key_sockaddrcmp, no ports), else no interface.
#[test]
fn ipsec_if_input_lookup() {
    let mut m: CowMap<u32, DemuxEntry> = CowMap::new(5).unwrap();
    let (l, r) = (a4(1), a4(2));
    m.insert(
        100,
        DemuxEntry {
            handle: IfHandle(9),
            sa_src: r,
            sa_dst: l,
        },
    )
    .unwrap();
    assert_eq!(input_lookup(&m, 100, &r, &l), Some(IfHandle(9)));
    assert_eq!(input_lookup(&m, 100, &l, &r), None, "outbound direction");
    assert_eq!(input_lookup(&m, 100, &a4(3), &l), None);
    assert_eq!(input_lookup(&m, 101, &r, &l), None);
    let v6 = |s| Addr::V6 {
        addr: [0xfe, 0x80, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1],
        scope_id: s,
    };
    m.insert(
        7,
        DemuxEntry {
            handle: IfHandle(1),
            sa_src: v6(0),
            sa_dst: a4(1),
        },
    )
    .unwrap();
    assert_eq!(
        input_lookup(&m, 7, &v6(3), &a4(1)),
        None,
        "scope id compared"
    );
}

fn members(t: &Tables, a: &Addr) -> Vec<IfHandle> {
    let mut v = Vec::new();
    t.for_each_src(a, |h| v.push(h));
    v
}

/// Commit a prepared change piece by piece, calling `between` after each.
fn commit_piecewise<K: hash::TableKey, V: Clone>(
    m: &mut CowMap<K, V>,
    p: Prepared<K, V>,
    mut between: impl FnMut(&CowMap<K, V>),
) {
    for piece in Pieces::new(Some(p)) {
        m.commit(piece);
        between(m);
    }
}

/// Source index: dense member numbers; removing from the middle moves the
/// last member; a reader between any two published pieces sees every
/// member that is in both the old and the new set (mirrors the intent of
/// if_ipsec.c ipsec_srcaddr's chain walk).
#[test]
fn srcaddr_remove_middle_piecewise() {
    let mut count: CowMap<Addr, u32> = CowMap::new(1).unwrap();
    let mut member: CowMap<SrcSlot, IfHandle> = CowMap::new(2).unwrap();
    let a = a4(1);
    for h in 0..5 {
        let mut ops = SrcOps::default();
        let i = ops.add(&count, a, IfHandle(h)).unwrap();
        assert_eq!(i, h);
        member.update(&ops.members).unwrap();
        count.update(&ops.counts).unwrap();
    }
    let mut ops = SrcOps::default();
    ops.remove(&count, &member, a, 1).unwrap();
    assert_eq!(ops.moved, Some((IfHandle(4), 1)));
    let keep = [0, 2, 3, 4].map(IfHandle);
    let check = |c: &CowMap<Addr, u32>, m: &CowMap<SrcSlot, IfHandle>| {
        let mut seen = Vec::new();
        for_each_src(c, m, &a, |h| seen.push(h));
        for k in keep {
            assert!(seen.contains(&k), "{k:?} missing from {seen:?}");
        }
    };
    let pm = prepare(&member, &ops.members).unwrap();
    let pc = prepare(&count, &ops.counts).unwrap();
    commit_piecewise(&mut member, pm, |m| check(&count, m));
    commit_piecewise(&mut count, pc, |c| check(c, &member));
    let mut seen = Vec::new();
    for_each_src(&count, &member, &a, |h| seen.push(h));
    seen.sort();
    assert_eq!(seen, keep);
}

/// Through Tables: many interfaces sharing one local address.
#[test]
fn shared_source_many() {
    let mut t = Tables::new(3).unwrap();
    let a = a4(1);
    for h in 0..1000 {
        let mut ops = SrcOps::default();
        ops.add(TablesRead::src_count(&t), a, IfHandle(h)).unwrap();
        let u = TablesUpdate {
            demux: None,
            src_member: Some(prepare(TablesRead::src_member(&t), &ops.members).unwrap()),
            src_count: Some(prepare(TablesRead::src_count(&t), &ops.counts).unwrap()),
        };
        t.commit(u);
    }
    assert_eq!(members(&t, &a).len(), 1000);
    assert_eq!(members(&t, &a4(2)), []);
}
