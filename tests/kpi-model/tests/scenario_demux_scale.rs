//! Input demux across table resizes: the demux buckets carry the ifnet
//! of each entry (noted when a bucket is staged), so every rebuild of
//! the directory (growth while tunnels are added, shrinking while
//! interfaces go) must keep each reqid pointing at its own interface.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod glue_common;
use glue_common::*;
use kpi_model::ipsec::{input, InputOutcome, SaSpec};
use kpi_model::Model;
use std::net::{IpAddr, Ipv4Addr};

const LOCAL: &str = "192.0.2.1";

fn remote(k: u32) -> IpAddr {
    IpAddr::V4(Ipv4Addr::from(0x0a00_0000u32 + k))
}

/// rcvif the packet got for SA (remote(k) -> LOCAL, reqid), 0 if it was
/// left untouched; panics if a hook consumed it.
fn rcvif_for(k: u32, reqid: u32) -> usize {
    let sa = SaSpec::esp_tunnel(remote(k), ip(LOCAL), reqid);
    match input(4, &ip_packet(4, 64), &sa, 0) {
        InputOutcome::Delivered(d) => d.rcvif,
        o => panic!("{o:?}"),
    }
}

/// mirrors if_ipsec.c ipsec_if_input (reqid + SA addresses -> the
/// interface; unknown -> untouched) with 200 interfaces: after the demux
/// directory grew from 8 to 256 buckets, after a tunnel moved, and after
/// seven in eight interfaces were destroyed (the directory shrinks).
#[test]
fn input_demux_follows_table_resizes() {
    let m = Model::start();
    load(&m);
    kpi_model::netinet::addr_event(ip(LOCAL), true);
    let n = 200u32;
    let ifs: Vec<(usize, u32)> = (0..n)
        .map(|k| {
            let i = create(&format!("ipsec{k}"));
            assert_eq!(up(i), 0);
            assert_eq!(tunnel(i, ip(LOCAL), remote(k)), 0);
            (i, get_reqid(&m, i).1)
        })
        .collect();
    for (k, &(i, r)) in ifs.iter().enumerate() {
        assert_eq!(rcvif_for(k as u32, r), i, "ipsec{k}");
    }
    // A tunnel change rewrites that reqid's entry: old remote unknown.
    let (i8, r8) = ifs[8];
    assert_eq!(tunnel(i8, ip(LOCAL), remote(1000)), 0);
    assert_eq!(rcvif_for(8, r8), 0);
    assert_eq!(rcvif_for(1000, r8), i8);
    // Keep one in eight: the others' SAs are left alone, the rest still
    // reach their own interface.
    for k in (0..n).filter(|k| k % 8 != 0) {
        assert_eq!(kpi_model::clone::destroy(&format!("ipsec{k}")), 0);
    }
    for (k, &(i, r)) in ifs.iter().enumerate() {
        let want = match k {
            8 => 0,
            _ if k % 8 != 0 => 0,
            _ => i,
        };
        assert_eq!(rcvif_for(k as u32, r), want, "ipsec{k}");
    }
    assert_eq!(rcvif_for(1000, r8), i8);
    unload(&m);
    m.assert_clean();
}
