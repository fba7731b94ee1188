//! Scenarios: output, input and source-address events (FreeBSD 14.2
//! sys/net/if_ipsec.c ipsec_transmit, ipsec_if_input, ipsec_srcaddr,
//! b66633d79ade).
mod glue_common;
use glue_common::*;
use kpi_model::ipsec::{input, InputOutcome, SaSpec};
use kpi_model::Model;

const ENETDOWN: i32 = 50;
const EAFNOSUPPORT: i32 = 47;
const EXAMPLE_SRC: &str = "192.0.2.1";
const EXAMPLE_DST: &str = "198.51.100.7";

/// A running, up interface with a v4 tunnel whose source is local.
fn ready(m: &Model, name: &str) -> usize {
    kpi_model::netinet::addr_event(ip(EXAMPLE_SRC), true);
    let i = create(name);
    assert_eq!(up(i), 0);
    assert_eq!(tunnel(i, ip(EXAMPLE_SRC), ip(EXAMPLE_DST)), 0);
    assert!(running(i), "RUNNING after a tunnel with a local source");
    let _ = m;
    i
}

fn set_flags(i: usize, set: i32, clear: i32) {
    kpi_model::ifnet::if_setflagbits(i as *mut _, set, clear);
}

/// mirrors ipsec_transmit: v4 and v6 inner packets go to
/// ipsec4/6_process_packet with the outbound policy of their family, the
/// tunnel fib, a BPF tap with the 4-byte family, OPACKETS/OBYTES.
#[test]
fn output_v4_and_v6_through_the_right_policy() {
    let m = Model::start();
    load(&m);
    let i = ready(&m, "ipsec0");
    kpi_model::vnet::set_numfibs(4);
    assert_eq!(set_fib(i, 2), 0);
    kpi_model::ifnet::set_listener(i, true);
    assert_eq!(send(i, &ip_packet(4, 60)), 0);
    assert_eq!(send(i, &ip_packet(6, 80)), 0);
    let sent = m.take_sent();
    assert_eq!(sent.len(), 2);
    let (a, b) = (&sent[0], &sent[1]);
    assert_eq!((a.ipv, a.policy.dir, a.policy.family, a.fib), (4, 2, 2, 2));
    assert_eq!((b.ipv, b.policy.dir, b.policy.family, b.fib), (6, 2, 28, 2));
    assert_eq!(a.policy.sa_dst, Some(ip(EXAMPLE_DST)));
    let taps = kpi_model::ifnet::take_taps(i);
    assert_eq!(taps.len(), 2);
    assert_eq!(taps[0].0, 2u32.to_ne_bytes().to_vec());
    assert_eq!(taps[1].0, 28u32.to_ne_bytes().to_vec());
    assert_eq!(counter(i, OPACKETS), 2);
    assert_eq!(counter(i, OBYTES), 140);
    unload(&m);
    m.assert_clean();
}

/// mirrors ipsec_transmit's admission: ENETDOWN when down, not running,
/// monitor or without tunnel; EAFNOSUPPORT for a non-IP packet; the
/// IPSEC_OUT_DONE loop tag is ENETDOWN; the mbuf is freed (the model
/// checks exactly once).  Counters (C: OERRORS for all): cannot-send-now
/// drops are OQDROPS, the non-IP packet OERRORS.
#[test]
fn output_admission_drops() {
    let m = Model::start();
    load(&m);
    let idle = create("ipsec9");
    assert_eq!(up(idle), 0);
    assert_eq!(send(idle, &ip_packet(4, 40)), ENETDOWN);
    let i = ready(&m, "ipsec0");
    assert_eq!(send(i, &[0x50; 40]), EAFNOSUPPORT);
    let mm = kpi_model::mbuf::packet(&[&ip_packet(4, 40)]);
    kpi_model::mbuf::add_tag(mm, 0, sys_bindings::mbuf::PACKET_TAG_IPSEC_OUT_DONE);
    assert_eq!(kpi_model::ifnet::call_transmit(i, mm), ENETDOWN);
    set_flags(i, 0x40000, 0); // IFF_MONITOR
    assert_eq!(send(i, &ip_packet(4, 40)), ENETDOWN);
    set_flags(i, 0, 0x40000 | 1); // down
    assert_eq!(send(i, &ip_packet(4, 40)), ENETDOWN);
    assert_eq!((counter(i, OERRORS), counter(i, OQDROPS)), (1, 3));
    assert_eq!((counter(idle, OERRORS), counter(idle, OQDROPS)), (0, 1));
    assert!(m.take_sent().is_empty());
    unload(&m);
    m.assert_clean();
}

/// mirrors ipsec_transmit: an error from ipsec4_process_packet counts
/// OERRORS and is returned; the mbuf and the reference are consumed.
#[test]
fn output_ipsec_error_counts() {
    let m = Model::start();
    load(&m);
    let i = ready(&m, "ipsec0");
    kpi_model::ipsec::queue_output_error(55);
    assert_eq!(send(i, &ip_packet(4, 40)), 55);
    assert_eq!((counter(i, OPACKETS), counter(i, OERRORS)), (1, 1));
    let _ = m.take_sent();
    unload(&m);
    m.assert_clean();
}

/// mirrors ipsec_if_input: reqid + SA addresses select the interface,
/// ports ignored (NAT-T): rcvif, interface fib, BPF, IPACKETS/IBYTES;
/// the packet continues to netisr.
#[test]
fn input_demux_including_natt() {
    let m = Model::start();
    load(&m);
    let a = ready(&m, "ipsec0");
    let b = create("ipsec1");
    assert_eq!(up(b), 0);
    assert_eq!(tunnel(b, ip(EXAMPLE_SRC), ip("203.0.113.5")), 0);
    let (_, ra) = get_reqid(&m, a);
    let (_, rb) = get_reqid(&m, b);
    kpi_model::ifnet::set_listener(b, true);
    let sa = SaSpec::esp_tunnel(ip(EXAMPLE_DST), ip(EXAMPLE_SRC), ra);
    match input(4, &ip_packet(4, 64), &sa, 0) {
        InputOutcome::Delivered(d) => assert_eq!(d.rcvif, a),
        o => panic!("{o:?}"),
    }
    let mut natt = SaSpec::esp_tunnel(ip("203.0.113.5"), ip(EXAMPLE_SRC), rb);
    natt.sport = 4500;
    natt.dport = 4500;
    match input(6, &ip_packet(6, 80), &natt, 0) {
        InputOutcome::Delivered(d) => assert_eq!(d.rcvif, b),
        o => panic!("{o:?}"),
    }
    assert_eq!((counter(a, IPACKETS), counter(a, IBYTES)), (1, 64));
    assert_eq!(counter(b, IPACKETS), 1);
    let taps = kpi_model::ifnet::take_taps(b);
    assert_eq!(taps.len(), 1);
    assert_eq!(taps[0].0, 28u32.to_ne_bytes().to_vec());
    unload(&m);
    m.assert_clean();
}

/// mirrors ipsec_if_input's pass-through cases: an unknown reqid, a
/// known reqid with other addresses, a transport-mode or non-ESP SA are
/// left untouched (rcvif unchanged); a dead SA is dropped.
#[test]
fn input_unknown_sa_untouched_dead_sa_dropped() {
    let m = Model::start();
    load(&m);
    let a = ready(&m, "ipsec0");
    let (_, ra) = get_reqid(&m, a);
    let cases = [
        SaSpec::esp_tunnel(ip(EXAMPLE_DST), ip(EXAMPLE_SRC), ra + 1),
        SaSpec::esp_tunnel(ip("203.0.113.1"), ip(EXAMPLE_SRC), ra),
        SaSpec {
            mode: 1,
            ..SaSpec::esp_tunnel(ip(EXAMPLE_DST), ip(EXAMPLE_SRC), ra)
        },
        SaSpec {
            proto: 51,
            ..SaSpec::esp_tunnel(ip(EXAMPLE_DST), ip(EXAMPLE_SRC), ra)
        },
    ];
    for sa in &cases {
        match input(4, &ip_packet(4, 40), sa, 0x1234) {
            InputOutcome::Delivered(d) => assert_eq!(d.rcvif, 0x1234, "{sa:?}"),
            o => panic!("{sa:?}: {o:?}"),
        }
    }
    let dead = SaSpec {
        state: 3,
        ..SaSpec::esp_tunnel(ip(EXAMPLE_DST), ip(EXAMPLE_SRC), ra)
    };
    assert_eq!(
        input(4, &ip_packet(4, 40), &dead, 0),
        InputOutcome::Consumed
    );
    assert_eq!(counter(a, IPACKETS), 0);
    unload(&m);
    m.assert_clean();
}

/// mirrors ipsec_if_input: a down interface drops (and, unlike C, counts
/// IQDROPS); MONITOR counts the packet, then drops it (IQDROPS too).
#[test]
fn input_down_and_monitor_drops() {
    let m = Model::start();
    load(&m);
    let a = ready(&m, "ipsec0");
    let (_, ra) = get_reqid(&m, a);
    let sa = SaSpec::esp_tunnel(ip(EXAMPLE_DST), ip(EXAMPLE_SRC), ra);
    set_flags(a, 0x40000, 0);
    assert_eq!(input(4, &ip_packet(4, 40), &sa, 0), InputOutcome::Consumed);
    assert_eq!((counter(a, IPACKETS), counter(a, IQDROPS)), (1, 1));
    set_flags(a, 0, 0x40000 | 1);
    assert_eq!(input(4, &ip_packet(4, 40), &sa, 0), InputOutcome::Consumed);
    assert_eq!((counter(a, IPACKETS), counter(a, IQDROPS)), (1, 2));
    unload(&m);
    m.assert_clean();
}

/// mirrors ipsec_srcaddr / ipsec_set_running: RUNNING follows whether
/// the tunnel source is a local address, for every interface using it.
#[test]
fn srcaddr_toggles_running() {
    let m = Model::start();
    load(&m);
    let a = create("ipsec0");
    let b = create("ipsec1");
    assert_eq!(tunnel(a, ip(EXAMPLE_SRC), ip(EXAMPLE_DST)), 0);
    assert_eq!(tunnel(b, ip(EXAMPLE_SRC), ip("203.0.113.5")), 0);
    assert!(!running(a) && !running(b), "source not local yet");
    kpi_model::netinet::addr_event(ip(EXAMPLE_SRC), true);
    assert!(running(a) && running(b));
    kpi_model::netinet::addr_event(ip("192.0.2.99"), true);
    assert!(running(a));
    kpi_model::netinet::addr_event(ip(EXAMPLE_SRC), false);
    assert!(!running(a) && !running(b));
    assert_eq!(untunnel(b), 0);
    kpi_model::netinet::addr_event(ip(EXAMPLE_SRC), true);
    assert!(running(a) && !running(b), "b has no tunnel any more");
    unload(&m);
    m.assert_clean();
}
