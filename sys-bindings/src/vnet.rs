//! VIMAGE network stacks: `struct vnet`, `struct vnet_sysinit`, the
//! VNET_SYSINIT registration functions and the `set_vnet` convention.
//!
//! Source: FreeBSD 14.2 sys/net/vnet.h, sys/net/vnet.c,
//! sys/kern/link_elf_obj.c (b66633d79ade).  amd64 GENERIC has
//! `options VIMAGE` and the standalone-module `opt_global.h` of
//! sys/conf/config.mk defines `VIMAGE 1` too, so the VIMAGE forms apply.
//!
//! # VNET variables (`VNET_DEFINE` / `VNET(x)`)
//! `VNET_DEFINE(t, x)` defines `t vnet_entry_x` in the ELF section
//! `set_vnet` (`VNET_SETNAME`).  That section is the master copy; every
//! vnet has its own copy at `vnet_data_mem`, and
//! `vnet_data_base = vnet_data_mem - VNET_START`.  So
//! `VNET(x)` = `*(T *)(curvnet->vnet_data_base + (uintptr_t)&vnet_entry_x)`
//! (`_VNET_PTR`), both for the kernel's variables (e.g.
//! `vnet_entry_ipsec_hhh_in`, `vnet_entry__rt_numfibs`) and for a module's.
//! For a module, link_elf_obj.c gives the module's `set_vnet` section space
//! from the kernel's reserved module area (`vnet_data_alloc`: sizes rounded
//! up to 8 bytes, 8-byte alignment at most, `VNET_MODMIN` = 8 pages shared
//! by all modules), copies the initial bytes into every existing vnet
//! (`vnet_data_copy`) and relocates symbols so `&vnet_entry_x` lies in the
//! master range; new vnets copy the master.  Only one `set_vnet` section
//! per module is honoured (the first): merge them before the .ko is made.
//! Never use `&vnet_entry_x` itself as the variable: it is the master
//! template, not any vnet's live copy (vnet0 has its own copy too).
//!
//! # curvnet / CURVNET_SET
//! `curvnet` = `curthread->td_vnet` (offset
//! [`crate::thread::TD_VNET_OFFSET`]).  `CURVNET_SET(v)` saves `td_vnet`
//! and stores `v`; `CURVNET_RESTORE()` stores the saved pointer back
//! (non-`VNET_DEBUG` kernels, GENERIC; no other state).  A VNET_SYSINIT
//! function is called with curvnet set to the vnet being initialised.
//!
//! # VNET_SYSINIT(ident, sub, order, func, arg)
//! = a static `struct vnet_sysinit { sub, order, func, arg }` plus
//! `SYSINIT(vnet_init_ident, sub, order, vnet_register_sysinit, &vs)` and
//! `SYSUNINIT(vnet_init_ident, sub, order, vnet_deregister_sysinit, &vs)`.
//! `vnet_register_sysinit` inserts into the constructor list sorted by
//! (subsystem, order), AFTER existing entries with equal keys, then runs
//! `func(arg)` immediately in every existing vnet.  VNET_SYSUNINIT likewise
//! with `vnet_register_sysuninit` (no immediate call) /
//! `vnet_deregister_sysuninit` (runs `func` in every existing vnet, then
//! unlinks).  `sub` must satisfy `SI_SUB_VNET < sub <= SI_SUB_VNET_DONE`.
//! C if_ipsec (in ipsec.ko) registers its cloner with
//! `VNET_SYSINIT(vnet_ipsec_init, SI_SUB_PROTO_IFATTACHDOMAIN,
//! SI_ORDER_ANY)` (sys/net/if_ipsec.c:288): a module registering the same
//! keys after ipsec.ko is loaded runs after it in every new vnet.
//! The `struct vnet_sysinit` is linked into a kernel TAILQ (`link`): it
//! must be in writable, static memory for as long as it is registered.

use core::ffi::{c_uint, c_void};
use core::mem::{align_of, offset_of, size_of};
use static_assertions::const_assert_eq;

use crate::kern::sysinit::sysinit_cfunc_t;

/// `LIST_ENTRY(vnet)`: `{ le_next, le_prev }`.
#[repr(C)]
pub struct vnet_list_entry {
    /// `le_next`.
    pub le_next: *mut vnet,
    /// `le_prev`.
    pub le_prev: *mut *mut vnet,
}
// sys/sys/queue.h (b66633d79ade): an entry is two pointers on amd64.
const_assert_eq!(size_of::<vnet_list_entry>(), 16);
const_assert_eq!(offset_of!(vnet_list_entry, le_prev), 8);

/// `struct vnet` (sys/net/vnet.h), `__aligned(CACHE_LINE_SIZE)` = 64.
#[repr(C, align(64))]
pub struct vnet {
    /// `vnet_le`: all vnets list.
    pub vnet_le: vnet_list_entry,
    /// `vnet_magic_n`: [`VNET_MAGIC_N`].
    pub vnet_magic_n: c_uint,
    /// `vnet_ifcnt`.
    pub vnet_ifcnt: c_uint,
    /// `vnet_sockcnt`.
    pub vnet_sockcnt: c_uint,
    /// `vnet_state`: `SI_SUB_*` reached.
    pub vnet_state: c_uint,
    /// `vnet_data_mem`: this vnet's copy of the `set_vnet` area.
    pub vnet_data_mem: *mut c_void,
    /// `vnet_data_base`: `vnet_data_mem - VNET_START`.
    pub vnet_data_base: usize,
    /// `vnet_shutdown`: shutdown in progress.
    pub vnet_shutdown: bool,
}
const_assert_eq!(size_of::<vnet>(), 64);
const_assert_eq!(align_of::<vnet>(), 64);
const_assert_eq!(offset_of!(vnet, vnet_le), 0);
const_assert_eq!(offset_of!(vnet, vnet_magic_n), 16);
const_assert_eq!(offset_of!(vnet, vnet_state), 28);
const_assert_eq!(offset_of!(vnet, vnet_data_mem), 32);
const_assert_eq!(offset_of!(vnet, vnet_data_base), 40);
const_assert_eq!(offset_of!(vnet, vnet_shutdown), 48);

/// `VNET_MAGIC_N`.
pub const VNET_MAGIC_N: c_uint = 0x5e4a_6f28;
/// `VNET_SETNAME`: linker set of VNET variables (ELF section `set_vnet`).
pub const VNET_SETNAME: &str = "set_vnet";
/// `VNET_MODMIN` (sys/net/vnet.c): bytes reserved for all modules' VNET
/// variables together (8 * PAGE_SIZE).
pub const VNET_MODMIN: usize = 8 * 4096;

/// `TAILQ_ENTRY(vnet_sysinit)`.
#[repr(C)]
pub struct vnet_sysinit_tailq_entry {
    /// `tqe_next`.
    pub tqe_next: *mut vnet_sysinit,
    /// `tqe_prev`.
    pub tqe_prev: *mut *mut vnet_sysinit,
}
// sys/sys/queue.h (b66633d79ade): an entry is two pointers on amd64.
const_assert_eq!(size_of::<vnet_sysinit_tailq_entry>(), 16);
const_assert_eq!(offset_of!(vnet_sysinit_tailq_entry, tqe_prev), 8);

/// `struct vnet_sysinit` (sys/net/vnet.h).  Zero `link`; the kernel owns it
/// while registered.
#[repr(C)]
pub struct vnet_sysinit {
    /// `subsystem` (`enum sysinit_sub_id`).
    pub subsystem: u32,
    /// `order` (`enum sysinit_elem_order`).
    pub order: u32,
    /// `func` (`sysinit_cfunc_t`).
    pub func: Option<sysinit_cfunc_t>,
    /// `arg`.
    pub arg: *const c_void,
    /// `link`.
    pub link: vnet_sysinit_tailq_entry,
}
const_assert_eq!(size_of::<vnet_sysinit>(), 40);
const_assert_eq!(offset_of!(vnet_sysinit, subsystem), 0);
const_assert_eq!(offset_of!(vnet_sysinit, order), 4);
const_assert_eq!(offset_of!(vnet_sysinit, func), 8);
const_assert_eq!(offset_of!(vnet_sysinit, arg), 16);
const_assert_eq!(offset_of!(vnet_sysinit, link), 24);

pub use crate::kern::sysinit::{
    SI_ORDER_ANY, SI_ORDER_FIRST, SI_ORDER_FOURTH, SI_ORDER_MIDDLE, SI_ORDER_SECOND,
    SI_ORDER_THIRD, SI_SUB_PROTO_DOMAIN, SI_SUB_PROTO_END, SI_SUB_PROTO_IF,
    SI_SUB_PROTO_IFATTACHDOMAIN, SI_SUB_PSEUDO, SI_SUB_VNET_DONE,
};

/// `SI_SUB_VNET` (sys/sys/kernel.h): VNET_SYSINIT subsystems must be
/// greater (values of the other `SI_*` used here are in
/// [`crate::kern::sysinit`], checked against the same compile).
pub const SI_SUB_VNET: u32 = 0x21e_0000;
/// `SI_SUB_INIT_IF` (sys/sys/kernel.h): enc(4)'s VNET_SYSUNINIT level.
pub const SI_SUB_INIT_IF: u32 = 0x300_0000;
/// `SI_SUB_PROTO_FIREWALL` (sys/sys/kernel.h).
pub const SI_SUB_PROTO_FIREWALL: u32 = 0x880_6000;

extern "C" {
    /// `struct vnet *vnet0`: the default vnet.  sys/net/vnet.c; kernel.
    pub static vnet0: *mut vnet;

    /// `void vnet_register_sysinit(void *arg)` (`arg` = `struct
    /// vnet_sysinit *`): the SYSINIT function of VNET_SYSINIT.  Sleeps.
    /// sys/net/vnet.c; kernel.
    pub fn vnet_register_sysinit(arg: *mut c_void);
    /// `void vnet_deregister_sysinit(void *arg)`: SYSUNINIT of VNET_SYSINIT.
    /// sys/net/vnet.c; kernel.
    pub fn vnet_deregister_sysinit(arg: *mut c_void);
    /// `void vnet_register_sysuninit(void *arg)`: SYSINIT of
    /// VNET_SYSUNINIT.  sys/net/vnet.c; kernel.
    pub fn vnet_register_sysuninit(arg: *mut c_void);
    /// `void vnet_deregister_sysuninit(void *arg)`: SYSUNINIT of
    /// VNET_SYSUNINIT; runs the destructor in every vnet.  sys/net/vnet.c;
    /// kernel.
    pub fn vnet_deregister_sysuninit(arg: *mut c_void);
}
