//! The fallible Vec helpers of src/fallible.rs (what keeps the .ko free of
//! grow-or-abort paths; tests/ko-check proves the result on the binary).
#![allow(clippy::unwrap_used)]

use if_ipsec::errno::Errno;
use if_ipsec::fallible::{push_reserved, try_push, try_resize_with};

#[test]
fn push_grows_and_resize_fills() {
    let mut v: Vec<u32> = Vec::new();
    for i in 0..100 {
        try_push(&mut v, i).unwrap();
    }
    assert_eq!(v.len(), 100);
    try_resize_with(&mut v, 150, || 7).unwrap();
    assert_eq!(v.len(), 150);
    assert_eq!(v.last(), Some(&7));
    try_resize_with(&mut v, 10, || 0).unwrap();
    assert_eq!(v.len(), 150, "never shrinks");
}

#[test]
fn push_reserved_without_room_is_enomem_not_a_grow() {
    let mut v: Vec<u8> = Vec::new();
    assert_eq!(push_reserved(&mut v, 1), Err(Errno::ENOMEM));
    assert_eq!(v.capacity(), 0);
}
