//! Wall-clock bench (criterion) of one SA event as the link-state task
//! handles it (issue 11): parse the PF_KEY message, update the SA book,
//! evaluate the one interface it names; with the book holding the SAs of
//! 1 and of 10,000 tunnels.  `cargo bench -p if_ipsec --bench sabook`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use criterion::{black_box, criterion_group, criterion_main, BenchmarkId, Criterion};
use if_ipsec::addr::Addr;
use if_ipsec::endpoint::Tunnel;
use if_ipsec::reqid::Reqid;
use if_ipsec::sabook::SaBook;
use if_ipsec::sadb;
use sys_bindings::net::pfkeyv2::*;
use zerocopy::IntoBytes;

fn addr_ext(kind: u16, a: [u8; 4]) -> Vec<u8> {
    let h = sadb_address {
        sadb_address_len: 3,
        sadb_address_exttype: kind,
        ..Default::default()
    };
    let mut v = h.as_bytes().to_vec();
    let mut sa = [0u8; 16];
    sa[0] = 16;
    sa[1] = 2;
    sa[4..8].copy_from_slice(&a);
    v.extend_from_slice(&sa);
    v
}

/// An SADB_ADD echo (SA, X_SA2, addresses) or SADB_DELETE (no X_SA2).
fn msg(kind: u8, spi: u32, src: [u8; 4], dst: [u8; 4], reqid: u32) -> Vec<u8> {
    let sa = sadb_sa {
        sadb_sa_len: 2,
        sadb_sa_exttype: SADB_EXT_SA,
        sadb_sa_spi: spi.to_be(),
        sadb_sa_state: 1,
        ..Default::default()
    };
    let sa2 = sadb_x_sa2 {
        sadb_x_sa2_len: 2,
        sadb_x_sa2_exttype: SADB_X_EXT_SA2,
        sadb_x_sa2_mode: 2,
        sadb_x_sa2_reqid: reqid,
        ..Default::default()
    };
    let mut body = sa.as_bytes().to_vec();
    if kind == SADB_ADD {
        body.extend_from_slice(sa2.as_bytes());
    }
    body.extend(addr_ext(SADB_EXT_ADDRESS_SRC, src));
    body.extend(addr_ext(SADB_EXT_ADDRESS_DST, dst));
    let h = sadb_msg {
        sadb_msg_version: PF_KEY_V2,
        sadb_msg_type: kind,
        sadb_msg_satype: SADB_SATYPE_ESP,
        sadb_msg_len: ((16 + body.len()) / 8) as u16,
        ..Default::default()
    };
    let mut v = h.as_bytes().to_vec();
    v.extend(body);
    v
}

fn local(n: u32) -> [u8; 4] {
    [10, (n >> 16) as u8, (n >> 8) as u8, n as u8]
}
const HUB: [u8; 4] = [192, 0, 2, 1];

/// A book with both SAs of `tunnels` tunnels (reqid n+1).
fn book(tunnels: u32) -> SaBook {
    let mut b = SaBook::new(7).unwrap();
    for n in 0..tunnels {
        for (spi, s, d) in [(2 * n + 1, HUB, local(n)), (2 * n + 2, local(n), HUB)] {
            let m = sadb::parse(&msg(SADB_ADD, spi, s, d, n + 1)).unwrap();
            b.apply(&m).unwrap();
        }
    }
    b
}

fn benches(c: &mut Criterion) {
    let mut g = c.benchmark_group("sa_event");
    for n in [1u32, 10_000] {
        let mut b = book(n);
        // One tunnel's inbound SA deleted and added again: two events,
        // each parsed, applied and its interface evaluated.
        let t = Tunnel::new(Addr::V4(HUB), Addr::V4(local(0))).unwrap();
        let r = Reqid::new(1);
        let del = msg(SADB_DELETE, 2, local(0), HUB, 0);
        let add = msg(SADB_ADD, 2, local(0), HUB, 1);
        g.bench_with_input(BenchmarkId::from_parameter(n), &n, |bn, _| {
            bn.iter(|| {
                for m in [&del, &add] {
                    let m = sadb::parse(black_box(m)).unwrap();
                    black_box(b.apply(&m).unwrap());
                    black_box(b.link(Some(t), r));
                }
            })
        });
    }
    g.finish();
}

criterion_group!(sabook, benches);
criterion_main!(sabook);
