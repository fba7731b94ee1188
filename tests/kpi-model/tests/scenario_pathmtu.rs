//! Scenarios: MSS clamping and PMTU feedback (issue 12).  The C driver's
//! ipsec_transmit / ipsec_if_input (sys/net/if_ipsec.c, 14.2
//! b66633d79ade) change no byte of the inner packet and send no ICMP:
//! `link1` and packets that fit keep exactly that.  The feedback mirrors
//! the kernel's own ipsec4_check_pmtu / ipsec6_check_pmtu
//! (sys/netipsec/ipsec_output.c): path MTU from the host cache, else the
//! route (ipsec_get_pmtu); icmp_error need-frag / icmp6_error too-big
//! with the inner MTU that fits; the packet is consumed.
#![allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod glue_common;
use glue_common::*;
use if_ipsec::mss::internet_checksum;
use kpi_model::ipsec::{input, InputOutcome, SaSpec};
use kpi_model::keysock::{self as ks, Sa};
use kpi_model::pmtu;
use kpi_model::Model;

const A: &str = "192.0.2.1";
const B: &str = "198.51.100.7";
const IFF_LINK1: i32 = 0x2000;

/// A running interface with tunnel A -> B and reqid 100.
fn ready(m: &Model) -> usize {
    load(m);
    ks::run_tasks();
    kpi_model::netinet::addr_event(ip(A), true);
    let i = create("ipsec0");
    assert_eq!(up(i), 0);
    assert_eq!(tunnel(i, ip(A), ip(B)), 0);
    assert_eq!(set_reqid(m, i, 100), 0);
    i
}

/// An IPv4/IPv6 TCP segment with `flags` and an MSS option `mss`, valid
/// checksum; (packet, TCP header offset).
fn syn(v6: bool, flags: u8, mss: u16) -> (Vec<u8>, usize) {
    let mut t = vec![0u8; 24];
    t[12] = 6 << 4;
    t[13] = flags;
    t[20..24].copy_from_slice(&[2, 4, (mss >> 8) as u8, mss as u8]);
    let (src, dst): (Vec<u8>, Vec<u8>) = if v6 {
        ([0xfd; 16].to_vec(), [0xfe; 16].to_vec())
    } else {
        (vec![10, 0, 0, 1], vec![10, 0, 0, 2])
    };
    let mut ps = [src.clone(), dst.clone()].concat();
    if v6 {
        ps.extend_from_slice(&(t.len() as u32).to_be_bytes());
        ps.extend_from_slice(&[0, 0, 0, 6]);
    } else {
        ps.extend_from_slice(&[0, 6, 0, t.len() as u8]);
    }
    let c = internet_checksum(&[&ps, &t]);
    t[16..18].copy_from_slice(&c.to_be_bytes());
    let mut p = if v6 {
        let mut h = vec![0x60, 0, 0, 0, 0, t.len() as u8, 6, 64];
        h.extend_from_slice(&src);
        h.extend_from_slice(&dst);
        h
    } else {
        let mut h = vec![0x45, 0, 0, 44, 0, 0, 0x40, 0, 64, 6, 0, 0];
        h.extend_from_slice(&src);
        h.extend_from_slice(&dst);
        h
    };
    let th = p.len();
    p.extend_from_slice(&t);
    (p, th)
}

fn mss_of(p: &[u8], th: usize) -> u16 {
    u16::from_be_bytes([p[th + 22], p[th + 23]])
}

fn csum_ok(v6: bool, p: &[u8], th: usize) -> bool {
    let t = &p[th..];
    let mut ps = if v6 {
        [&p[8..24], &p[24..40]].concat()
    } else {
        [&p[12..16], &p[16..20]].concat()
    };
    if v6 {
        ps.extend_from_slice(&(t.len() as u32).to_be_bytes());
        ps.extend_from_slice(&[0, 0, 0, 6]);
    } else {
        ps.extend_from_slice(&[0, 6, 0, t.len() as u8]);
    }
    internet_checksum(&[&ps, t]) == 0
}

/// Output: SYN and SYN-ACK MSS lowered to MTU-40 / MTU-60 (default MTU
/// 1400), checksum still valid; with `link1` the packet is C's, byte for
/// byte.
#[test]
fn output_syn_is_clamped_unless_link1() {
    let m = Model::start();
    let i = ready(&m);
    for (v6, want) in [(false, 1360), (true, 1340)] {
        let (p, th) = syn(v6, 0x02, 1460);
        assert_eq!(send(i, &p), 0);
        let (q, _) = syn(v6, 0x12, 8960);
        assert_eq!(send(i, &q), 0);
        let sent = m.take_sent();
        assert_eq!(sent.len(), 2);
        for s in &sent {
            assert_eq!(mss_of(&s.bytes, th), want);
            assert!(csum_ok(v6, &s.bytes, th));
        }
    }
    kpi_model::ifnet::if_setflagbits(i as *mut _, IFF_LINK1, 0);
    let (p, _) = syn(false, 0x02, 1460);
    assert_eq!(send(i, &p), 0);
    assert_eq!(m.take_sent()[0].bytes, p, "link1: C's packet unchanged");
    unload(&m);
    m.assert_clean();
}

/// The clamp follows the MTU; data segments and small MSS are untouched.
#[test]
fn clamp_follows_mtu_and_leaves_the_rest() {
    let m = Model::start();
    let i = ready(&m);
    let mut r = vec![0u8; 32];
    r[..7].copy_from_slice(b"ipsec0\0");
    r[16..20].copy_from_slice(&1300i32.to_ne_bytes());
    assert_eq!(
        kpi_model::ifnet::call_ioctl(i, sys_bindings::net::ioctl::SIOCSIFMTU as _, &mut r),
        0
    );
    let (p, th) = syn(false, 0x02, 1460);
    assert_eq!(send(i, &p), 0);
    let (ack, _) = syn(false, 0x10, 1460);
    assert_eq!(send(i, &ack), 0);
    let (small, _) = syn(false, 0x02, 536);
    assert_eq!(send(i, &small), 0);
    let sent = m.take_sent();
    assert_eq!(mss_of(&sent[0].bytes, th), 1260);
    assert_eq!(sent[1].bytes, ack);
    assert_eq!(sent[2].bytes, small);
    unload(&m);
    m.assert_clean();
}

/// M_WRITABLE: a cluster shared with another reference (a socket
/// buffer's copy) is never written; the packet goes on unchanged.
#[test]
fn shared_cluster_is_not_written() {
    let m = Model::start();
    let i = ready(&m);
    let (mut p, _) = syn(false, 0x02, 1460);
    p.resize(400, 0); // past MHLEN: external storage
    let mb = kpi_model::mbuf::packet(&[&p]);
    kpi_model::mbuf::share_cluster(mb);
    assert_eq!(kpi_model::ifnet::call_transmit(i, mb), 0);
    assert_eq!(m.take_sent()[0].bytes, p);
    let (mut q, th) = syn(false, 0x02, 1460);
    q.resize(400, 0);
    assert_eq!(send(i, &q), 0, "a cluster of our own is written");
    assert_eq!(mss_of(&m.take_sent()[0].bytes, th), 1360);
    unload(&m);
    m.assert_clean();
}

/// Input (C ipsec_if_input delivers unchanged): the decrypted SYN-ACK's
/// MSS is clamped before netisr sees it.
#[test]
fn input_syn_ack_is_clamped() {
    let m = Model::start();
    let i = ready(&m);
    let sa = SaSpec::esp_tunnel(ip(B), ip(A), 100);
    let (p, th) = syn(false, 0x12, 1460);
    match input(4, &p, &sa, 0) {
        InputOutcome::Delivered(d) => {
            assert_eq!(d.rcvif, i);
            assert_eq!(mss_of(&d.bytes, th), 1360);
            assert!(csum_ok(false, &d.bytes, th));
        }
        o => panic!("{o:?}"),
    }
    unload(&m);
    m.assert_clean();
}

/// mirrors ipsec4_check_pmtu: a DF packet (ipsec0 at MTU 1450 here)
/// that does not fit the outer path with this tunnel's overhead gets need-frag with the inner MTU
/// that fits (worst-case ESP while no SA is known: 1500 minus 20, 8
/// (NAT-T), 8, 16, 32 and 2 is 1414 room, in blocks of 16: 1406); a packet
/// without DF goes on (the outer header fragments); with `link1` (C's
/// MTU handling) every packet goes on.
#[test]
fn df_packet_over_the_path_gets_need_frag() {
    let m = Model::start();
    let i = ready(&m);
    let mut big = ip_packet(4, 1450);
    big[6] = 0x40; // DF
    assert_eq!(send(i, &big), 0, "consumed like C's EINPROGRESS");
    assert!(m.take_sent().is_empty(), "not handed to IPsec");
    let icmp = pmtu::take_sent();
    assert_eq!(icmp.len(), 1);
    assert_eq!(
        (icmp[0].v, icmp[0].ty, icmp[0].code, icmp[0].mtu),
        (4, 3, 4, 1406)
    );
    assert_eq!(icmp[0].quoted, big);
    big[6] = 0;
    assert_eq!(send(i, &big), 0);
    assert_eq!(m.take_sent().len(), 1, "no DF: sent on");
    let mut fits = ip_packet(4, 1406);
    fits[6] = 0x40;
    assert_eq!(send(i, &fits), 0);
    assert_eq!(m.take_sent().len(), 1, "fits: sent on");
    assert!(pmtu::take_sent().is_empty());
    // link1: C's MTU handling, the packet goes to IPsec as it is.
    kpi_model::ifnet::if_setflagbits(i as *mut _, IFF_LINK1, 0);
    big[6] = 0x40;
    assert_eq!(send(i, &big), 0);
    assert_eq!(m.take_sent()[0].bytes, big);
    assert!(pmtu::take_sent().is_empty());
    unload(&m);
    m.assert_clean();
}

/// The SA in use sizes the overhead: AES-GCM (IV 8, ICV 16, blocks of 4)
/// without NAT-T fits 1446 bytes in 1500 (ESP arithmetic of esp_output).
/// The host cache (an ICMP for the outer destination) wins over the route,
/// as in ipsec_get_pmtu; the cache is re-read after a second.
#[test]
fn overhead_from_the_sa_and_path_from_the_host_cache() {
    let m = Model::start();
    let i = ready(&m);
    let gcm = |spi, s, d| Sa {
        enc: 20,
        auth: 0,
        ..Sa::tunnel(spi, s, d, 100)
    };
    ks::add(gcm(0x100, A, B));
    ks::add(gcm(0x200, B, A));
    ks::run_tasks();
    let mut p = ip_packet(4, 1447);
    p[6] = 0x40;
    assert_eq!(send(i, &p), 0);
    assert_eq!(pmtu::take_sent()[0].mtu, 1446);
    pmtu::set_hostcache(ip(B), 1400);
    assert_eq!(send(i, &p), 0);
    assert_eq!(pmtu::take_sent()[0].mtu, 1446, "cached for a second");
    pmtu::advance_ticks(1000);
    assert_eq!(send(i, &p), 0);
    assert_eq!(pmtu::take_sent()[0].mtu, 1346);
    assert!(m.take_sent().is_empty());
    unload(&m);
    m.assert_clean();
}

/// IPv6 inner packets may never be fragmented on the way: packet-too-big
/// (icmp6_error) without a DF bit; below the IPv6 minimum MTU (1280) no
/// ICMP can help and the packet goes on.
#[test]
fn ipv6_gets_packet_too_big_above_the_minimum() {
    let m = Model::start();
    let i = ready(&m);
    assert_eq!(send(i, &ip_packet(6, 1450)), 0);
    let icmp = pmtu::take_sent();
    assert_eq!((icmp[0].v, icmp[0].ty, icmp[0].mtu), (6, 2, 1406));
    pmtu::set_route_mtu(ip(B), 1300);
    pmtu::advance_ticks(1000);
    assert_eq!(send(i, &ip_packet(6, 1290)), 0);
    assert!(pmtu::take_sent().is_empty());
    assert_eq!(m.take_sent().len(), 1);
    unload(&m);
    m.assert_clean();
}

/// Over the kernel's ICMP unreach limit (badport_bandlim), the packet is
/// dropped silently, as ip_forward's need-frag would be.
#[test]
fn rate_limited_need_frag_drops() {
    let m = Model::start();
    let i = ready(&m);
    pmtu::set_bandlim(true);
    let mut big = ip_packet(4, 1450);
    big[6] = 0x40;
    assert_eq!(send(i, &big), 0);
    assert!(pmtu::take_sent().is_empty());
    assert!(m.take_sent().is_empty());
    let _ = i;
    unload(&m);
    m.assert_clean();
}

/// The outer header as ipsec_encap builds it (IPv4, no options, DF per
/// the global dfbit `global_df`), followed by the inner packet.
fn encapsulated(global_df: bool, inner: &[u8]) -> Vec<u8> {
    let mut h = vec![
        0x45,
        0,
        0,
        0,
        0,
        0,
        if global_df { 0x40 } else { 0 },
        0,
        64,
        4,
        0,
        0,
    ];
    h.extend_from_slice(&[192, 0, 2, 1, 198, 51, 100, 7]);
    h.extend_from_slice(inner);
    h
}

/// DF policy (C: ipsec_encap's global net.inet.ipsec.dfbit only).  With
/// link2 the outer DF is the inner's (IPv6 inner: set), whatever the
/// global said; without it, and for SAs that are not this interface's,
/// the outer header is left as ipsec_encap wrote it.
#[test]
fn link2_copies_inner_df_to_the_outer_header() {
    let m = Model::start();
    let i = ready(&m);
    let out = SaSpec::esp_tunnel(ip(A), ip(B), 100);
    let mut df = ip_packet(4, 60);
    df[6] = 0x40;
    let nodf = ip_packet(4, 60);
    let v6 = ip_packet(6, 60);
    let outer_df = |b: &[u8]| b[6] & 0x40 != 0;
    // Default (no link2): as encap wrote it.
    assert!(outer_df(&kpi_model::ipsec::output_after(
        &encapsulated(true, &nodf),
        &out
    )));
    assert!(!outer_df(&kpi_model::ipsec::output_after(
        &encapsulated(false, &df),
        &out
    )));
    kpi_model::ifnet::if_setflagbits(i as *mut _, 0x4000, 0); // IFF_LINK2
    let mut fl = vec![0u8; 32];
    fl[..7].copy_from_slice(b"ipsec0\0");
    assert_eq!(
        kpi_model::ifnet::call_ioctl(i, sys_bindings::net::ioctl::SIOCSIFFLAGS as _, &mut fl),
        0
    );
    assert!(outer_df(&kpi_model::ipsec::output_after(
        &encapsulated(false, &df),
        &out
    )));
    assert!(!outer_df(&kpi_model::ipsec::output_after(
        &encapsulated(true, &nodf),
        &out
    )));
    assert!(outer_df(&kpi_model::ipsec::output_after(
        &encapsulated(false, &v6),
        &out
    )));
    // Another SA (reqid not ours; or ours in the input direction): untouched.
    let other = SaSpec::esp_tunnel(ip(A), ip(B), 7);
    assert!(!outer_df(&kpi_model::ipsec::output_after(
        &encapsulated(false, &df),
        &other
    )));
    let rev = SaSpec::esp_tunnel(ip(B), ip(A), 100);
    assert!(!outer_df(&kpi_model::ipsec::output_after(
        &encapsulated(false, &df),
        &rev
    )));
    unload(&m);
    m.assert_clean();
}
