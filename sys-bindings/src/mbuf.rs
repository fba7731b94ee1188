//! mbuf(9): `struct mbuf`, `struct pkthdr`, `struct m_tag`, the flags and
//! functions the glue uses.
//!
//! Source: FreeBSD 14.2 sys/sys/mbuf.h (b66633d79ade); functions defined in
//! sys/kern/kern_mbuf.c, sys/kern/uipc_mbuf.c, sys/kern/uipc_mbuf2.c (same
//! commit).  Sizes and offsets below were checked by compiling the header
//! (clang `--target=x86_64-unknown-freebsd14.2 -D_KERNEL -DKLD_MODULE`,
//! GENERIC options) and reading `sizeof`/`offsetof`.
//!
//! # The `m_type`/`m_flags` bitfield
//! C declares `uint32_t m_type:8, m_flags:24;` at offset 28.  The amd64
//! SysV ABI allocates bitfields from the least significant bit, so in the
//! 32-bit word (`mbuf::m_type_flags`) `m_type` is bits 0..8 and `m_flags`
//! bits 8..32: `m_flags == word >> M_FLAGS_SHIFT`,
//! `m_type == word & M_TYPE_MASK`.  Verified: a static mbuf initialised
//! `{ .m_type = 0xAB, .m_flags = 0x123456 }` holds the bytes
//! `ab 56 34 12` at offset 28.  Every `M_*` flag constant below is in
//! `m_flags` units (unshifted), as in C.

use core::ffi::{c_char, c_int};
use core::mem::{offset_of, size_of};
use static_assertions::const_assert_eq;

use crate::ifnet::ifnet;

pub use crate::kern::malloc::{M_NOWAIT, M_WAITOK, M_ZERO};

/// `MSIZE` (sys/sys/param.h): size of an mbuf.
pub const MSIZE: usize = 256;
/// `MLEN`: data bytes in an mbuf without packet header (`MSIZE - 32`).
pub const MLEN: usize = 224;
/// `MHLEN`: data bytes in an mbuf with packet header (`MSIZE - 96`).
pub const MHLEN: usize = 160;

/// `MT_DATA`: dynamic (data) allocation.
pub const MT_DATA: u8 = 1;

/// `M_EXT`: has associated external storage.
pub const M_EXT: u32 = 0x0000_0001;
/// `M_PKTHDR`: start of record (`m_pkthdr` valid).
pub const M_PKTHDR: u32 = 0x0000_0002;
/// `M_EOR`: end of record.
pub const M_EOR: u32 = 0x0000_0004;
/// `M_RDONLY`: associated data is marked read-only.
pub const M_RDONLY: u32 = 0x0000_0008;
/// `M_BCAST`: sent/received as link-level broadcast.
pub const M_BCAST: u32 = 0x0000_0010;
/// `M_MCAST`: sent/received as link-level multicast.
pub const M_MCAST: u32 = 0x0000_0020;
/// `M_PROMISC`: packet was not for us.
pub const M_PROMISC: u32 = 0x0000_0040;
/// `M_VLANTAG`: `ether_vtag` is valid.
pub const M_VLANTAG: u32 = 0x0000_0080;
/// `M_EXTPG`: has array of unmapped pages and TLS.
pub const M_EXTPG: u32 = 0x0000_0100;
/// `M_NOFREE`: do not free mbuf, embedded in cluster.
pub const M_NOFREE: u32 = 0x0000_0200;
/// `M_TSTMP`: `rcv_tstmp` field is valid.
pub const M_TSTMP: u32 = 0x0000_0400;
/// `M_TSTMP_HPREC`: `rcv_tstmp` is high-precision.
pub const M_TSTMP_HPREC: u32 = 0x0000_0800;
/// `M_TSTMP_LRO`: time LRO pushed in pkt is valid.
pub const M_TSTMP_LRO: u32 = 0x0000_1000;
/// `M_PROTO1`: protocol-specific.
pub const M_PROTO1: u32 = 0x0000_2000;
/// `M_PROTO2`: protocol-specific.
pub const M_PROTO2: u32 = 0x0000_4000;
/// `M_PROTO3`: protocol-specific.
pub const M_PROTO3: u32 = 0x0000_8000;
/// `M_PROTO4`: protocol-specific.
pub const M_PROTO4: u32 = 0x0001_0000;
/// `M_PROTO5`: protocol-specific.
pub const M_PROTO5: u32 = 0x0002_0000;
/// `M_PROTO6`: protocol-specific.
pub const M_PROTO6: u32 = 0x0004_0000;
/// `M_PROTO7`: protocol-specific.
pub const M_PROTO7: u32 = 0x0008_0000;
/// `M_PROTO8`: protocol-specific.
pub const M_PROTO8: u32 = 0x0010_0000;
/// `M_PROTO9`: protocol-specific.
pub const M_PROTO9: u32 = 0x0020_0000;
/// `M_PROTO10`: protocol-specific.
pub const M_PROTO10: u32 = 0x0040_0000;
/// `M_PROTO11`: protocol-specific.
pub const M_PROTO11: u32 = 0x0080_0000;
/// `M_PROTOFLAGS`: flags purged when crossing layers (`m_clrprotoflags`,
/// an inline in mbuf.h clearing these on every mbuf of the chain).
pub const M_PROTOFLAGS: u32 = M_PROTO1
    | M_PROTO2
    | M_PROTO3
    | M_PROTO4
    | M_PROTO5
    | M_PROTO6
    | M_PROTO7
    | M_PROTO8
    | M_PROTO9
    | M_PROTO10
    | M_PROTO11;
const_assert_eq!(M_PROTOFLAGS, 0x00ff_e000);
/// `M_COPYFLAGS`: flags preserved when copying `m_pkthdr`.
pub const M_COPYFLAGS: u32 = M_PKTHDR
    | M_EOR
    | M_RDONLY
    | M_BCAST
    | M_MCAST
    | M_PROMISC
    | M_VLANTAG
    | M_TSTMP
    | M_TSTMP_HPREC
    | M_TSTMP_LRO
    | M_PROTOFLAGS;
const_assert_eq!(M_COPYFLAGS, 0x00ff_fcfe);

/// Mask of `m_type` in `mbuf::m_type_flags` (bits 0..8).
pub const M_TYPE_MASK: u32 = 0xff;
/// Shift of `m_flags` in `mbuf::m_type_flags` (bits 8..32).
pub const M_FLAGS_SHIFT: u32 = 8;
/// Largest value `m_flags` can hold (24 bits).
pub const M_FLAGS_MAX: u32 = 0x00ff_ffff;

/// `MTAG_ABI_COMPAT`: cookie of OpenBSD-compatible tags (`m_tag_find`).
pub const MTAG_ABI_COMPAT: u32 = 0;
/// `MTAG_PERSISTENT`: tag survives `m_tag_delete_nonpersistent`.
pub const MTAG_PERSISTENT: u16 = 0x800;
/// `PACKET_TAG_IPSEC_IN_DONE`: IPsec applied, in.
pub const PACKET_TAG_IPSEC_IN_DONE: u16 = 1;
/// `PACKET_TAG_IPSEC_OUT_DONE`: IPsec applied, out.  if_ipsec.c drops
/// packets carrying it (loop protection).
pub const PACKET_TAG_IPSEC_OUT_DONE: u16 = 2;

/// `struct m_tag`: packet tag header (tag data follows it).
#[repr(C)]
pub struct m_tag {
    /// `m_tag_link`: `SLIST_ENTRY(m_tag)` (one `sle_next` pointer).
    pub m_tag_link: *mut m_tag,
    /// `m_tag_id`: tag ID (`PACKET_TAG_*` for `MTAG_ABI_COMPAT`).
    pub m_tag_id: u16,
    /// `m_tag_len`: length of data.
    pub m_tag_len: u16,
    /// `m_tag_cookie`: ABI/module ID.
    pub m_tag_cookie: u32,
    /// `m_tag_free`: destructor.
    pub m_tag_free: Option<unsafe extern "C" fn(*mut m_tag)>,
}
const_assert_eq!(size_of::<m_tag>(), 24);
const_assert_eq!(offset_of!(m_tag, m_tag_link), 0);
const_assert_eq!(offset_of!(m_tag, m_tag_id), 8);
const_assert_eq!(offset_of!(m_tag, m_tag_len), 10);
const_assert_eq!(offset_of!(m_tag, m_tag_cookie), 12);
const_assert_eq!(offset_of!(m_tag, m_tag_free), 16);

/// `struct pkthdr`: record header, valid when `M_PKTHDR` is set.
#[repr(C)]
#[allow(non_snake_case)]
pub struct pkthdr {
    /// `rcvif`: receive interface (union with `snd_tag` and
    /// `{rcvidx, rcvgen}`: on the input path it is the ifnet pointer).
    pub rcvif: *mut ifnet,
    /// `leaf_rcvif` (union with `{leaf_rcvidx, leaf_rcvgen}`).
    pub leaf_rcvif: *mut ifnet,
    /// `tags`: `SLIST_HEAD(packet_tags, m_tag)` (one `slh_first` pointer).
    pub tags: *mut m_tag,
    /// `len`: total packet length.
    pub len: i32,
    /// `flowid`: packet's 4-tuple system hash.
    pub flowid: u32,
    /// `csum_flags`: checksum and offload features.
    pub csum_flags: u32,
    /// `fibnum`: FIB this packet should use (`M_SETFIB`/`M_GETFIB`).
    pub fibnum: u16,
    /// `numa_domain`: NUMA domain of received packet.
    pub numa_domain: u8,
    /// `rsstype`: hash type (`M_HASHTYPE_*`).
    pub rsstype: u8,
    /// `rcv_tstmp` (union with `l2hlen..inner_l5hlen`).
    pub rcv_tstmp: u64,
    /// `PH_per`: layer-crossing persistent storage (8-byte union).
    pub PH_per: u64,
    /// `PH_loc` (union with `memlen`): layer-local storage.
    pub PH_loc: u64,
}
const_assert_eq!(size_of::<pkthdr>(), 64);
const_assert_eq!(offset_of!(pkthdr, rcvif), 0);
const_assert_eq!(offset_of!(pkthdr, leaf_rcvif), 8);
const_assert_eq!(offset_of!(pkthdr, tags), 16);
const_assert_eq!(offset_of!(pkthdr, len), 24);
const_assert_eq!(offset_of!(pkthdr, flowid), 28);
const_assert_eq!(offset_of!(pkthdr, csum_flags), 32);
const_assert_eq!(offset_of!(pkthdr, fibnum), 36);
const_assert_eq!(offset_of!(pkthdr, numa_domain), 38);
const_assert_eq!(offset_of!(pkthdr, rsstype), 39);
const_assert_eq!(offset_of!(pkthdr, rcv_tstmp), 40);
const_assert_eq!(offset_of!(pkthdr, PH_per), 48);
const_assert_eq!(offset_of!(pkthdr, PH_loc), 56);

/// `CSUM_IP_TCP` (= `CSUM_TCP`): TCP checksum left to the stack/NIC; the
/// header's field holds the pseudo-header sum only.
pub const CSUM_IP_TCP: u32 = 0x0000_0004;
/// `CSUM_IP6_TCP` (= `CSUM_TCP_IPV6`).
pub const CSUM_IP6_TCP: u32 = 0x0000_0400;
/// `EXT_FLAG_EMBREF`: the reference count is `ext_count` itself.
pub const EXT_FLAG_EMBREF: u32 = 0x0000_0001;

/// The head of `struct m_ext` (sys/sys/mbuf.h): what `m_extrefcnt` and
/// `M_WRITABLE` read.  It sits at `m_tail` of a packet-header mbuf.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct m_ext_head {
    /// `ext_count` (with EXT_FLAG_EMBREF; a `u_int`) or `ext_cnt` (a
    /// pointer to the shared count).
    pub ext_cnt: usize,
    /// `ext_size`.
    pub ext_size: u32,
    /// `ext_type:8, ext_flags:24`.
    pub ext_type_flags: u32,
}
const_assert_eq!(size_of::<m_ext_head>(), 16);
const_assert_eq!(offset_of!(m_ext_head, ext_type_flags), 12);

/// Size of `struct m_ext` (external storage descriptor); kept opaque.
pub const M_EXT_SIZE: usize = 160;

/// `struct mbuf` (LP64 layout, 256 bytes = `MSIZE`).
///
/// The tail after the 32-byte header is a C union: with `M_PKTHDR` it
/// starts with `m_pkthdr` (offset 32) followed by `m_ext` or the inline
/// data `m_pktdat` (offset 96); without it the inline data `m_dat` starts
/// at offset 32.  Only `m_pkthdr` is named here; the rest is `m_tail`.
/// Reach data through `m_data`, never through these offsets.
#[repr(C)]
pub struct mbuf {
    /// `m_next`: next buffer in chain (union with `m_slist`/`m_stailq`).
    pub m_next: *mut mbuf,
    /// `m_nextpkt`: next chain in queue/record.
    pub m_nextpkt: *mut mbuf,
    /// `m_data`: location of data.
    pub m_data: *mut c_char,
    /// `m_len`: amount of data in this mbuf.
    pub m_len: i32,
    /// `m_type:8, m_flags:24` bitfield word (see module docs).
    pub m_type_flags: u32,
    /// `m_pkthdr`: valid iff `M_PKTHDR` (otherwise start of `m_dat`).
    pub m_pkthdr: pkthdr,
    /// `m_ext` (160 bytes) or `m_pktdat` inline data.
    pub m_tail: [u64; M_EXT_SIZE / 8],
}
const_assert_eq!(size_of::<mbuf>(), MSIZE);
const_assert_eq!(offset_of!(mbuf, m_next), 0);
const_assert_eq!(offset_of!(mbuf, m_nextpkt), 8);
const_assert_eq!(offset_of!(mbuf, m_data), 16);
const_assert_eq!(offset_of!(mbuf, m_len), 24);
const_assert_eq!(offset_of!(mbuf, m_type_flags), 28);
const_assert_eq!(offset_of!(mbuf, m_pkthdr), 32);
const_assert_eq!(offset_of!(mbuf, m_tail), 96);
const_assert_eq!(MSIZE - offset_of!(mbuf, m_pkthdr), MLEN);
const_assert_eq!(MSIZE - offset_of!(mbuf, m_tail), MHLEN);

impl mbuf {
    /// C `m->m_flags` (24-bit bitfield).
    #[inline]
    pub const fn m_flags(&self) -> u32 {
        self.m_type_flags >> M_FLAGS_SHIFT
    }

    /// C `m->m_type` (8-bit bitfield).
    #[inline]
    pub const fn m_type(&self) -> u8 {
        (self.m_type_flags & M_TYPE_MASK) as u8
    }

    /// C `m->m_flags = flags` (bits above 24 are dropped, as in C).
    #[inline]
    pub fn set_m_flags(&mut self, flags: u32) {
        self.m_type_flags =
            (self.m_type_flags & M_TYPE_MASK) | ((flags & M_FLAGS_MAX) << M_FLAGS_SHIFT);
    }

    /// C `m->m_type = t`.
    #[inline]
    pub fn set_m_type(&mut self, t: u8) {
        self.m_type_flags = (self.m_type_flags & !M_TYPE_MASK) | u32::from(t);
    }
}

extern "C" {
    /// `void m_freem(struct mbuf *)`: free a whole chain (NULL allowed).
    /// Defined in sys/kern/kern_mbuf.c; exported by the kernel.
    pub fn m_freem(m: *mut mbuf);

    /// `struct mbuf *m_pullup(struct mbuf *, int)`: make the first `len`
    /// bytes contiguous.  On failure frees the chain and returns NULL.
    /// sys/kern/uipc_mbuf.c; kernel.
    pub fn m_pullup(m: *mut mbuf, len: c_int) -> *mut mbuf;

    /// `void m_copydata(const struct mbuf *, int off, int len, caddr_t)`:
    /// copy bytes out of a chain (panics in C if the chain is too short).
    /// sys/kern/uipc_mbuf.c; kernel.
    pub fn m_copydata(m: *const mbuf, off: c_int, len: c_int, cp: *mut c_char);

    /// `struct m_tag *m_tag_locate(struct mbuf *, uint32_t cookie,
    /// uint16_t type, struct m_tag *start)`.  `m_tag_find(m, type, start)`
    /// is a static inline in mbuf.h: `SLIST_EMPTY(&m->m_pkthdr.tags) ? NULL
    /// : m_tag_locate(m, MTAG_ABI_COMPAT, type, start)`.
    /// sys/kern/uipc_mbuf2.c; kernel.
    pub fn m_tag_locate(m: *mut mbuf, cookie: u32, ty: u16, start: *mut m_tag) -> *mut m_tag;
}
