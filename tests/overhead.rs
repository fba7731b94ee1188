//! ESP overhead per transform and the inner MTU a path carries (issue 12).
//! The arithmetic mirrors FreeBSD's esp_output (padding, IV, ICV) and
//! ipsec_process_done (NAT-T UDP header), sys/netipsec/xform_esp.c and
//! ipsec_output.c at 14.2; figures checked by hand against tcpdump
//! lengths of the vm-test transforms.
#![allow(clippy::unwrap_used, clippy::indexing_slicing)]
use if_ipsec::addr::Family;
use if_ipsec::overhead::{inner_mtu, overhead, Transform, WORST};
use proptest::prelude::*;

const GCM: Transform = Transform {
    enc: 20,
    auth: 0,
    natt: false,
};
const CBC_SHA256: Transform = Transform {
    enc: 12,
    auth: 5,
    natt: false,
};
const NULL_SHA1: Transform = Transform {
    enc: 11,
    auth: 3,
    natt: false,
};

/// esp_output for a 1400-byte IPv4 inner packet: outer 20 + ESP 8 +
/// IV + payload padded (payload + 2 to the block) + ICV.
#[test]
fn esp_output_sizes_by_transform() {
    // GCM: IV 8, blocks of 4, ICV 16: 1400+2 -> 1404: 20+8+8+1404+16.
    assert_eq!(
        overhead(Family::Inet, Some(&GCM), 1400),
        20 + 8 + 8 + 4 + 16
    );
    // AES-CBC + HMAC-SHA2-256: IV 16, blocks of 16, ICV 16 (RFC 4868):
    // 1402 -> 1408.
    assert_eq!(
        overhead(Family::Inet, Some(&CBC_SHA256), 1400),
        20 + 8 + 16 + 8 + 16
    );
    // null + HMAC-SHA1-96: no IV, blocks of 4, ICV 12.
    assert_eq!(
        overhead(Family::Inet, Some(&NULL_SHA1), 1400),
        20 + 8 + 4 + 12
    );
    // IPv6 outer: 40.
    assert_eq!(
        overhead(Family::Inet6, Some(&GCM), 1400),
        40 + 8 + 8 + 4 + 16
    );
    // NAT-T: + UDP 8 (IPv4 only).
    let natt = Transform { natt: true, ..GCM };
    assert_eq!(
        overhead(Family::Inet, Some(&natt), 1400),
        20 + 8 + 8 + 8 + 4 + 16
    );
    assert_eq!(
        overhead(Family::Inet6, Some(&natt), 1400),
        40 + 8 + 8 + 4 + 16
    );
}

#[test]
fn unknown_or_missing_transform_is_the_worst_case() {
    let odd = Transform {
        enc: 200,
        auth: 0,
        natt: false,
    };
    let worst = overhead(Family::Inet, None, 1400);
    assert_eq!(overhead(Family::Inet, Some(&odd), 1400), worst - 8);
    assert_eq!(worst, 20 + 8 + 8 + WORST.iv + 8 + WORST.icv);
    for t in [GCM, CBC_SHA256, NULL_SHA1] {
        for n in [0, 1, 555, 1400, 8000] {
            assert!(overhead(Family::Inet, Some(&t), n) <= overhead(Family::Inet, None, n));
        }
    }
}

#[test]
fn inner_mtu_of_typical_paths() {
    // 1500 Ethernet, GCM: 54 fixed bytes (20+8+8+16 and the 2 trailer
    // bytes), 1446 + 2 is a multiple of 4: 1446 + 54 = 1500 exactly.
    assert_eq!(inner_mtu(Family::Inet, Some(&GCM), 1500), 1446);
    // 9000 jumbo, same: 8946.
    assert_eq!(inner_mtu(Family::Inet, Some(&GCM), 9000), 8946);
    // AES-CBC/SHA2-256: 62 fixed, blocks of 16: 1438 + 2 = 1440 = 90*16.
    assert_eq!(inner_mtu(Family::Inet, Some(&CBC_SHA256), 1500), 1438);
    assert_eq!(inner_mtu(Family::Inet, Some(&GCM), 40), 0);
    assert_eq!(inner_mtu(Family::Inet, None, 0), 0);
}

fn transform() -> impl Strategy<Value = Option<Transform>> {
    proptest::option::of(
        (
            prop_oneof![
                Just(11u8),
                Just(12),
                Just(13),
                Just(15),
                Just(20),
                any::<u8>()
            ],
            prop_oneof![
                Just(0u8),
                Just(3),
                Just(5),
                Just(6),
                Just(7),
                Just(251),
                any::<u8>()
            ],
            any::<bool>(),
        )
            .prop_map(|(enc, auth, natt)| Transform { enc, auth, natt }),
    )
}

proptest! {
    /// inner_mtu is exactly the largest payload that fits: it fits, one
    /// byte more does not (when anything fits at all).
    #[test]
    fn inner_mtu_is_the_largest_that_fits(t in transform(), v6 in any::<bool>(), mtu in 0u32..20_000) {
        let f = if v6 { Family::Inet6 } else { Family::Inet };
        let t = t.as_ref();
        let n = inner_mtu(f, t, mtu);
        if n > 0 {
            prop_assert!(n + overhead(f, t, n) <= mtu);
        }
        prop_assert!(n + 1 + overhead(f, t, n + 1) > mtu);
    }

    /// The ESP payload (inner + padding + 2 trailer bytes) is a whole
    /// number of blocks, and padding is below one block.
    #[test]
    fn padding_fills_the_block(t in transform(), n in 0u32..70_000) {
        let t = t.as_ref();
        let esp = t.and_then(|t| t.esp()).unwrap_or(WORST);
        let natt = t.is_none_or(|t| t.natt);
        let fixed = 20 + if natt { 8 } else { 0 } + 8 + esp.iv + esp.icv;
        let body = n + overhead(Family::Inet, t, n) - fixed;
        prop_assert_eq!(body % esp.blks, 0);
        prop_assert!(body - n - 2 < esp.blks);
    }
}
