//! TCP MSS clamping (issue 12).  No C if_ipsec function to mirror: the
//! stock driver has no clamp; what changes is what pf's
//! pf_normalize_mss (sys/netpfil/pf/pf_norm.c) changes, the MSS value
//! and the checksum.  Every test checks the checksum by recomputing it
//! over the pseudo-header and segment, as the receiver's tcp_input does.
#![allow(clippy::unwrap_used, clippy::indexing_slicing)]
use if_ipsec::addr::Family;
use if_ipsec::mss::{clamp, internet_checksum, limit, Clamp};
use proptest::prelude::*;

const SRC4: [u8; 4] = [10, 0, 0, 1];
const DST4: [u8; 4] = [10, 0, 0, 2];

/// A TCP segment (header + `opts` padded to 4 + `payload`).
fn tcp(flags: u8, opts: &[u8], payload: &[u8]) -> Vec<u8> {
    let mut o = opts.to_vec();
    while !o.len().is_multiple_of(4) {
        o.push(0); // EOL padding
    }
    let doff = (20 + o.len()) / 4;
    let mut t = vec![0u8; 20];
    t[0..2].copy_from_slice(&1234u16.to_be_bytes());
    t[2..4].copy_from_slice(&80u16.to_be_bytes());
    t[4..8].copy_from_slice(&0x0102_0304u32.to_be_bytes());
    t[12] = (doff as u8) << 4;
    t[13] = flags;
    t[14..16].copy_from_slice(&65535u16.to_be_bytes());
    t.extend_from_slice(&o);
    t.extend_from_slice(payload);
    t
}

/// The pseudo-header for IPv4 / IPv6.
fn pseudo(v6: bool, tcp_len: usize) -> Vec<u8> {
    let mut p = Vec::new();
    if v6 {
        p.extend_from_slice(&[0x20, 1, 0xd, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
        p.extend_from_slice(&[0x20, 1, 0xd, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2]);
        p.extend_from_slice(&(tcp_len as u32).to_be_bytes());
        p.extend_from_slice(&[0, 0, 0, 6]);
    } else {
        p.extend_from_slice(&SRC4);
        p.extend_from_slice(&DST4);
        p.extend_from_slice(&[0, 6]);
        p.extend_from_slice(&(tcp_len as u16).to_be_bytes());
    }
    p
}

/// IPv4 or IPv6 packet around the segment, with a correct TCP checksum.
fn packet(v6: bool, mut seg: Vec<u8>) -> (Vec<u8>, usize) {
    let ps = pseudo(v6, seg.len());
    seg[16] = 0;
    seg[17] = 0;
    let c = internet_checksum(&[&ps, &seg]);
    seg[16..18].copy_from_slice(&c.to_be_bytes());
    let mut p = if v6 {
        let mut h = vec![0x60, 0, 0, 0];
        h.extend_from_slice(&(seg.len() as u16).to_be_bytes());
        h.extend_from_slice(&[6, 64]);
        h.extend_from_slice(&ps[..32]);
        h
    } else {
        let mut h = vec![0x45, 0, 0, 0, 0, 0, 0x40, 0, 64, 6, 0, 0];
        h.extend_from_slice(&SRC4);
        h.extend_from_slice(&DST4);
        h
    };
    let th = p.len();
    p.extend_from_slice(&seg);
    (p, th)
}

/// The receiver's check: checksum over pseudo-header + segment is 0.
fn csum_ok(v6: bool, p: &[u8], th: usize) -> bool {
    let seg = &p[th..];
    internet_checksum(&[&pseudo(v6, seg.len()), seg]) == 0
}

fn mss_opt(v: u16) -> Vec<u8> {
    let b = v.to_be_bytes();
    vec![2, 4, b[0], b[1]]
}

#[test]
fn limit_is_mtu_minus_headers() {
    assert_eq!(limit(Family::Inet, 1400), 1360);
    assert_eq!(limit(Family::Inet6, 1400), 1340);
    assert_eq!(limit(Family::Inet, 9000), 8960);
    assert_eq!(limit(Family::Inet, 30), 0);
}

#[test]
fn syn_over_limit_is_clamped_and_checksum_holds() {
    for v6 in [false, true] {
        let (mut p, th) = packet(v6, tcp(0x02, &mss_opt(1460), &[]));
        let before = p.clone();
        let r = clamp(&mut p, 1400, false);
        let want = if v6 { 1340 } else { 1360 };
        assert_eq!(
            r,
            Clamp::Clamped {
                from: 1460,
                to: want
            }
        );
        assert_eq!(u16::from_be_bytes([p[th + 22], p[th + 23]]), want);
        assert!(csum_ok(v6, &p, th));
        let diff: Vec<usize> = (0..p.len()).filter(|&i| p[i] != before[i]).collect();
        assert!(diff
            .iter()
            .all(|&i| (th + 16..th + 18).contains(&i) || (th + 22..th + 24).contains(&i)));
    }
}

#[test]
fn syn_ack_is_clamped_too() {
    let (mut p, th) = packet(false, tcp(0x12, &mss_opt(8960), &[]));
    assert!(matches!(clamp(&mut p, 1400, false), Clamp::Clamped { .. }));
    assert!(csum_ok(false, &p, th));
}

#[test]
fn at_or_below_limit_untouched() {
    let (mut p, _) = packet(false, tcp(0x02, &mss_opt(1360), &[]));
    let before = p.clone();
    assert_eq!(clamp(&mut p, 1400, false), Clamp::Untouched);
    assert_eq!(p, before);
}

#[test]
fn non_syn_untouched_even_with_an_mss_option() {
    let (mut p, _) = packet(false, tcp(0x10, &mss_opt(1460), b"data"));
    let before = p.clone();
    assert_eq!(clamp(&mut p, 1400, false), Clamp::NotSyn);
    assert_eq!(p, before);
}

#[test]
fn syn_without_mss_untouched() {
    let (mut p, _) = packet(false, tcp(0x02, &[1, 1, 4, 2], &[]));
    let before = p.clone();
    assert_eq!(clamp(&mut p, 1400, false), Clamp::Untouched);
    assert_eq!(p, before);
}

#[test]
fn fragments_and_other_protocols_untouched() {
    let (mut p, _) = packet(false, tcp(0x02, &mss_opt(1460), &[]));
    p[6] = 0x20; // MF
    assert_eq!(clamp(&mut p, 1400, false), Clamp::NotSyn);
    let (mut p, _) = packet(false, tcp(0x02, &mss_opt(1460), &[]));
    p[9] = 17;
    assert_eq!(clamp(&mut p, 1400, false), Clamp::NotSyn);
}

#[test]
fn short_and_malformed_are_left_alone() {
    let (p, th) = packet(false, tcp(0x02, &mss_opt(1460), &[]));
    for cut in 0..p.len() {
        let mut q = p[..cut].to_vec();
        let before = q.clone();
        let r = clamp(&mut q, 1400, false);
        assert!(
            matches!(r, Clamp::Short | Clamp::NotSyn),
            "cut {cut}: {r:?}"
        );
        assert_eq!(q, before);
    }
    // Option length 0 before the MSS.
    let (mut q, _) = packet(false, tcp(0x02, &[8, 0, 2, 4, 5, 0xb4], &[]));
    assert_eq!(clamp(&mut q, 1400, false), Clamp::Malformed);
    // Data offset below 5.
    let mut q = p.clone();
    q[th + 12] = 0x40;
    assert_eq!(clamp(&mut q, 1400, false), Clamp::Malformed);
}

#[test]
fn delayed_checksum_only_value_changes() {
    let (mut p, th) = packet(false, tcp(0x02, &mss_opt(1460), &[]));
    let sum = [p[th + 16], p[th + 17]];
    assert!(matches!(clamp(&mut p, 1400, true), Clamp::Clamped { .. }));
    assert_eq!([p[th + 16], p[th + 17]], sum);
}

#[test]
fn ipv6_extension_headers_are_skipped() {
    let (p, th) = packet(true, tcp(0x02, &mss_opt(1440), &[]));
    // Insert a hop-by-hop header (8 bytes: next=TCP, len 0, PadN).
    let mut q = p[..40].to_vec();
    q[6] = 0;
    q.extend_from_slice(&[6, 0, 1, 4, 0, 0, 0, 0]);
    q.extend_from_slice(&p[th..]);
    assert!(matches!(
        clamp(&mut q, 1400, false),
        Clamp::Clamped { to: 1340, .. }
    ));
    assert!(csum_ok(true, &q, th + 8));
    // A fragment header: left alone.
    let mut f = p[..40].to_vec();
    f[6] = 44;
    f.extend_from_slice(&[6, 0, 0, 0, 0, 0, 0, 1]);
    f.extend_from_slice(&p[th..]);
    assert_eq!(clamp(&mut f, 1400, false), Clamp::NotSyn);
}

/// An option list: NOPs, other options of any length, the MSS somewhere
/// (or not), so the MSS value lands at every alignment.
fn options() -> impl Strategy<Value = (Vec<u8>, Option<u16>)> {
    let other = prop_oneof![
        Just(vec![1u8]),
        (3u8..=30, 2usize..=10).prop_map(|(k, n)| {
            let mut o = vec![k, n as u8];
            o.resize(n, 0xa5);
            o
        }),
    ];
    (
        proptest::collection::vec(other.clone(), 0..4),
        proptest::option::of(any::<u16>()),
        proptest::collection::vec(other, 0..3),
    )
        .prop_filter_map("fits in 40 option bytes", |(before, mss, after)| {
            let mut o: Vec<u8> = before.concat();
            if let Some(v) = mss {
                o.extend(mss_opt(v));
            }
            o.extend(after.concat());
            (o.len() <= 40).then_some((o, mss))
        })
}

proptest! {
    #[test]
    fn clamp_keeps_the_checksum_valid_at_every_layout(
        (opts, mss) in options(),
        v6 in any::<bool>(),
        flags in any::<u8>(),
        payload in proptest::collection::vec(any::<u8>(), 0..33),
        mtu in 0u32..10_000,
    ) {
        let (mut p, th) = packet(v6, tcp(flags, &opts, &payload));
        let before = p.clone();
        let r = clamp(&mut p, mtu, false);
        prop_assert!(csum_ok(v6, &p, th));
        let lim = limit(if v6 { Family::Inet6 } else { Family::Inet }, mtu);
        match (flags & 2 != 0, mss) {
            (false, _) => { prop_assert_eq!(r, Clamp::NotSyn); prop_assert_eq!(&p, &before); }
            (true, Some(v)) if v > lim => {
                prop_assert_eq!(r, Clamp::Clamped { from: v, to: lim });
                let changed = (0..p.len()).filter(|&i| p[i] != before[i]).count();
                prop_assert!(changed <= 4);
            }
            (true, _) => { prop_assert_eq!(r, Clamp::Untouched); prop_assert_eq!(&p, &before); }
        }
    }

    #[test]
    fn garbage_never_panics(mut bytes in proptest::collection::vec(any::<u8>(), 0..200), mtu in any::<u32>()) {
        let _ = clamp(&mut bytes, mtu, false);
    }
}
