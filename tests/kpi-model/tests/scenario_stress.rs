//! Scenarios: concurrency and allocation failure (what FreeBSD 14.2
//! sys/net/if_ipsec.c, b66633d79ade, must survive: ipsec_set_tunnel under
//! traffic, ipsec_clone_destroy racing ipsec_transmit, M_NOWAIT failures
//! anywhere in configuration).
mod glue_common;
use glue_common::*;
use kpi_model::Model;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

const ENOMEM: i32 = 12;

/// mirrors ipsec_set_tunnel / ipsec_set_reqid under traffic, improved:
/// C clears RUNNING and drops while it rebuilds; here the new policies
/// are registered before the old are withdrawn, so a sender sees no error
/// while the remote address and the reqid change 200 times.
#[test]
fn reconfiguration_under_traffic_has_no_drops() {
    let m = Model::start();
    load(&m);
    kpi_model::netinet::addr_event(ip("192.0.2.1"), true);
    let i = create("ipsec0");
    assert_eq!(up(i), 0);
    assert_eq!(tunnel(i, ip("192.0.2.1"), ip("198.51.100.7")), 0);
    let stop = Arc::new(AtomicBool::new(false));
    let (sent, errs) = (Arc::new(AtomicU64::new(0)), Arc::new(AtomicU64::new(0)));
    let t = {
        let (stop, sent, errs) = (stop.clone(), sent.clone(), errs.clone());
        std::thread::spawn(move || {
            let pkt = ip_packet(4, 40);
            while !stop.load(Ordering::Relaxed) || sent.load(Ordering::Relaxed) < 1000 {
                if send(i, &pkt) != 0 {
                    errs.fetch_add(1, Ordering::Relaxed);
                }
                sent.fetch_add(1, Ordering::Relaxed);
            }
        })
    };
    for k in 0..200u32 {
        let dst = if k % 2 == 0 {
            "203.0.113.9"
        } else {
            "198.51.100.7"
        };
        assert_eq!(tunnel(i, ip("192.0.2.1"), ip(dst)), 0);
        if k % 10 == 0 {
            assert_eq!(set_reqid(&m, i, 1000 + k), 0);
        }
    }
    stop.store(true, Ordering::Relaxed);
    assert!(t.join().is_ok());
    assert_eq!(
        errs.load(Ordering::Relaxed),
        0,
        "drops during reconfiguration"
    );
    assert_eq!(m.take_sent().len() as u64, sent.load(Ordering::Relaxed));
    unload(&m);
    m.assert_clean();
}

/// mirrors ipsec_clone_destroy racing ipsec_transmit: senders look the
/// interface up inside the net epoch (as the stack does through its
/// route) and transmit; the main thread creates, configures and destroys
/// it repeatedly.  No use after free, every mbuf freed once, no leak.
#[test]
fn destroy_while_threads_push_packets() {
    let m = Model::start();
    load(&m);
    kpi_model::netinet::addr_event(ip("192.0.2.1"), true);
    let v = v0();
    let stop = Arc::new(AtomicBool::new(false));
    let pushed = Arc::new(AtomicU64::new(0));
    let threads: Vec<_> = (0..3)
        .map(|_| {
            let (stop, pushed) = (stop.clone(), pushed.clone());
            std::thread::spawn(move || {
                let pkt = ip_packet(4, 40);
                while !stop.load(Ordering::Relaxed) || pushed.load(Ordering::Relaxed) < 100_000 {
                    kpi_model::epoch::with_section(|| {
                        if let Some(i) = kpi_model::ifnet::by_name(v, "ipsec0") {
                            let _ = send(i.addr, &pkt);
                        }
                    });
                    pushed.fetch_add(1, Ordering::Relaxed);
                }
            })
        })
        .collect();
    let mut cycles = 0;
    while pushed.load(Ordering::Relaxed) < 100_000 || cycles < 50 {
        let i = create("ipsec0");
        assert_eq!(up(i), 0);
        assert_eq!(tunnel(i, ip("192.0.2.1"), ip("198.51.100.7")), 0);
        assert_eq!(kpi_model::clone::destroy("ipsec0"), 0);
        cycles += 1;
    }
    stop.store(true, Ordering::Relaxed);
    for t in threads {
        assert!(t.join().is_ok());
    }
    let _ = m.take_sent();
    unload(&m);
    m.assert_clean();
}

/// One configuration sequence; every step must succeed or fail cleanly
/// with ENOMEM (or EAGAIN from key_register_ifnet).
fn sequence(m: &Model) -> Vec<i32> {
    let mut r = Vec::new();
    let c = kpi_model::clone::create("ipsec0", 0);
    r.push(c.as_ref().err().copied().unwrap_or(0));
    let i = ifp("ipsec0");
    if i != 0 {
        r.push(tunnel(i, ip("192.0.2.1"), ip("198.51.100.7")));
        r.push(tunnel(i, ip("192.0.2.1"), ip("203.0.113.9")));
        r.push(set_reqid(m, i, 4242));
        r.push(tunnel(i, ip("2001:db8::1"), ip("2001:db8::2")));
        r.push(untunnel(i));
        r.push(tunnel(i, ip("192.0.2.1"), ip("198.51.100.7")));
        r.push(kpi_model::clone::destroy("ipsec0"));
    }
    r
}

/// mirrors the M_NOWAIT failure paths of ipsec_clone_create,
/// ipsec_set_tunnel (key_newsp / ipsec_newisr) and the tables: each
/// failable allocation of the sequence fails once in turn; every request
/// returns 0 or ENOMEM, and after the unload nothing is leaked.
#[test]
fn every_allocation_site_failing_once() {
    let mut n = 0;
    loop {
        let m = Model::start();
        load(&m);
        let (a0, f0, _) = m.alloc_counts();
        m.fail_alloc_nth(n);
        let r = sequence(&m);
        let (_, f1, _) = m.alloc_counts();
        m.fail_alloc_none();
        assert!(r.iter().all(|e| *e == 0 || *e == ENOMEM), "site {n}: {r:?}");
        if ifp("ipsec0") != 0 {
            assert_eq!(kpi_model::clone::destroy("ipsec0"), 0);
        }
        unload(&m);
        let p = m.problems();
        assert!(p.is_empty(), "site {n} ({r:?}): {p:#?}");
        if f1 == f0 {
            let _ = a0;
            break; // the sequence had fewer than n + 1 failable allocations
        }
        n += 1;
        assert!(n < 10_000, "runaway");
    }
    eprintln!("allocation sites exercised: {n}");
    assert!(n > 10, "only {n} allocation sites exercised");
}

/// mirrors ipsec_clone_destroy racing ipsec_if_input: decrypted packets
/// for the interface's SA keep arriving while it is created, configured
/// and destroyed; each is delivered (to it or, with no interface, left
/// untouched) or dropped while it goes down (C's order: RUNNING is
/// cleared first), never handed to a freed interface (the model flags any
/// use after free) and never leaked.
#[test]
fn destroy_while_input_arrives() {
    use kpi_model::ipsec::{input, SaSpec};
    let m = Model::start();
    load(&m);
    kpi_model::netinet::addr_event(ip("192.0.2.1"), true);
    let stop = Arc::new(AtomicBool::new(false));
    let seen = Arc::new(AtomicU64::new(0));
    let t = {
        let (stop, seen) = (stop.clone(), seen.clone());
        std::thread::spawn(move || {
            let sa = SaSpec::esp_tunnel(ip("198.51.100.7"), ip("192.0.2.1"), 500);
            let pkt = ip_packet(4, 40);
            while !stop.load(Ordering::Relaxed) || seen.load(Ordering::Relaxed) < 20_000 {
                let _ = input(4, &pkt, &sa, 0);
                seen.fetch_add(1, Ordering::Relaxed);
            }
        })
    };
    let mut cycles = 0;
    while (seen.load(Ordering::Relaxed) < 20_000 || cycles < 50) && !t.is_finished() {
        let i = create("ipsec0");
        assert_eq!(up(i), 0);
        assert_eq!(set_reqid(&m, i, 500), 0);
        assert_eq!(tunnel(i, ip("192.0.2.1"), ip("198.51.100.7")), 0);
        assert_eq!(kpi_model::clone::destroy("ipsec0"), 0);
        cycles += 1;
    }
    stop.store(true, Ordering::Relaxed);
    assert!(t.join().is_ok());
    unload(&m);
    m.assert_clean();
}
