//! malloc(9): types, flags and functions.
//!
//! Source: FreeBSD 14.2 sys/sys/malloc.h (b66633d79ade); behaviour read in
//! sys/kern/kern_malloc.c (same commit).
//!
//! Host builds: `malloc`, `free` and `realloc` share their names with libc's,
//! so on targets other than the kernel's (`target_os = "none"`) they link to
//! `kpi_model_malloc` / `kpi_model_free` / `kpi_model_realloc`, which the
//! host KPI model defines.

use core::ffi::{c_char, c_int, c_uchar, c_ulong, c_void};
use core::mem::{offset_of, size_of};
use static_assertions::const_assert_eq;

/// `M_NOWAIT`: do not block.
pub const M_NOWAIT: c_int = 0x0001;
/// `M_WAITOK`: ok to block.
pub const M_WAITOK: c_int = 0x0002;
/// `M_ZERO`: bzero the allocation.
pub const M_ZERO: c_int = 0x0100;
/// `M_NOVM`: don't ask VM for pages.
pub const M_NOVM: c_int = 0x0200;
/// `M_USE_RESERVE`: can alloc out of reserve memory.
pub const M_USE_RESERVE: c_int = 0x0400;

/// `M_VERSION`: `ks_version` of a `struct malloc_type`; `malloc_init`
/// panics on any other value.
pub const M_VERSION: c_ulong = 2_020_110_501;

/// `PAGE_SIZE` on amd64 (sys/amd64/include/param.h, b66633d79ade):
/// `malloc_domainset_aligned` asserts `align <= PAGE_SIZE`.
pub const PAGE_SIZE: usize = 4096;

/// Alignment every malloc(9) allocation has: UMA zones are created with at
/// least `UMA_ALIGN_PTR` (`sizeof(void *) - 1`, sys/vm/uma.h) alignment
/// (kern_malloc.c mallocinit; power-of-two zones get `min(size, PAGE_SIZE)`).
pub const MALLOC_MIN_ALIGN: usize = 8;

/// `DTMALLOC_PROBE_MAX`: size of `mti_probes`.
pub const DTMALLOC_PROBE_MAX: usize = 2;

/// `struct malloc_type_stats`: only reached through `mti_stats`; opaque here
/// (64 bytes per CPU, `_Static_assert`ed in the header).
#[repr(C)]
pub struct malloc_type_stats {
    _opaque: [u8; 0],
}

/// `struct malloc_type_internal`: owned by the allocator; zero in a
/// definition, filled by `malloc_init`.
#[repr(C)]
pub struct malloc_type_internal {
    /// `mti_probes[DTMALLOC_PROBE_MAX]`: DTrace probe IDs.
    pub mti_probes: [u32; DTMALLOC_PROBE_MAX],
    /// `mti_zone`: malloc subzone index.
    pub mti_zone: c_uchar,
    /// `mti_stats`: per-CPU statistics.
    pub mti_stats: *mut malloc_type_stats,
    /// `mti_spare[8]`.
    pub mti_spare: [c_ulong; 8],
}
const_assert_eq!(size_of::<malloc_type_internal>(), 88);
const_assert_eq!(offset_of!(malloc_type_internal, mti_probes), 0);
const_assert_eq!(offset_of!(malloc_type_internal, mti_zone), 8);
const_assert_eq!(offset_of!(malloc_type_internal, mti_stats), 16);
const_assert_eq!(offset_of!(malloc_type_internal, mti_spare), 24);

/// `struct malloc_type`: what `MALLOC_DEFINE` defines.
#[repr(C)]
pub struct malloc_type {
    /// `ks_next`: next in the global chain (written under `malloc_mtx`).
    pub ks_next: *mut malloc_type,
    /// `ks_version`: [`M_VERSION`].
    pub ks_version: c_ulong,
    /// `ks_shortdesc`: printable type name (`vmstat -m`).
    pub ks_shortdesc: *const c_char,
    /// `ks_mti`.
    pub ks_mti: malloc_type_internal,
}
const_assert_eq!(size_of::<malloc_type>(), 112);
const_assert_eq!(offset_of!(malloc_type, ks_next), 0);
const_assert_eq!(offset_of!(malloc_type, ks_version), 8);
const_assert_eq!(offset_of!(malloc_type, ks_shortdesc), 16);
const_assert_eq!(offset_of!(malloc_type, ks_mti), 24);

extern "C" {
    /// `void *malloc(size_t size, struct malloc_type *type, int flags)`.
    #[cfg_attr(not(target_os = "none"), link_name = "kpi_model_malloc")]
    pub fn malloc(size: usize, ty: *mut malloc_type, flags: c_int) -> *mut c_void;
    /// `void free(void *addr, struct malloc_type *type)`.
    #[cfg_attr(not(target_os = "none"), link_name = "kpi_model_free")]
    pub fn free(addr: *mut c_void, ty: *mut malloc_type);
    /// `void *realloc(void *addr, size_t size, struct malloc_type *type,
    /// int flags)`: on failure returns NULL and leaves `addr` allocated.
    #[cfg_attr(not(target_os = "none"), link_name = "kpi_model_realloc")]
    pub fn realloc(
        addr: *mut c_void,
        size: usize,
        ty: *mut malloc_type,
        flags: c_int,
    ) -> *mut c_void;
    /// `void *malloc_aligned(size_t size, size_t align, struct malloc_type
    /// *type, int flags)`: `align` a power of two `<= PAGE_SIZE`; freed
    /// with `free`.
    pub fn malloc_aligned(
        size: usize,
        align: usize,
        ty: *mut malloc_type,
        flags: c_int,
    ) -> *mut c_void;
    /// `void malloc_init(void *)`: `MALLOC_DEFINE`'s SYSINIT function.
    pub fn malloc_init(data: *mut c_void);
    /// `void malloc_uninit(void *)`: `MALLOC_DEFINE`'s SYSUNINIT function.
    pub fn malloc_uninit(data: *mut c_void);
}
