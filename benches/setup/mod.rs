//! Builds a VNET with `n` tunnelled interfaces and query lists for the
//! benches (shared by `lookup` and `ir`).
#![allow(
    dead_code,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use if_ipsec::addr::{Addr, Family};
use if_ipsec::endpoint::Tunnel;
use if_ipsec::policy::{Dir, PolicyTemplate};
use if_ipsec::tables::{IfHandle, Tables};
use if_ipsec::verdict::{output_admission, OutputCheck, OutputVerdict};
use if_ipsec::vnet::Vnet;

/// One demux query: (reqid, SA src, SA dst).
pub type Query = (u32, Addr, Addr);

pub struct Bench {
    pub vnet: Vnet,
    pub tables: Tables,
    /// Queries hitting random interfaces.
    pub queries: Vec<Query>,
    /// Queries cycling over 16 interfaces (hot in cache).
    pub hot: Vec<Query>,
    /// Handles in random order.
    pub handles: Vec<IfHandle>,
    /// C's layout for comparison: 32 fixed chains by reqid (kept as
    /// vectors, which is kinder than C's linked lists).
    pub c_chains: Vec<Vec<(u32, Addr, Addr, IfHandle)>>,
}

/// C's lookup (if_ipsec.c ipsec_if_input): walk the reqid's chain.
#[inline]
pub fn input_c(b: &Bench, q: &Query) -> Option<IfHandle> {
    let chain = &b.c_chains[(q.0.wrapping_mul(0x0100_0193) >> 27) as usize & 31];
    chain
        .iter()
        .find(|(r, s, d, _)| *r == q.0 && *d == q.2 && *s == q.1)
        .map(|e| e.3)
}

fn local(i: u32) -> Addr {
    Addr::V4([192, 0, 2, (i % 16) as u8 + 1])
}

fn remote(i: u32) -> Addr {
    let b = (0x0a00_0000 + i + 1).to_be_bytes();
    Addr::V4(b)
}

/// xorshift, deterministic.
fn rng(state: &mut u64) -> u64 {
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    *state
}

pub fn build(n: u32) -> Bench {
    let mut vnet = Vnet::new(0x5eed).unwrap();
    let mut tables = Tables::new(0xfeed).unwrap();
    for i in 0..n {
        let h = IfHandle(i);
        vnet.create(h, i, i + 1, 0).unwrap();
        let t = Tunnel::new(local(i), remote(i)).unwrap();
        let mut tx = vnet.prepare_set_tunnel(&tables, h, t, None).unwrap();
        tables.commit(tx.take_tables());
        vnet.finish(tx);
    }
    let mut s = 0x9e37_79b9_7f4a_7c15u64;
    let mut queries = Vec::new();
    let mut handles = Vec::new();
    for _ in 0..4096 {
        let i = (rng(&mut s) % u64::from(n)) as u32;
        let st = vnet.state(IfHandle(i)).unwrap();
        let t = st.tunnel.unwrap();
        queries.push((st.reqid.unwrap().get(), t.dst(), t.src()));
        handles.push(IfHandle(i));
    }
    let hot = (0..4096).map(|i| queries[i % 16]).collect();
    let mut c_chains = vec![Vec::new(); 32];
    for st in vnet.iter() {
        let (r, t) = (st.reqid.unwrap().get(), st.tunnel.unwrap());
        c_chains[(r.wrapping_mul(0x0100_0193) >> 27) as usize & 31].push((
            r,
            t.dst(),
            t.src(),
            st.handle,
        ));
    }
    Bench {
        vnet,
        tables,
        queries,
        hot,
        handles,
        c_chains,
    }
}

/// Input demux of one query.
#[inline]
pub fn input(b: &Bench, q: &Query) -> Option<IfHandle> {
    b.tables.input_lookup(q.0, &q.1, &q.2)
}

/// Output admission of one packet on interface `h`: fetch its state,
/// decide, pick the outbound policy slot.
#[inline]
pub fn output(b: &Bench, h: IfHandle, first_byte: u8) -> Option<usize> {
    let st = b.vnet.state(h)?;
    let c = OutputCheck {
        running: true,
        up: true,
        monitor: false,
        tunnel: st.tunnel.is_some(),
        first_byte: Some(first_byte),
        out_done_tag: false,
    };
    match output_admission(&c) {
        OutputVerdict::Send { inner } => PolicyTemplate::ROUTE_BASED.slot(Dir::Out, inner),
        OutputVerdict::Drop(_) => None,
    }
}

pub const SIZES: [u32; 3] = [1, 1_000, 100_000];

pub fn first_byte(i: usize) -> u8 {
    if i & 1 == 0 {
        0x45
    } else {
        0x60
    }
}

pub fn family(b: u8) -> Family {
    if b >> 4 == 4 {
        Family::Inet
    } else {
        Family::Inet6
    }
}
