//! Interface cloners, FreeBSD 14 KPI (`ifc_attach_cloner`).
//!
//! Sources: FreeBSD 14.2 sys/net/if_clone.h, sys/net/if_clone.c
//! (b66633d79ade), all functions exported by the kernel.  Layouts verified
//! by compiling the header.
//!
//! # Behaviour read in if_clone.c
//! - `ifc_attach_cloner(name, req)` returns NULL (no errno) when
//!   `create_f` or `destroy_f` is NULL, when `strnlen(name, IFCLOSIZ) >=
//!   IFCLOSIZ - 1` (IFCLOSIZ = IFNAMSIZ - 5 = 11: names of at most 9
//!   characters), or when a cloner of that name already exists in curvnet
//!   (`if_clone_attach`: EEXIST, swallowed).  Allocates with M_WAITOK.
//!   Cloners are `LIST_INSERT_HEAD`ed into curvnet's `V_if_cloners`; the
//!   first whose `match_f` accepts a name is used by `ifconfig X create`.
//!   `match_f` NULL means `ifc_simple_match` (cloner name + optional
//!   digits).  Only `IFC_F_AUTOUNIT` of `req->flags` is kept;
//!   `IFC_F_LIMITUNIT` makes `maxunit` the unit limit, else `IF_MAXUNIT`.
//!   `version` 2 (`if_clone_addreq_v2`) adds netlink handlers; 0 = this
//!   struct.
//! - Creation (`if_clone_createif_nl`): `EEXIST` if `ifunit(name)` exists;
//!   with `IFC_F_AUTOUNIT` the unit is allocated first (`ifc_handle_unit`:
//!   `ifc_alloc_unit`, which tests `ifunit("<CLONER NAME><unit>")`, not the
//!   name the user typed) and a wildcard name gets the unit appended; then
//!   `create_f(ifc, name, IFNAMSIZ, ifd, &ifp)`; on success the kernel
//!   calls `if_clone_addif` = `ifc_link_ifp`: `if_addgroup(ifp,
//!   <cloner name>)` and links `ifp` on the cloner's list.  A create_f
//!   that fails must leave nothing behind (the unit is freed by the caller
//!   only with AUTOUNIT).
//! - Destruction: `if_clone_destroy(name)` finds the cloner by the
//!   interface's `if_dname` in `if_home_vnet`; `if_clone_destroyif_flags`
//!   sets curvnet to `ifp->if_vnet`, unlinks (`if_delgroup(ifp, <cloner
//!   name>)`), calls `destroy_f(ifc, ifp, flags)`, relinks on error, and
//!   with AUTOUNIT frees the unit `ifp->if_dunit` read BEFORE destroy_f.
//! - `ifc_detach_cloner(ifc)` destroys every interface still on the
//!   cloner's list (with `IFC_F_FORCE`) and frees the cloner.
//! - `ifc_name2unit(name, &unit)`: unit from trailing digits, -1 if none,
//!   `EINVAL` for leading zeros, non-digits after digits, or overflow.
//! - `ifc_copyin(ifd, dst, len)`: `EINVAL` if `ifd->params` is NULL;
//!   memcpy when `IFC_F_SYSSPACE`, else `copyin` (may sleep/fault).

use core::ffi::{c_char, c_int, c_void};
use core::marker::{PhantomData, PhantomPinned};
use core::mem::{offset_of, size_of};
use static_assertions::const_assert_eq;

use crate::ifnet::ifnet;
use crate::vnet::vnet;

/// `struct if_clone`: opaque (private to if_clone.c).
#[repr(C)]
pub struct if_clone {
    _opaque: [u8; 0],
    _pin: PhantomData<(*mut u8, PhantomPinned)>,
}

/// `IFCLOSIZ` (sys/net/if_clone.c): `IFNAMSIZ - 5`; a cloner name must be
/// shorter than `IFCLOSIZ - 1`.
pub const IFCLOSIZ: usize = 11;

/// `struct ifc_data` (sys/net/if_clone.h): creation request passed to
/// `create_f`.
#[repr(C)]
pub struct ifc_data {
    /// `flags`: `IFC_F_*`.
    pub flags: u32,
    /// `unit`: selected unit when `IFC_F_AUTOUNIT` is set.
    pub unit: u32,
    /// `params`: `ifr_data` of SIOCIFCREATE2 (userland unless
    /// `IFC_F_SYSSPACE`); read with `ifc_copyin`.
    pub params: *mut c_void,
    /// `vnet`.
    pub vnet: *mut vnet,
}
const_assert_eq!(size_of::<ifc_data>(), 24);
const_assert_eq!(offset_of!(ifc_data, flags), 0);
const_assert_eq!(offset_of!(ifc_data, unit), 4);
const_assert_eq!(offset_of!(ifc_data, params), 8);
const_assert_eq!(offset_of!(ifc_data, vnet), 16);

/// `ifc_match_f`: `int (struct if_clone *, const char *name)`; nonzero if
/// this cloner handles `name`.
pub type ifc_match_f = unsafe extern "C" fn(ifc: *mut if_clone, name: *const c_char) -> c_int;
/// `ifc_create_f`: `int (struct if_clone *, char *name, size_t maxlen,
/// struct ifc_data *, struct ifnet **ifpp)`; sets `*ifpp` on success.
pub type ifc_create_f = unsafe extern "C" fn(
    ifc: *mut if_clone,
    name: *mut c_char,
    maxlen: usize,
    ifd: *mut ifc_data,
    ifpp: *mut *mut ifnet,
) -> c_int;
/// `ifc_destroy_f`: `int (struct if_clone *, struct ifnet *, uint32_t
/// flags)`.
pub type ifc_destroy_f =
    unsafe extern "C" fn(ifc: *mut if_clone, ifp: *mut ifnet, flags: u32) -> c_int;

/// `struct if_clone_addreq` (version 0).
#[repr(C)]
pub struct if_clone_addreq {
    /// `version`: 0.
    pub version: u16,
    /// `spare`.
    pub spare: u16,
    /// `flags`: `IFC_F_AUTOUNIT`, `IFC_F_LIMITUNIT`.
    pub flags: u32,
    /// `maxunit`: used with `IFC_F_LIMITUNIT`.
    pub maxunit: u32,
    /// `match_f` (NULL: `ifc_simple_match`).
    pub match_f: Option<ifc_match_f>,
    /// `create_f` (required).
    pub create_f: Option<ifc_create_f>,
    /// `destroy_f` (required).
    pub destroy_f: Option<ifc_destroy_f>,
}
const_assert_eq!(size_of::<if_clone_addreq>(), 40);
const_assert_eq!(offset_of!(if_clone_addreq, version), 0);
const_assert_eq!(offset_of!(if_clone_addreq, spare), 2);
const_assert_eq!(offset_of!(if_clone_addreq, flags), 4);
const_assert_eq!(offset_of!(if_clone_addreq, maxunit), 8);
const_assert_eq!(offset_of!(if_clone_addreq, match_f), 16);
const_assert_eq!(offset_of!(if_clone_addreq, create_f), 24);
const_assert_eq!(offset_of!(if_clone_addreq, destroy_f), 32);

/// `IFC_F_SPARE`.
pub const IFC_F_SPARE: u32 = 0x01;
/// `IFC_F_AUTOUNIT`: creation flag: automatically select unit.
pub const IFC_F_AUTOUNIT: u32 = 0x02;
/// `IFC_F_SYSSPACE`: `params` is in kernel memory.
pub const IFC_F_SYSSPACE: u32 = 0x04;
/// `IFC_F_FORCE`: deletion flag: force (cloner detach).
pub const IFC_F_FORCE: u32 = 0x08;
/// `IFC_F_CREATE`: creation request.
pub const IFC_F_CREATE: u32 = 0x10;
/// `IFC_F_LIMITUNIT`: the unit number is limited by `maxunit`.
pub const IFC_F_LIMITUNIT: u32 = 0x20;

extern "C" {
    /// `struct if_clone *ifc_attach_cloner(const char *name, struct
    /// if_clone_addreq *req)`.  `name` is copied.  Sleeps.  if_clone.c;
    /// kernel.
    pub fn ifc_attach_cloner(name: *const c_char, req: *mut if_clone_addreq) -> *mut if_clone;
    /// `void ifc_detach_cloner(struct if_clone *)`.  Sleeps.  if_clone.c;
    /// kernel.
    pub fn ifc_detach_cloner(ifc: *mut if_clone);
    /// `int ifc_name2unit(const char *name, int *unit)`.  if_clone.c;
    /// kernel.
    pub fn ifc_name2unit(name: *const c_char, unit: *mut c_int) -> c_int;
    /// `int ifc_alloc_unit(struct if_clone *, int *unit)`: `*unit < 0`
    /// picks the lowest free unit; `ENOSPC`/`EEXIST`.  Takes a cloner
    /// reference, released by `ifc_free_unit`.  if_clone.c; kernel.
    pub fn ifc_alloc_unit(ifc: *mut if_clone, unit: *mut c_int) -> c_int;
    /// `void ifc_free_unit(struct if_clone *, int unit)`.  if_clone.c;
    /// kernel.
    pub fn ifc_free_unit(ifc: *mut if_clone, unit: c_int);
    /// `int ifc_copyin(const struct ifc_data *, void *target, size_t len)`.
    /// if_clone.c; kernel.
    pub fn ifc_copyin(ifd: *const ifc_data, target: *mut c_void, len: usize) -> c_int;
}
