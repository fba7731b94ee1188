//! Network interfaces: opaque `struct ifnet` (`if_t`), the IfAPI accessors
//! of FreeBSD 14, callback typedefs, `IFF_*` flags, `ift_counter`.
//!
//! Sources: FreeBSD 14.2 sys/net/if_var.h, sys/net/if.h, sys/net/if_types.h,
//! sys/net/if_private.h (b66633d79ade).  Every function below is a real,
//! non-static function defined in sys/net/if.c (same commit) and exported
//! by the kernel: none of them is an inline or a macro in 14.2.
//!
//! # Not in 14.2 (do not import)
//! - `if_setaddrlen`, `if_settype`, `if_setfib`, `if_getxname` do not exist.
//!   `if_alloc` zero-fills the ifnet (`malloc(M_WAITOK | M_ZERO)`,
//!   if.c `if_alloc_domain`) and sets `if_type`/`if_alloctype` from its
//!   argument, so `if_addrlen` is already 0 (C if_ipsec's `ifp->if_addrlen
//!   = 0` is redundant) and `if_fib` is 0 until `SIOCSIFFIB` (handled by
//!   the generic `ifhwioctl`, not the driver).  `if_name(ifp)` returns
//!   `if_xname`.
//!
//! # Name fields
//! `if_initname(ifp, name, unit)` sets `if_dname = name` (the pointer is
//! stored, not copied: it must outlive the interface), `if_dunit = unit`
//! and `if_xname = "<name><unit>"`.  `if_setdname(ifp, name)` overwrites
//! only `if_dname` (pointer, not copied).  if_clone.c `if_clone_destroy`
//! finds the cloner by `if_dname` (in `if_home_vnet`), so an interface whose
//! `if_xname` is "ipsecN" but that our cloner must destroy needs
//! `if_initname(ifp, "ipsec", N)` followed by `if_setdname(ifp,
//! <our cloner name>)`.
//!
//! # Sleeping
//! `if_alloc` (M_WAITOK), `if_attach`, `if_detach`, `if_addgroup`,
//! `if_delgroup` sleep/take sx locks: never call them inside the net epoch.
//! `if_inc_counter` (a `counter_u64_add`) and the get/set accessors are
//! plain field accesses, fine anywhere.

use core::ffi::{c_char, c_int, c_uint, c_ulong, c_void};
use core::marker::{PhantomData, PhantomPinned};

use crate::mbuf::mbuf;
use crate::net::sockaddr;

/// `struct ifnet` (sys/net/if_private.h): opaque; use the IfAPI.
/// `sizeof(struct ifnet)` = 1288 in GENERIC (verified by compiling).
#[repr(C)]
pub struct ifnet {
    _opaque: [u8; 0],
    _pin: PhantomData<(*mut u8, PhantomPinned)>,
}

/// `if_t`: `struct ifnet *` (sys/net/if.h `typedef struct ifnet *if_t`).
pub type if_t = *mut ifnet;

/// `struct route` (sys/net/route.h): opaque; only passed through
/// `if_output`.
#[repr(C)]
pub struct route {
    _opaque: [u8; 0],
    _pin: PhantomData<(*mut u8, PhantomPinned)>,
}

/// `struct vnet` is declared in [`crate::vnet`].
pub use crate::vnet::vnet;

/// `ift_counter` (if_var.h enum; `int`-sized, verified 4 bytes).
pub type ift_counter = c_int;
/// `IFCOUNTER_IPACKETS`.
pub const IFCOUNTER_IPACKETS: ift_counter = 0;
/// `IFCOUNTER_IERRORS`.
pub const IFCOUNTER_IERRORS: ift_counter = 1;
/// `IFCOUNTER_OPACKETS`.
pub const IFCOUNTER_OPACKETS: ift_counter = 2;
/// `IFCOUNTER_OERRORS`.
pub const IFCOUNTER_OERRORS: ift_counter = 3;
/// `IFCOUNTER_COLLISIONS`.
pub const IFCOUNTER_COLLISIONS: ift_counter = 4;
/// `IFCOUNTER_IBYTES`.
pub const IFCOUNTER_IBYTES: ift_counter = 5;
/// `IFCOUNTER_OBYTES`.
pub const IFCOUNTER_OBYTES: ift_counter = 6;
/// `IFCOUNTER_IMCASTS`.
pub const IFCOUNTER_IMCASTS: ift_counter = 7;
/// `IFCOUNTER_OMCASTS`.
pub const IFCOUNTER_OMCASTS: ift_counter = 8;
/// `IFCOUNTER_IQDROPS`.
pub const IFCOUNTER_IQDROPS: ift_counter = 9;
/// `IFCOUNTER_OQDROPS`.
pub const IFCOUNTER_OQDROPS: ift_counter = 10;
/// `IFCOUNTER_NOPROTO`.
pub const IFCOUNTER_NOPROTO: ift_counter = 11;
/// `IFCOUNTERS`: number of counters.
pub const IFCOUNTERS: ift_counter = 12;

/// `if_start_fn_t`: `void (*)(if_t)`.
pub type if_start_fn_t = Option<unsafe extern "C" fn(if_t)>;
/// `if_ioctl_fn_t`: `int (*)(if_t, u_long, caddr_t)`.
pub type if_ioctl_fn_t = Option<unsafe extern "C" fn(if_t, c_ulong, *mut c_char) -> c_int>;
/// `if_init_fn_t`: `void (*)(void *)`.
pub type if_init_fn_t = Option<unsafe extern "C" fn(*mut c_void)>;
/// `if_input_fn_t`: `void (*)(if_t, struct mbuf *)`.
pub type if_input_fn_t = Option<unsafe extern "C" fn(if_t, *mut mbuf)>;
/// `if_output_fn_t`: `int (*)(if_t, struct mbuf *, const struct sockaddr
/// *, struct route *)`.
pub type if_output_fn_t =
    Option<unsafe extern "C" fn(if_t, *mut mbuf, *const sockaddr, *mut route) -> c_int>;
/// `if_qflush_fn_t`: `void (*)(if_t)`.
pub type if_qflush_fn_t = Option<unsafe extern "C" fn(if_t)>;
/// `if_transmit_fn_t`: `int (*)(if_t, struct mbuf *)`; consumes the mbuf.
pub type if_transmit_fn_t = Option<unsafe extern "C" fn(if_t, *mut mbuf) -> c_int>;
/// `if_get_counter_t`: `uint64_t (*)(if_t, ift_counter)`.
pub type if_get_counter_t = Option<unsafe extern "C" fn(if_t, ift_counter) -> u64>;
/// `if_reassign_fn_t`: `void (*)(if_t, struct vnet *, char *)`: called by
/// `if_vmove` when the interface moves to another VNET.
pub type if_reassign_fn_t = Option<unsafe extern "C" fn(if_t, *mut vnet, *mut c_char)>;

/// `IF_NAMESIZE` / `IFNAMSIZ` (sys/net/if.h).
pub const IF_NAMESIZE: usize = 16;
/// `IF_MAXUNIT` (sys/net/if.h): historical maximum unit (0x7fff).
pub const IF_MAXUNIT: c_int = 0x7fff;
/// `IF_DUNIT_NONE` (if_var.h): `if_initname` unit meaning "no unit".
pub const IF_DUNIT_NONE: c_int = -1;
/// `IF_MINMTU` (if_var.h).
pub const IF_MINMTU: c_int = 72;
/// `IF_MAXMTU` (if_var.h).
pub const IF_MAXMTU: c_int = 65535;

/// `IFT_OTHER` (sys/net/if_types.h).
pub const IFT_OTHER: u8 = 0x1;
/// `IFT_TUNNEL` (sys/net/if_types.h): encapsulation; C if_ipsec's type.
pub const IFT_TUNNEL: u8 = 0x83;

/// `LINK_STATE_UNKNOWN` (sys/net/if.h).
pub const LINK_STATE_UNKNOWN: c_int = 0;
/// `LINK_STATE_DOWN`.
pub const LINK_STATE_DOWN: c_int = 1;
/// `LINK_STATE_UP`.
pub const LINK_STATE_UP: c_int = 2;

/// `IFF_UP` (sys/net/if.h; `if_flags`).
pub const IFF_UP: c_int = 0x1;
/// `IFF_BROADCAST`.
pub const IFF_BROADCAST: c_int = 0x2;
/// `IFF_DEBUG`.
pub const IFF_DEBUG: c_int = 0x4;
/// `IFF_LOOPBACK`.
pub const IFF_LOOPBACK: c_int = 0x8;
/// `IFF_POINTOPOINT`.
pub const IFF_POINTOPOINT: c_int = 0x10;
/// `IFF_NEEDSEPOCH`: calls `if_input` without the net epoch.
pub const IFF_NEEDSEPOCH: c_int = 0x20;
/// `IFF_DRV_RUNNING` (`if_drv_flags`): resources allocated; C if_ipsec
/// sets it iff the tunnel source address is local.
pub const IFF_DRV_RUNNING: c_int = 0x40;
/// `IFF_NOARP`.
pub const IFF_NOARP: c_int = 0x80;
/// `IFF_PROMISC`.
pub const IFF_PROMISC: c_int = 0x100;
/// `IFF_ALLMULTI`.
pub const IFF_ALLMULTI: c_int = 0x200;
/// `IFF_DRV_OACTIVE` (`if_drv_flags`).
pub const IFF_DRV_OACTIVE: c_int = 0x400;
/// `IFF_SIMPLEX`.
pub const IFF_SIMPLEX: c_int = 0x800;
/// `IFF_LINK0`.
pub const IFF_LINK0: c_int = 0x1000;
/// `IFF_LINK1`.
pub const IFF_LINK1: c_int = 0x2000;
/// `IFF_LINK2`.
pub const IFF_LINK2: c_int = 0x4000;
/// `IFF_MULTICAST`.
pub const IFF_MULTICAST: c_int = 0x8000;
/// `IFF_CANTCONFIG`.
pub const IFF_CANTCONFIG: c_int = 0x10000;
/// `IFF_PPROMISC`.
pub const IFF_PPROMISC: c_int = 0x20000;
/// `IFF_MONITOR`: user-requested monitor mode (C if_ipsec drops input).
pub const IFF_MONITOR: c_int = 0x40000;
/// `IFF_STATICARP`.
pub const IFF_STATICARP: c_int = 0x80000;
/// `IFF_STICKYARP`.
pub const IFF_STICKYARP: c_int = 0x100000;
/// `IFF_DYING`: interface is winding down.
pub const IFF_DYING: c_int = 0x200000;
/// `IFF_RENAMING`.
pub const IFF_RENAMING: c_int = 0x400000;
/// `IFF_PALLMULTI`.
pub const IFF_PALLMULTI: c_int = 0x800000;
/// `IFF_NETLINK_1`.
pub const IFF_NETLINK_1: c_int = 0x1000000;

/// Offsets inside `struct ifnet` (GENERIC, verified by compiling
/// sys/net/if_private.h).  For the KPI model and for review; the glue uses
/// the IfAPI functions, never these.
pub mod ifnet_offsets {
    /// `sizeof(struct ifnet)`.
    pub const SIZEOF_IFNET: usize = 1288;
    /// `if_softc` (`void *`).
    pub const IF_SOFTC: usize = 48;
    /// `if_dname` (`const char *`).
    pub const IF_DNAME: usize = 72;
    /// `if_dunit` (`int`).
    pub const IF_DUNIT: usize = 80;
    /// `if_index` (`u_short`).
    pub const IF_INDEX: usize = 84;
    /// `if_xname` (`char[IFNAMSIZ]`).
    pub const IF_XNAME: usize = 88;
    /// `if_flags` (`int`).
    pub const IF_FLAGS: usize = 112;
    /// `if_drv_flags` (`int`).
    pub const IF_DRV_FLAGS: usize = 116;
    /// `if_type` (`uint8_t`).
    pub const IF_TYPE: usize = 156;
    /// `if_addrlen` (`uint8_t`).
    pub const IF_ADDRLEN: usize = 157;
    /// `if_mtu` (`uint32_t`).
    pub const IF_MTU: usize = 160;
    /// `if_fib` (`u_int`).
    pub const IF_FIB: usize = 900;
    /// `if_vnet` (`struct vnet *`).
    pub const IF_VNET: usize = 904;
    /// `if_home_vnet` (`struct vnet *`).
    pub const IF_HOME_VNET: usize = 912;
    /// `if_bpf` (`struct bpf_if *`).
    pub const IF_BPF: usize = 928;
    /// `if_output`.
    pub const IF_OUTPUT: usize = 992;
    /// `if_ioctl`.
    pub const IF_IOCTL: usize = 1040;
    /// `if_qflush`.
    pub const IF_QFLUSH: usize = 1064;
    /// `if_transmit`.
    pub const IF_TRANSMIT: usize = 1072;
    /// `if_reassign`.
    pub const IF_REASSIGN: usize = 1080;
}

extern "C" {
    /// `if_t if_alloc(u_char type)`: M_WAITOK, never NULL; the ifnet gets
    /// `if_vnet = curvnet` and an index.  if.c; kernel.
    pub fn if_alloc(ty: u8) -> if_t;
    /// `void if_initname(if_t, const char *name, int unit)`.  if.c; kernel.
    pub fn if_initname(ifp: if_t, name: *const c_char, unit: c_int);
    /// `void if_attach(if_t)`.  Sleeps.  if.c; kernel.
    pub fn if_attach(ifp: if_t);
    /// `void if_detach(if_t)`.  Sleeps.  if.c; kernel.
    pub fn if_detach(ifp: if_t);
    /// `void if_free(if_t)`: drops the index reference; freed via epoch
    /// when the last reference goes.  if.c; kernel.
    pub fn if_free(ifp: if_t);
    /// `void *if_getsoftc(if_t)`.  if.c; kernel.
    pub fn if_getsoftc(ifp: if_t) -> *mut c_void;
    /// `int if_setsoftc(if_t, void *)`: returns 0.  if.c; kernel.
    pub fn if_setsoftc(ifp: if_t, softc: *mut c_void) -> c_int;
    /// `int if_getflags(const if_t)`.  if.c; kernel.
    pub fn if_getflags(ifp: if_t) -> c_int;
    /// `int if_setflags(if_t, int)`: returns 0.  if.c; kernel.
    pub fn if_setflags(ifp: if_t, flags: c_int) -> c_int;
    /// `int if_setflagbits(if_t, int set, int clear)`: clears then sets;
    /// returns 0; not atomic.  if.c; kernel.
    pub fn if_setflagbits(ifp: if_t, set: c_int, clear: c_int) -> c_int;
    /// `int if_getdrvflags(const if_t)`.  if.c; kernel.
    pub fn if_getdrvflags(ifp: if_t) -> c_int;
    /// `int if_setdrvflags(if_t, int)`: returns 0.  if.c; kernel.
    pub fn if_setdrvflags(ifp: if_t, flags: c_int) -> c_int;
    /// `int if_setdrvflagbits(if_t, int set, int clear)`: `|= set` then
    /// `&= ~clear`; returns 0; not atomic.  if.c; kernel.
    pub fn if_setdrvflagbits(ifp: if_t, set: c_int, clear: c_int) -> c_int;
    /// `int if_getmtu(const if_t)`.  if.c; kernel.
    pub fn if_getmtu(ifp: if_t) -> c_int;
    /// `int if_setmtu(if_t, int)`: returns 0.  if.c; kernel.
    pub fn if_setmtu(ifp: if_t, mtu: c_int) -> c_int;
    /// `int if_getindex(const if_t)`: `if_index`.  if.c; kernel.
    pub fn if_getindex(ifp: if_t) -> c_int;
    /// `int if_getdunit(const if_t)`.  if.c; kernel.
    pub fn if_getdunit(ifp: if_t) -> c_int;
    /// `u_int if_getfib(if_t)`.  if.c; kernel.
    pub fn if_getfib(ifp: if_t) -> c_uint;
    /// `int if_gettype(const if_t)`.  if.c; kernel.
    pub fn if_gettype(ifp: if_t) -> c_int;
    /// `uint8_t if_getaddrlen(if_t)`.  if.c; kernel.
    pub fn if_getaddrlen(ifp: if_t) -> u8;
    /// `const char *if_getdname(const if_t)`.  if.c; kernel.
    pub fn if_getdname(ifp: if_t) -> *const c_char;
    /// `void if_setdname(if_t, const char *)`: stores the pointer.  if.c;
    /// kernel.
    pub fn if_setdname(ifp: if_t, name: *const c_char);
    /// `const char *if_name(if_t)`: `if_xname`.  if.c; kernel.
    pub fn if_name(ifp: if_t) -> *const c_char;
    /// `struct vnet *if_getvnet(const if_t)`.  if.c; kernel.
    pub fn if_getvnet(ifp: if_t) -> *mut vnet;
    /// `void if_setioctlfn(if_t, if_ioctl_fn_t)`.  if.c; kernel.
    pub fn if_setioctlfn(ifp: if_t, f: if_ioctl_fn_t);
    /// `void if_setoutputfn(if_t, if_output_fn_t)` (exists in 14.2).
    /// if.c; kernel.
    pub fn if_setoutputfn(ifp: if_t, f: if_output_fn_t);
    /// `void if_settransmitfn(if_t, if_transmit_fn_t)`.  if.c; kernel.
    pub fn if_settransmitfn(ifp: if_t, f: if_transmit_fn_t);
    /// `void if_setqflushfn(if_t, if_qflush_fn_t)`.  if.c; kernel.
    pub fn if_setqflushfn(ifp: if_t, f: if_qflush_fn_t);
    /// `void if_setinitfn(if_t, if_init_fn_t)`.  if.c; kernel.
    pub fn if_setinitfn(ifp: if_t, f: if_init_fn_t);
    /// `void if_setreassignfn(if_t, if_reassign_fn_t)` (exists in 14.2).
    /// if.c; kernel.
    pub fn if_setreassignfn(ifp: if_t, f: if_reassign_fn_t);
    /// `void if_setgetcounterfn(if_t, if_get_counter_t)`.  if.c; kernel.
    pub fn if_setgetcounterfn(ifp: if_t, f: if_get_counter_t);
    /// `void if_inc_counter(if_t, ift_counter, int64_t)`: per-CPU
    /// `counter_u64_add`, lock-free.  if.c; kernel.
    pub fn if_inc_counter(ifp: if_t, cnt: ift_counter, inc: i64);
    /// `uint64_t if_get_counter_default(if_t, ift_counter)`.  if.c; kernel.
    pub fn if_get_counter_default(ifp: if_t, cnt: ift_counter) -> u64;
    /// `int if_addgroup(if_t, const char *)`: 0, `EEXIST` if already a
    /// member, `EINVAL` for a name ending in a digit, `ENOMEM`.  Sleeps.
    /// if.c; kernel.
    pub fn if_addgroup(ifp: if_t, group: *const c_char) -> c_int;
    /// `int if_delgroup(if_t, const char *)`: 0 or `ENOENT`.  if.c; kernel.
    pub fn if_delgroup(ifp: if_t, group: *const c_char) -> c_int;
    /// `if_t ifunit(const char *)`: lookup by `if_xname` in curvnet's list
    /// (enters the net epoch itself).  No reference is taken: use the
    /// result as an existence test, or dereference it only inside a net
    /// epoch section entered before the call.  if.c; kernel.
    pub fn ifunit(name: *const c_char) -> if_t;
    /// `if_t ifunit_ref(const char *)`: lookup with a reference; release
    /// with `if_rele`.  if.c; kernel.
    pub fn ifunit_ref(name: *const c_char) -> if_t;
    /// `void if_ref(if_t)`.  if.c; kernel.
    pub fn if_ref(ifp: if_t);
    /// `void if_rele(if_t)`.  if.c; kernel.
    pub fn if_rele(ifp: if_t);
    /// `void if_link_state_change(if_t, int)`.  if.c; kernel.
    pub fn if_link_state_change(ifp: if_t, state: c_int);
    /// `void *ifr_data_get_ptr(void *ifrp)`: `ifr_data` of a `struct
    /// ifreq` (handles 32-bit compat callers).  if.c; kernel.
    pub fn ifr_data_get_ptr(ifrp: *mut c_void) -> *mut c_void;
}
