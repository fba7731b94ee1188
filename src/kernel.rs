//! Which running kernels this build may load on (issue 10).
//!
//! The module calls functions and writes structures that carry no KBI
//! promise across a stable branch (`ipsec4/6_process_packet`, local
//! symbols of ipsec.ko whose prototype changed in FreeBSD 15 with the
//! IPsec offload work; `struct secpolicy` / `secasvar` fields; `struct
//! thread` offsets).  A wrong guess is a panic on the first packet, not a
//! kldload error, so the module refuses every kernel whose
//! `__FreeBSD_version` (the kernel's `osreldate`) is outside the ranges it
//! was built and checked for.  Each range is one release branch whose
//! headers the layouts and prototypes were compared with
//! (sys-bindings/LAYOUTS.md) and which vm-test booted.

/// A range of `osreldate` values (inclusive) and what to call it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KernelRange {
    /// First accepted `osreldate`.
    pub min: i32,
    /// Last accepted `osreldate`.
    pub max: i32,
    /// The release, for the console line.
    pub name: &'static str,
}

/// The kernels this build supports: releng/14.2 (`__FreeBSD_version`
/// 1402000 from 14.2-BETA1 through the 14.2 patch releases; the tree read
/// and booted is b66633d79ade).  stable/14 after 14.2 starts at 1402500
/// and 14.3 at 1403000: not checked, so refused.
pub const SUPPORTED: &[KernelRange] = &[KernelRange {
    min: 1_402_000,
    max: 1_402_499,
    name: "FreeBSD 14.2",
}];

/// The range `osreldate` falls in, or None: refuse to load.
pub fn supported(osreldate: i32) -> Option<&'static KernelRange> {
    SUPPORTED
        .iter()
        .find(|r| (r.min..=r.max).contains(&osreldate))
}
