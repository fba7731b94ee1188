//! Glue figures on the KPI model (benchmarks, not tests):
//! `glue_ir <output|input> <n> <iters>` loads the module, creates `n`
//! interfaces with tunnels, then runs `iters` packets through
//! `measure_output` (if_transmit) or `measure_input` (the IPSEC_IN hook).
//! Run under `valgrind --tool=callgrind --collect-atstart=no
//! --toggle-collect='*transmit_tramp*'` (output) or `'*hook_tramp*'`
//! (input) and sum the self cost of our crates' symbols (exact commands
//! in BENCHMARKS.md "Glue").
//! A fourth argument picks the packet (issue 12's cost): `ip` (default: a
//! bare IPv4 header, neither clamped nor PMTU-checked), `tcp` (a DF TCP
//! data segment: the clamp reads to the flags, the PMTU check runs), `syn`
//! (a DF SYN whose MSS is clamped); a fifth, `link1`, turns clamping off.
//! `glue_ir create <n>` prints the wall time of creating and configuring
//! `n` interfaces; `glue_ir memory <n>` what our malloc type holds per
//! interface (create, tunnel, reqid).  Without arguments (as `cargo bench`
//! runs it): a smoke run.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

#[path = "../tests/glue_common/mod.rs"]
mod glue_common;
use glue_common::*;
use kpi_model::ipsec::{input, InputOutcome, SaSpec};
use kpi_model::Model;
use std::hint::black_box;
use std::net::{IpAddr, Ipv4Addr};
use std::time::Instant;

fn remote(k: u32) -> IpAddr {
    IpAddr::V4(Ipv4Addr::from(0x0a00_0000u32 + k))
}

/// `n` interfaces ipsec0.. with tunnels 192.0.2.1 -> 10.x.y.z, up and
/// running; their (ifnet, reqid).
fn build(m: &Model, n: u32) -> Vec<(usize, u32)> {
    kpi_model::netinet::addr_event(ip("192.0.2.1"), true);
    (0..n)
        .map(|k| {
            let i = create(&format!("ipsec{k}"));
            assert_eq!(up(i), 0);
            assert_eq!(tunnel(i, ip("192.0.2.1"), remote(k)), 0);
            (i, get_reqid(m, i).1)
        })
        .collect()
}

#[inline(never)]
fn measure_output(ifs: &[(usize, u32)], pkts: &[*mut sys_bindings::mbuf::mbuf]) -> usize {
    let mut ok = 0;
    for (k, m) in pkts.iter().enumerate() {
        let (i, _) = ifs[k % ifs.len()];
        if kpi_model::ifnet::call_transmit(black_box(i), *m) == 0 {
            ok += 1;
        }
    }
    ok
}

#[inline(never)]
fn measure_input(ifs: &[(usize, u32)], sas: &[SaSpec], iters: usize) -> usize {
    let pkt = ip_packet(4, 64);
    let mut ok = 0;
    for k in 0..iters {
        let sa = &sas[k % sas.len()];
        if let InputOutcome::Delivered(d) = input(4, black_box(&pkt), sa, 0) {
            ok += usize::from(d.rcvif == ifs[k % ifs.len()].0);
        }
    }
    ok
}

/// A 64-byte IPv4 TCP segment with DF and an MSS option 1460 (the
/// checksum is not valid: the clamp does not verify it).
fn tcp_packet(flags: u8) -> Vec<u8> {
    let mut p = ip_packet(4, 64);
    p[6] = 0x40; // DF
    p[9] = 6; // TCP
    p[20 + 12] = 6 << 4; // data offset 24
    p[20 + 13] = flags;
    p[40..44].copy_from_slice(&[2, 4, 0x05, 0xb4]);
    p
}

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    let what = args.first().map_or("smoke", String::as_str);
    let n: u32 = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(10);
    let iters: usize = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(1000);
    let m = Model::start();
    load(&m);
    if what == "create" {
        let t = Instant::now();
        let ifs = build(&m, n);
        println!("create+configure n={n}: {:?}", t.elapsed());
        assert_eq!(ifs.len() as u32, n);
        return;
    }
    if what == "memory" {
        memory(&m, n);
        return;
    }
    let ifs = build(&m, n);
    let step = (ifs.len() / 4096).max(1);
    let sample: Vec<(usize, u32)> = ifs.iter().step_by(step).copied().collect();
    let sas: Vec<SaSpec> = sample
        .iter()
        .enumerate()
        .map(|(j, (_, r))| SaSpec::esp_tunnel(remote((j * step) as u32), ip("192.0.2.1"), *r))
        .collect();
    let pkt = match args.get(3).map(String::as_str) {
        Some("tcp") => tcp_packet(0x10),
        Some("syn") => tcp_packet(0x02),
        _ => ip_packet(4, 64),
    };
    if args.get(4).map(String::as_str) == Some("link1") {
        for (i, _) in &sample {
            kpi_model::ifnet::if_setflagbits(*i as *mut _, 0x2000, 0);
        }
    }
    let pkts: Vec<_> = (0..iters)
        .map(|_| kpi_model::mbuf::packet(&[&pkt]))
        .collect();
    let r = match what {
        "input" => measure_input(&sample, &sas, iters),
        "output" => measure_output(&sample, &pkts),
        _ => measure_output(&sample, &pkts) + measure_input(&sample, &sas, iters) - iters,
    };
    if what == "input" {
        pkts.into_iter()
            .for_each(|p| kpi_model::mbuf::free_chain(p, "bench"));
    }
    assert_eq!(r, iters, "{what}");
    println!("{what} n={n} iters={iters} ok");
}

/// `glue_ir memory <n>`: what our module keeps per interface once `n`
/// interfaces are created, tunnelled and given a reqid, as `make
/// vm-bench` creates them (issue 14's memory figure, explained): live
/// bytes and allocations of our malloc type per interface, and the
/// allocation sizes.
fn memory(m: &Model, n: u32) {
    let (n0, b0) = kpi_model::malloc::in_use(kpi_model::malloc::RUST_ALLOC_TYPE);
    kpi_model::netinet::addr_event(ip("192.0.2.1"), true);
    for k in 0..n {
        let i = create(&format!("ipsec{}", 1000 + k));
        assert_eq!(tunnel(i, ip("192.0.2.1"), remote(k)), 0);
        assert_eq!(set_reqid(m, i, 1000 + k), 0);
    }
    let (n1, b1) = kpi_model::malloc::in_use(kpi_model::malloc::RUST_ALLOC_TYPE);
    let per = |x: usize| x as f64 / f64::from(n);
    println!(
        "if_ipsec n={n}: {:.2} allocations, {:.0} bytes per interface",
        per(n1 - n0),
        per(b1 - b0)
    );
    for (size, count) in kpi_model::malloc::sizes_of(kpi_model::malloc::RUST_ALLOC_TYPE) {
        println!("  size {size:>7}: {count}");
    }
}
