//! hhook(9) helper hooks, and the per-VNET IPsec hook heads that enc(4)
//! uses and the input glue registers on.
//!
//! Sources: FreeBSD 14.2 sys/sys/hhook.h, sys/kern/kern_hhook.c,
//! sys/net/if_var.h, sys/net/if.c, sys/netinet/ip_input.c,
//! sys/netinet6/ip6_input.c, sys/netipsec/ipsec.c, sys/net/if_enc.c
//! (b66633d79ade).  `struct hookinfo` layout verified by compiling.
//!
//! # The IPsec heads
//! if.c defines `VNET_DEFINE(struct hhook_head *,
//! ipsec_hhh_in[HHOOK_IPSEC_COUNT])` and `ipsec_hhh_out[...]` (kernel
//! symbols `vnet_entry_ipsec_hhh_in` / `vnet_entry_ipsec_hhh_out`, arrays of
//! two pointers, indexed by `HHOOK_IPSEC_INET`/`HHOOK_IPSEC_INET6`).
//! ip_input.c `ip_vnet_init` / ip6_input.c register them per vnet at
//! `VNET_SYSINIT(SI_SUB_PROTO_DOMAIN, SI_ORDER_FOURTH)` with
//! `hhook_head_register(HHOOK_TYPE_IPSEC_IN, AF_INET, ...,
//! HHOOK_WAITOK | HHOOK_HEADISINVNET)` (`AF_INET6` for v6): the head's
//! `hhh_id` is the address family, not the array index.
//! A module reads `V_ipsec_hhh_in[i]` as
//! `*((curvnet->vnet_data_base + &vnet_entry_ipsec_hhh_in) as *const
//! *mut hhook_head).add(i)` (see [`crate::vnet`]).  Use
//! `hookinfo { hook_id: AF_INET/AF_INET6, hook_type: HHOOK_TYPE_IPSEC_IN }`
//! as enc(4) does (if_enc.c `enc_add_hhooks`).
//!
//! # Contracts (kern_hhook.c)
//! - `hhook_add_hook(hhh, hki, flags)`: `ENOENT` if `hhh` is NULL,
//!   `ENOMEM` (only with `HHOOK_NOWAIT`), `EEXIST` if the same
//!   (`hook_func`, `hook_udata`) pair is already on the head, else 0;
//!   appended at the tail.  Copies `*hki`.
//! - `hhook_remove_hook(hhh, hki)`: matches (`hook_func`, `hook_udata`),
//!   returns 0 even if absent (`ENOENT` only for NULL `hhh`).  Takes the
//!   head's rmlock for writing, which waits for running hooks: when it
//!   returns, the hook is not running and will not run again.
//! - `hhook_add_hook_lookup(hki, flags)`: adds to every registered head
//!   with that (type, id) in ALL vnets at the time of the call (heads
//!   registered later, i.e. new vnets, are not covered).
//! - Hooks run from `hhook_run_hooks` under the head's rmlock read lock
//!   (no sleeping) with `ctx_data` = `struct ipsec_ctx_data *`
//!   ([`crate::ipsec::ipsec_ctx_data`]); the return value is ignored.  The
//!   caller (`ipsec_run_hhooks`, sys/netipsec/ipsec.c, in ipsec.ko) runs
//!   only `V_ipsec_hhh_in[idx]` of curvnet and returns `EACCES` if the hook
//!   set `*ctx->mp = NULL` (packet consumed).
//!
//! # Where the IPsec input hooks run (sys/netipsec/ipsec_input.c, ipsec.ko)
//! `ipsec4_common_input_cb` / `ipsec6_common_input_cb` run after ESP
//! decryption with curvnet = the SA's vnet (xform_esp.c `CURVNET_SET(
//! xd->vnet)`) and enter the net epoch before the hooks.  They run the IN
//! hooks twice: `IPSEC_ENC_BEFORE` with `ctx.af` = outer family, then, once
//! the inner protocol is known, `IPSEC_ENC_AFTER` with `ctx.af` = the
//! INNER family (`AF_INET` for IPPROTO_IPIP, `AF_INET6` for IPPROTO_IPV6),
//! so the AFTER hook runs on `V_ipsec_hhh_in[<inner family index>]`: a
//! v4-in-v6 packet reaches the INET head.  After the AFTER hooks, tunnel-
//! mode packets go to ipsec.ko's own `ipsec_if_input` (C if_ipsec: returns
//! 0 untouched when no stock ipsecN has that reqid and outer addresses),
//! then `netisr_queue_src`.  A hook that consumes the packet sets
//! `*ctx.mp = NULL`: `ipsec_run_hhooks` returns `EACCES`, the caller takes
//! its `bad` path (exits the epoch, drops its SA reference, frees nothing
//! since `m` is NULL) and returns the error.  A hook that leaves the mbuf
//! lets it continue to netisr with whatever `rcvif`/flags/FIB it set.

use core::ffi::{c_int, c_void};
use core::marker::{PhantomData, PhantomPinned};
use core::mem::{offset_of, size_of};
use static_assertions::const_assert_eq;

/// `struct hhook_head`: opaque here (272 bytes; `hhh_nhooks` at 220).
#[repr(C)]
pub struct hhook_head {
    _opaque: [u8; 0],
    _pin: PhantomData<(*mut u8, PhantomPinned)>,
}

/// `struct helper` (khelp): opaque; NULL for plain hooks.
#[repr(C)]
pub struct helper {
    _opaque: [u8; 0],
    _pin: PhantomData<(*mut u8, PhantomPinned)>,
}

/// `struct osd`: opaque.
#[repr(C)]
pub struct osd {
    _opaque: [u8; 0],
    _pin: PhantomData<(*mut u8, PhantomPinned)>,
}

/// `hhook_func_t`: `int (*)(int32_t hhook_type, int32_t hhook_id, void
/// *udata, void *ctx_data, void *hdata, struct osd *hosd)`.
pub type hhook_func_t = Option<
    unsafe extern "C" fn(
        hhook_type: i32,
        hhook_id: i32,
        udata: *mut c_void,
        ctx_data: *mut c_void,
        hdata: *mut c_void,
        hosd: *mut osd,
    ) -> c_int,
>;

/// `struct hookinfo` (sys/sys/hhook.h).
#[repr(C)]
pub struct hookinfo {
    /// `hook_func`.
    pub hook_func: hhook_func_t,
    /// `hook_helper`: NULL.
    pub hook_helper: *mut helper,
    /// `hook_udata`: passed back as `udata`; part of the hook's identity.
    pub hook_udata: *mut c_void,
    /// `hook_id`: the head's id (`AF_INET`/`AF_INET6` for IPsec heads).
    pub hook_id: i32,
    /// `hook_type`: `HHOOK_TYPE_*`.
    pub hook_type: i32,
}
const_assert_eq!(size_of::<hookinfo>(), 32);
const_assert_eq!(offset_of!(hookinfo, hook_func), 0);
const_assert_eq!(offset_of!(hookinfo, hook_helper), 8);
const_assert_eq!(offset_of!(hookinfo, hook_udata), 16);
const_assert_eq!(offset_of!(hookinfo, hook_id), 24);
const_assert_eq!(offset_of!(hookinfo, hook_type), 28);

/// `HHOOK_WAITOK`: sleeping allowed (register flags).
pub const HHOOK_WAITOK: u32 = 0x0000_0001;
/// `HHOOK_NOWAIT`: sleeping disallowed.
pub const HHOOK_NOWAIT: u32 = 0x0000_0002;
/// `HHOOK_HEADISINVNET`: head is per vnet (`hhook_head_register`).
pub const HHOOK_HEADISINVNET: u32 = 0x0000_0100;

/// `HHOOK_TYPE_TCP`.
pub const HHOOK_TYPE_TCP: i32 = 1;
/// `HHOOK_TYPE_SOCKET`.
pub const HHOOK_TYPE_SOCKET: i32 = 2;
/// `HHOOK_TYPE_IPSEC_IN`: run by ipsec4/6_common_input_cb.
pub const HHOOK_TYPE_IPSEC_IN: i32 = 3;
/// `HHOOK_TYPE_IPSEC_OUT`.
pub const HHOOK_TYPE_IPSEC_OUT: i32 = 4;

/// `HHOOK_IPSEC_INET` (sys/net/if_var.h): index into `ipsec_hhh_in/out`.
pub const HHOOK_IPSEC_INET: usize = 0;
/// `HHOOK_IPSEC_INET6`: index into `ipsec_hhh_in/out`.
pub const HHOOK_IPSEC_INET6: usize = 1;
/// `HHOOK_IPSEC_COUNT`: length of `ipsec_hhh_in/out`.
pub const HHOOK_IPSEC_COUNT: usize = 2;

extern "C" {
    /// `VNET_DEFINE(struct hhook_head *, ipsec_hhh_in[2])` master copy in
    /// `set_vnet` (sys/net/if.c:307); kernel.  Only its ADDRESS is
    /// meaningful: add it to `curvnet->vnet_data_base`.
    pub static vnet_entry_ipsec_hhh_in: [*mut hhook_head; HHOOK_IPSEC_COUNT];
    /// `VNET_DEFINE(struct hhook_head *, ipsec_hhh_out[2])` (if.c:308);
    /// kernel.  Address only, as above.
    pub static vnet_entry_ipsec_hhh_out: [*mut hhook_head; HHOOK_IPSEC_COUNT];

    /// `int hhook_add_hook(struct hhook_head *, const struct hookinfo *,
    /// uint32_t flags)`.  kern_hhook.c; kernel.
    pub fn hhook_add_hook(hhh: *mut hhook_head, hki: *const hookinfo, flags: u32) -> c_int;
    /// `int hhook_remove_hook(struct hhook_head *, const struct hookinfo
    /// *)`.  kern_hhook.c; kernel.
    pub fn hhook_remove_hook(hhh: *mut hhook_head, hki: *const hookinfo) -> c_int;
    /// `int hhook_add_hook_lookup(const struct hookinfo *, uint32_t)`.
    /// kern_hhook.c; kernel.
    pub fn hhook_add_hook_lookup(hki: *const hookinfo, flags: u32) -> c_int;
    /// `int hhook_remove_hook_lookup(const struct hookinfo *)`.
    /// kern_hhook.c; kernel.
    pub fn hhook_remove_hook_lookup(hki: *const hookinfo) -> c_int;
}
