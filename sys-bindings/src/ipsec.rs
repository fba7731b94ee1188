//! netipsec security policy and SA structures and the functions the glue
//! calls: policy allocation, ifnet-scope registration, output.
//!
//! Sources: FreeBSD 14.2 sys/netipsec/ipsec.h, sys/netipsec/keydb.h,
//! sys/netipsec/key.h, sys/netipsec/ipsec6.h, sys/net/if_enc.h; behaviour
//! read in sys/netipsec/key.c, sys/netipsec/ipsec_output.c,
//! sys/net/if_ipsec.c (b66633d79ade).  Sizes and offsets verified by
//! compiling the headers (clang, `-D_KERNEL -DKLD_MODULE`, GENERIC options).
//!
//! # Who provides which symbol (amd64 GENERIC 14.2)
//! GENERIC has `options IPSEC_SUPPORT`, not `IPSEC`.  sys/conf/files builds
//! netipsec/key.c, key_debug.c, keysock.c, ipsec_pcb.c and subr_ipsec.c
//! into the KERNEL for `ipsec_support`, so `key_newsp`, `key_addref`,
//! `key_freesp`, `key_register_ifnet`, `key_unregister_ifnet`,
//! `key_sockaddrcmp`, `key_newreqid`, `key_freesav`, `ipsec_newisr` and
//! `ipsec_delisr` (all defined in key.c) are ordinary global kernel
//! symbols, resolvable without ipsec.ko.  ipsec.ko (sys/modules/ipsec:
//! if_ipsec.c ipsec.c ipsec_input.c ipsec_mbuf.c ipsec_mod.c
//! ipsec_output.c xform_*.c udpencap.c) provides `ipsec4_process_packet`
//! and `ipsec6_process_packet` (ipsec_output.c); kmod.mk's default
//! `EXPORT_SYMS=NO` makes them LOCAL in ipsec.ko, and they resolve only
//! because `debug.link_elf_obj_leak_locals` defaults to true
//! (sys/kern/link_elf_obj.c:185) and we `MODULE_DEPEND` on `ipsec`.
//!
//! # Ownership rules (key.c, ipsec_output.c)
//! - `key_newsp()`: `malloc(M_NOWAIT | M_ZERO)`, refcnt 1 (`SP_INITREF`);
//!   may return NULL.
//! - `ipsec_newisr()`: `malloc(M_NOWAIT | M_ZERO)`; NULL on failure.  Once
//!   stored in `sp->req[i]` with `sp->tcount = i + 1`, the request belongs
//!   to the policy: the last `key_freesp` frees `req[0..tcount]` with
//!   `ipsec_delisr`.  Free it yourself only if never attached.
//! - `key_freesp(&sp)`: drops one reference; on the last one frees the
//!   policy and sets `*spp = NULL` (otherwise `*spp` is left unchanged).
//! - `key_register_ifnet(spp, n)`: assigns ids, links the policies into
//!   the ifnet-scope list (`V_sptree_ifnet[dir]`) of curvnet, sets `state =
//!   IPSEC_SPSTATE_IFNET`, takes NO extra reference, returns 0 or `EAGAIN`
//!   (no id) having registered none.  Each `spidx.dir` must be INBOUND or
//!   OUTBOUND.  Takes the SPTREE write lock (an rmlock): not in the net
//!   epoch.  `key_unregister_ifnet(spp, n)`: unlinks those still in state
//!   IFNET (sets DEAD), no reference dropped: follow with `key_freesp` on
//!   each.  Both must run with curvnet = the vnet of registration.
//! - `ipsec4_process_packet(m, sp, NULL)` / `ipsec6_...`: consume the mbuf
//!   AND one reference on `sp` on every path (success and error: the error
//!   path does `m_freem(m)` and `key_freesp(&sp)`): take `key_addref(sp)`
//!   before the call.  Call inside the net epoch.

use core::ffi::{c_int, c_long, c_uint};
use core::marker::{PhantomData, PhantomPinned};
use core::mem::{align_of, offset_of, size_of};
use static_assertions::const_assert_eq;

use crate::mbuf::mbuf;
use crate::net::{sockaddr, sockaddr_in, sockaddr_in6};

/// `union sockaddr_union` (sys/netipsec/keydb.h).
#[repr(C)]
#[derive(Clone, Copy)]
pub union sockaddr_union {
    /// `sa`.
    pub sa: sockaddr,
    /// `sin`.
    pub sin: sockaddr_in,
    /// `sin6`.
    pub sin6: sockaddr_in6,
}
const_assert_eq!(size_of::<sockaddr_union>(), 28);
const_assert_eq!(align_of::<sockaddr_union>(), 4);

/// `struct secpolicyindex` (sys/netipsec/ipsec.h): policy selector.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct secpolicyindex {
    /// `src`: IP source address for SP.
    pub src: sockaddr_union,
    /// `dst`: IP destination address for SP.
    pub dst: sockaddr_union,
    /// `ul_proto`: upper-layer protocol (`IPSEC_ULPROTO_ANY` = 255).
    pub ul_proto: u8,
    /// `dir`: `IPSEC_DIR_INBOUND`/`OUTBOUND`.
    pub dir: u8,
    /// `prefs`: prefix length in bits for src.
    pub prefs: u8,
    /// `prefd`: prefix length in bits for dst.
    pub prefd: u8,
}
const_assert_eq!(size_of::<secpolicyindex>(), 60);
const_assert_eq!(offset_of!(secpolicyindex, src), 0);
const_assert_eq!(offset_of!(secpolicyindex, dst), 28);
const_assert_eq!(offset_of!(secpolicyindex, ul_proto), 56);
const_assert_eq!(offset_of!(secpolicyindex, dir), 57);
const_assert_eq!(offset_of!(secpolicyindex, prefs), 58);
const_assert_eq!(offset_of!(secpolicyindex, prefd), 59);

/// `struct secasindex` (sys/netipsec/keydb.h): SA index (also the
/// request's SA template).
#[repr(C)]
#[derive(Clone, Copy)]
pub struct secasindex {
    /// `src`: source address for SA.
    pub src: sockaddr_union,
    /// `dst`: destination address for SA.
    pub dst: sockaddr_union,
    /// `proto`: `IPPROTO_ESP` or `IPPROTO_AH`.
    pub proto: u8,
    /// `mode`: `IPSEC_MODE_*`.
    pub mode: u8,
    /// `reqid`.
    pub reqid: u32,
}
const_assert_eq!(size_of::<secasindex>(), 64);
const_assert_eq!(offset_of!(secasindex, src), 0);
const_assert_eq!(offset_of!(secasindex, dst), 28);
const_assert_eq!(offset_of!(secasindex, proto), 56);
const_assert_eq!(offset_of!(secasindex, mode), 57);
const_assert_eq!(offset_of!(secasindex, reqid), 60);

/// `struct ipsecrequest` (sys/netipsec/ipsec.h).
#[repr(C)]
pub struct ipsecrequest {
    /// `saidx`: hint to find the SA; `sa_len == 0` means no address.
    pub saidx: secasindex,
    /// `level`: `IPSEC_LEVEL_*`.
    pub level: c_uint,
}
const_assert_eq!(size_of::<ipsecrequest>(), 68);
const_assert_eq!(offset_of!(ipsecrequest, saidx), 0);
const_assert_eq!(offset_of!(ipsecrequest, level), 64);

/// `TAILQ_ENTRY(T)` / `TAILQ_HEAD(, T)`: two pointers.
#[repr(C)]
pub struct tailq_link<T> {
    /// `tqe_next` / `tqh_first`.
    pub next: *mut T,
    /// `tqe_prev` / `tqh_last`.
    pub prev: *mut *mut T,
}
// sys/sys/queue.h (b66633d79ade): an entry is two pointers on amd64.
const_assert_eq!(size_of::<tailq_link<u8>>(), 16);
const_assert_eq!(offset_of!(tailq_link<u8>, prev), 8);

/// `LIST_ENTRY(T)`: two pointers.
#[repr(C)]
pub struct list_entry<T> {
    /// `le_next`.
    pub le_next: *mut T,
    /// `le_prev`.
    pub le_prev: *mut *mut T,
}
// sys/sys/queue.h (b66633d79ade): an entry is two pointers on amd64.
const_assert_eq!(size_of::<list_entry<u8>>(), 16);
const_assert_eq!(offset_of!(list_entry<u8>, le_prev), 8);

/// `IPSEC_MAXREQ`: transforms per policy.
pub const IPSEC_MAXREQ: usize = 4;
/// `IPSEC_SPSTATE_LARVAL` (state of a fresh `key_newsp`).
pub const IPSEC_SPSTATE_LARVAL: c_uint = 1;
/// `IPSEC_SPSTATE_ALIVE`.
pub const IPSEC_SPSTATE_ALIVE: c_uint = 2;
/// `IPSEC_SPSTATE_PCB`.
pub const IPSEC_SPSTATE_PCB: c_uint = 3;

/// `struct secpolicy` (sys/netipsec/ipsec.h).  Allocate only with
/// `key_newsp`; the list links belong to key.c.
#[repr(C)]
pub struct secpolicy {
    /// `chain`: SPD list link.
    pub chain: tailq_link<secpolicy>,
    /// `idhash`.
    pub idhash: list_entry<secpolicy>,
    /// `drainq`.
    pub drainq: list_entry<secpolicy>,
    /// `spidx`: selector.
    pub spidx: secpolicyindex,
    /// `req[IPSEC_MAXREQ]`.
    pub req: [*mut ipsecrequest; IPSEC_MAXREQ],
    /// `tcount`: number of transforms in `req`.
    pub tcount: c_uint,
    /// `refcnt` (volatile; only via `key_addref`/`key_freesp`).
    pub refcnt: c_uint,
    /// `policy`: `IPSEC_POLICY_*`.
    pub policy: c_uint,
    /// `state`: `IPSEC_SPSTATE_*`.
    pub state: c_uint,
    /// `priority`: C if_ipsec uses the interface index.
    pub priority: u32,
    /// `id`: unique number, set by registration.
    pub id: u32,
    /// `created` (`time_t`).
    pub created: i64,
    /// `lastused` (`time_t`).
    pub lastused: i64,
    /// `lifetime`.
    pub lifetime: c_long,
    /// `validtime`.
    pub validtime: c_long,
}
const_assert_eq!(size_of::<secpolicy>(), 200);
const_assert_eq!(offset_of!(secpolicy, chain), 0);
const_assert_eq!(offset_of!(secpolicy, idhash), 16);
const_assert_eq!(offset_of!(secpolicy, drainq), 32);
const_assert_eq!(offset_of!(secpolicy, spidx), 48);
const_assert_eq!(offset_of!(secpolicy, req), 112);
const_assert_eq!(offset_of!(secpolicy, tcount), 144);
const_assert_eq!(offset_of!(secpolicy, refcnt), 148);
const_assert_eq!(offset_of!(secpolicy, policy), 152);
const_assert_eq!(offset_of!(secpolicy, state), 156);
const_assert_eq!(offset_of!(secpolicy, priority), 160);
const_assert_eq!(offset_of!(secpolicy, id), 164);
const_assert_eq!(offset_of!(secpolicy, created), 168);
const_assert_eq!(offset_of!(secpolicy, lastused), 176);
const_assert_eq!(offset_of!(secpolicy, lifetime), 184);
const_assert_eq!(offset_of!(secpolicy, validtime), 192);

/// `struct secashead` (sys/netipsec/keydb.h).  The input glue reads
/// `saidx` (through `sav->sah`).
#[repr(C)]
pub struct secashead {
    /// `chain`.
    pub chain: tailq_link<secashead>,
    /// `addrhash`.
    pub addrhash: list_entry<secashead>,
    /// `drainq`.
    pub drainq: list_entry<secashead>,
    /// `saidx`: src/dst/proto/mode/reqid of the SAs under this head.
    pub saidx: secasindex,
    /// `idents` (`struct secident *`).
    pub idents: *mut secident,
    /// `identd`.
    pub identd: *mut secident,
    /// `refcnt`.
    pub refcnt: c_uint,
    /// `state`: MATURE or DEAD.
    pub state: u8,
    /// `savtree_alive` (`TAILQ_HEAD(secasvar_queue, secasvar)`).
    pub savtree_alive: tailq_link<secasvar>,
    /// `savtree_larval`.
    pub savtree_larval: tailq_link<secasvar>,
}
const_assert_eq!(size_of::<secashead>(), 168);
const_assert_eq!(offset_of!(secashead, saidx), 48);
const_assert_eq!(offset_of!(secashead, idents), 112);
const_assert_eq!(offset_of!(secashead, refcnt), 128);
const_assert_eq!(offset_of!(secashead, state), 132);
const_assert_eq!(offset_of!(secashead, savtree_alive), 136);
const_assert_eq!(offset_of!(secashead, savtree_larval), 152);

/// Opaque key.c types referenced by pointer from `secasvar`/`secashead`.
macro_rules! opaque {
    ($($(#[$m:meta])* $name:ident),* $(,)?) => {$(
        $(#[$m])*
        #[repr(C)]
        pub struct $name {
            _opaque: [u8; 0],
            _pin: PhantomData<(*mut u8, PhantomPinned)>,
        }
    )*};
}
opaque!(
    /// `struct secident`.
    secident,
    /// `struct seckey`.
    seckey,
    /// `struct secreplay`.
    secreplay,
    /// `struct secnatt`.
    secnatt,
    /// `struct seclifetime`.
    seclifetime,
    /// `struct xformsw`.
    xformsw,
    /// `struct enc_xform`.
    enc_xform,
    /// `struct auth_hash`.
    auth_hash,
    /// `struct comp_algo`.
    comp_algo,
    /// `struct rmlock`.
    rmlock,
    /// `struct inpcb`.
    inpcb,
);

/// `struct secasvar` (sys/netipsec/keydb.h): a security association.  The
/// input glue reads `state` and `sah` only; it never owns a reference
/// (the hook's caller does).
#[repr(C)]
pub struct secasvar {
    /// `spi`: network byte order.
    pub spi: u32,
    /// `flags`: `SADB_KEY_FLAGS`.
    pub flags: u32,
    /// `seq`.
    pub seq: u32,
    /// `pid`.
    pub pid: i32,
    /// `ivlen`.
    pub ivlen: c_uint,
    /// `sah`: back pointer to the SA head.
    pub sah: *mut secashead,
    /// `key_auth`.
    pub key_auth: *mut seckey,
    /// `key_enc`.
    pub key_enc: *mut seckey,
    /// `replay`.
    pub replay: *mut secreplay,
    /// `natt`: NAT-T config.
    pub natt: *mut secnatt,
    /// `lock`.
    pub lock: *mut rmlock,
    /// `tdb_xform`.
    pub tdb_xform: *const xformsw,
    /// `tdb_encalgxform`.
    pub tdb_encalgxform: *const enc_xform,
    /// `tdb_authalgxform`.
    pub tdb_authalgxform: *const auth_hash,
    /// `tdb_compalgxform`.
    pub tdb_compalgxform: *const comp_algo,
    /// `tdb_cryptoid` (`crypto_session_t`, a pointer).
    pub tdb_cryptoid: *mut core::ffi::c_void,
    /// `alg_auth`.
    pub alg_auth: u8,
    /// `alg_enc`.
    pub alg_enc: u8,
    /// `alg_comp`.
    pub alg_comp: u8,
    /// `state`: `SADB_SASTATE_*` (pfkeyv2.h).
    pub state: u8,
    /// `lft_c` (`counter_u64_t`).
    pub lft_c: *mut u64,
    /// `lft_h`.
    pub lft_h: *mut seclifetime,
    /// `lft_s`.
    pub lft_s: *mut seclifetime,
    /// `created`.
    pub created: u64,
    /// `firstused`.
    pub firstused: u64,
    /// `chain`.
    pub chain: tailq_link<secasvar>,
    /// `spihash`.
    pub spihash: list_entry<secasvar>,
    /// `drainq`.
    pub drainq: list_entry<secasvar>,
    /// `cntr`: counter for GCM and CTR.
    pub cntr: u64,
    /// `refcnt`.
    pub refcnt: c_uint,
}
const_assert_eq!(size_of::<secasvar>(), 224);
const_assert_eq!(offset_of!(secasvar, spi), 0);
const_assert_eq!(offset_of!(secasvar, ivlen), 16);
const_assert_eq!(offset_of!(secasvar, sah), 24);
const_assert_eq!(offset_of!(secasvar, natt), 56);
const_assert_eq!(offset_of!(secasvar, tdb_cryptoid), 104);
const_assert_eq!(offset_of!(secasvar, alg_auth), 112);
const_assert_eq!(offset_of!(secasvar, state), 115);
const_assert_eq!(offset_of!(secasvar, lft_c), 120);
const_assert_eq!(offset_of!(secasvar, created), 144);
const_assert_eq!(offset_of!(secasvar, chain), 160);
const_assert_eq!(offset_of!(secasvar, spihash), 176);
const_assert_eq!(offset_of!(secasvar, drainq), 192);
const_assert_eq!(offset_of!(secasvar, cntr), 208);
const_assert_eq!(offset_of!(secasvar, refcnt), 216);

/// `struct ipsec_ctx_data` (sys/net/if_enc.h): the `ctx_data` argument of
/// IPsec hhooks (`ipsec_run_hhooks`).
#[repr(C)]
pub struct ipsec_ctx_data {
    /// `mp`: the packet; a hook that consumes it sets `*mp = NULL`
    /// (`ipsec_run_hhooks` then returns `EACCES`).
    pub mp: *mut *mut mbuf,
    /// `sav`: the SA (input: the one that decrypted the packet).
    pub sav: *mut secasvar,
    /// `inp`.
    pub inp: *mut inpcb,
    /// `af`: `AF_INET`/`AF_INET6` of the packet at this point.
    pub af: u8,
    /// `enc`: `IPSEC_ENC_BEFORE` or `IPSEC_ENC_AFTER`.
    pub enc: u8,
}
const_assert_eq!(size_of::<ipsec_ctx_data>(), 32);
const_assert_eq!(offset_of!(ipsec_ctx_data, mp), 0);
const_assert_eq!(offset_of!(ipsec_ctx_data, sav), 8);
const_assert_eq!(offset_of!(ipsec_ctx_data, inp), 16);
const_assert_eq!(offset_of!(ipsec_ctx_data, af), 24);
const_assert_eq!(offset_of!(ipsec_ctx_data, enc), 25);

/// `IPSEC_ENC_BEFORE` (sys/net/if_enc.h): hook runs before
/// encryption/decryption.
pub const IPSEC_ENC_BEFORE: u8 = 0x01;
/// `IPSEC_ENC_AFTER`: hook runs after (input: on the decrypted packet).
pub const IPSEC_ENC_AFTER: u8 = 0x02;

extern "C" {
    /// `struct secpolicy *key_newsp(void)`.  key.c; kernel.
    pub fn key_newsp() -> *mut secpolicy;
    /// `struct ipsecrequest *ipsec_newisr(void)`.  key.c; kernel.
    pub fn ipsec_newisr() -> *mut ipsecrequest;
    /// `void ipsec_delisr(struct ipsecrequest *)`.  key.c; kernel.
    pub fn ipsec_delisr(isr: *mut ipsecrequest);
    /// `void key_addref(struct secpolicy *)`.  key.c; kernel.
    pub fn key_addref(sp: *mut secpolicy);
    /// `void key_freesp(struct secpolicy **)`.  key.c; kernel.
    pub fn key_freesp(spp: *mut *mut secpolicy);
    /// `int key_register_ifnet(struct secpolicy **, u_int)`.  key.c;
    /// kernel.
    pub fn key_register_ifnet(spp: *mut *mut secpolicy, count: c_uint) -> c_int;
    /// `void key_unregister_ifnet(struct secpolicy **, u_int)`.  key.c;
    /// kernel.
    pub fn key_unregister_ifnet(spp: *mut *mut secpolicy, count: c_uint);
    /// `uint32_t key_newreqid(void)`: next reqid from a global counter
    /// (starts above `IPSEC_MANUAL_REQID_MAX`, not atomic).  key.c; kernel.
    pub fn key_newreqid() -> u32;
    /// `int key_sockaddrcmp(const struct sockaddr *, const struct sockaddr
    /// *, int port)`: 0 if equal (family, len, address; ports too when
    /// `port` != 0; scope id for v6), nonzero otherwise.  key.c; kernel.
    pub fn key_sockaddrcmp(sa1: *const sockaddr, sa2: *const sockaddr, port: c_int) -> c_int;
    /// `int ipsec4_process_packet(struct mbuf *, struct secpolicy *,
    /// struct inpcb *)`.  Consumes `m` and one `sp` reference.
    /// sys/netipsec/ipsec_output.c; ipsec.ko (LOCAL symbol).
    pub fn ipsec4_process_packet(m: *mut mbuf, sp: *mut secpolicy, inp: *mut inpcb) -> c_int;
    /// `int ipsec6_process_packet(struct mbuf *, struct secpolicy *,
    /// struct inpcb *)`.  Same contract.  sys/netipsec/ipsec_output.c;
    /// ipsec.ko (LOCAL symbol).
    pub fn ipsec6_process_packet(m: *mut mbuf, sp: *mut secpolicy, inp: *mut inpcb) -> c_int;
}
