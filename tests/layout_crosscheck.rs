//! Cross-check of sys-bindings' hand-written layouts against bindgen's
//! reading of the FreeBSD headers (feature `bindgen-check`, see build.rs and
//! sys-bindings/LAYOUTS.md).  Run on FreeBSD or with an extracted 14.x tree:
//! `FREEBSD_SYS=/usr/src/sys cargo test -p if_ipsec --features bindgen-check`.
//! Every comparison is a `const` assertion, so a mismatch fails the build.
#![cfg(feature = "bindgen-check")]

/// bindgen's output for the FreeBSD headers (generated, never committed).
#[allow(
    non_camel_case_types,
    non_snake_case,
    non_upper_case_globals,
    dead_code,
    unsafe_code,
    unnecessary_transmutes,
    clippy::all,
    clippy::indexing_slicing,
    clippy::unwrap_used
)]
mod fb {
    include!(concat!(env!("OUT_DIR"), "/freebsd_bindings.rs"));
}

mod crosscheck {
    use super::fb;
    use core::mem::{align_of, offset_of, size_of};
    include!(concat!(env!("OUT_DIR"), "/layout_crosscheck.rs"));
}

/// A build that generated (almost) nothing would prove nothing.
const _: () = assert!(
    crosscheck::CHECKS > 100,
    "too few layout comparisons generated"
);

/// The comparisons are compile-time; reaching this test means all passed.
#[test]
fn layouts_match_freebsd_headers() {
    println!(
        "{} size/align/offset comparisons with the FreeBSD headers passed",
        crosscheck::CHECKS
    );
}
