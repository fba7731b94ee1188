//! PF_KEY message reading (issue 11): what keysock.c delivers is parsed,
//! anything malformed is refused without panicking.
#![allow(clippy::unwrap_used, clippy::indexing_slicing)]
use if_ipsec::sadb::{parse, request};
use proptest::prelude::*;

/// SADB_REGISTER request as setkey's pfkey_send_register builds it.
#[test]
fn request_is_a_bare_header() {
    let r = request(7, 3, 9);
    assert_eq!(&r[..4], &[2, 7, 0, 3]);
    assert_eq!(u16::from_ne_bytes([r[4], r[5]]), 2, "two 8-byte units");
    let m = parse(&r).unwrap();
    assert_eq!((m.kind, m.satype, m.seq, m.sa), (7, 3, 9, None));
}

#[test]
fn malformed_is_refused() {
    let mut r = request(4, 3, 0);
    r[0] = 1; // PF_KEY_V1
    assert_eq!(parse(&r), None);
    let mut r = request(4, 3, 0).to_vec();
    r[4] = 3; // claims 24 bytes, has 16
    assert_eq!(parse(&r), None);
    r.extend_from_slice(&[0, 0, 1, 0, 0, 0, 0, 0]); // extension of length 0
    assert_eq!(parse(&r), None);
    assert_eq!(parse(&[]), None);
}

proptest! {
    /// Never panics, whatever the bytes.
    #[test]
    fn any_bytes(b in proptest::collection::vec(any::<u8>(), 0..256)) {
        let _ = parse(&b);
    }
}
