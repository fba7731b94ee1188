//! SYSINIT/SYSUNINIT records.
//!
//! Source: FreeBSD 14.2 sys/sys/kernel.h (b66633d79ade).  Since 14.0
//! `struct sysinit` carries a `STAILQ_ENTRY(sysinit) next` (the kernel links
//! the records into its own list), so it is 32 bytes on amd64 (24 before 14).
//! The kernel writes `next`: records must live in writable memory.

use core::ffi::c_void;
use core::mem::{offset_of, size_of};
use static_assertions::const_assert_eq;

/// `sysinit_nfunc_t`: `void (*)(void *)`.
pub type sysinit_nfunc_t = unsafe extern "C" fn(*mut c_void);
/// `sysinit_cfunc_t`: `void (*)(const void *)`.
pub type sysinit_cfunc_t = unsafe extern "C" fn(*const c_void);

/// `STAILQ_ENTRY(sysinit)` (sys/sys/queue.h): `{ struct sysinit *stqe_next; }`.
#[repr(C)]
pub struct sysinit_stailq_entry {
    /// `stqe_next`.
    pub stqe_next: *mut sysinit,
}
const_assert_eq!(size_of::<sysinit_stailq_entry>(), 8);

/// `struct sysinit`.
#[repr(C)]
pub struct sysinit {
    /// `subsystem` (`enum sysinit_sub_id`, an `int`-sized enum).
    pub subsystem: u32,
    /// `order` (`enum sysinit_elem_order`).
    pub order: u32,
    /// `next`: written by the kernel; `{ NULL }` in the records.
    pub next: sysinit_stailq_entry,
    /// `func`.
    pub func: Option<sysinit_cfunc_t>,
    /// `udata`: the argument passed to `func`.
    pub udata: *const c_void,
}
const_assert_eq!(size_of::<sysinit>(), 32);
const_assert_eq!(offset_of!(sysinit, subsystem), 0);
const_assert_eq!(offset_of!(sysinit, order), 4);
const_assert_eq!(offset_of!(sysinit, next), 8);
const_assert_eq!(offset_of!(sysinit, func), 16);
const_assert_eq!(offset_of!(sysinit, udata), 24);

/// Linker set of SYSINIT records (`DATA_WSET(sysinit_set, ...)`); the ELF
/// section is `set_sysinit_set` (sys/sys/linker_set.h).
pub const SYSINIT_SETNAME: &str = "sysinit_set";
/// Linker set of SYSUNINIT records; ELF section `set_sysuninit_set`.
pub const SYSUNINIT_SETNAME: &str = "sysuninit_set";

// `enum sysinit_sub_id` values used by the module (subset).
/// `SI_SUB_KMEM`: kernel memory; `MALLOC_DEFINE` registers types here.
pub const SI_SUB_KMEM: u32 = 0x180_0000;
/// `SI_SUB_KLD`: KLD and module setup.
pub const SI_SUB_KLD: u32 = 0x200_0000;
/// `SI_SUB_PSEUDO`: pseudo devices.
pub const SI_SUB_PSEUDO: u32 = 0x700_0000;
/// `SI_SUB_PROTO_BEGIN`: VNET initialization.
pub const SI_SUB_PROTO_BEGIN: u32 = 0x800_0000;
/// `SI_SUB_PROTO_IF`: interfaces.
pub const SI_SUB_PROTO_IF: u32 = 0x840_0000;
/// `SI_SUB_PROTO_DOMAIN`: domains; ipsec.ko's `DECLARE_MODULE` uses it
/// (sys/netipsec/ipsec_mod.c).
pub const SI_SUB_PROTO_DOMAIN: u32 = 0x880_0000;
/// `SI_SUB_PROTO_IFATTACHDOMAIN`: domain dependent data init.
pub const SI_SUB_PROTO_IFATTACHDOMAIN: u32 = 0x880_8000;
/// `SI_SUB_PROTO_END`: VNET helper functions.
pub const SI_SUB_PROTO_END: u32 = 0x8ff_ffff;
/// `SI_SUB_VNET_DONE`: vnet registration complete.
pub const SI_SUB_VNET_DONE: u32 = 0xdc0_0000;

// `enum sysinit_elem_order` values.
/// `SI_ORDER_FIRST`.
pub const SI_ORDER_FIRST: u32 = 0x000_0000;
/// `SI_ORDER_SECOND`.
pub const SI_ORDER_SECOND: u32 = 0x000_0001;
/// `SI_ORDER_THIRD`.
pub const SI_ORDER_THIRD: u32 = 0x000_0002;
/// `SI_ORDER_FOURTH`.
pub const SI_ORDER_FOURTH: u32 = 0x000_0003;
/// `SI_ORDER_MIDDLE`.
pub const SI_ORDER_MIDDLE: u32 = 0x100_0000;
/// `SI_ORDER_ANY`: last.
pub const SI_ORDER_ANY: u32 = 0xfff_ffff;
