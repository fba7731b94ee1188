//! Owned mbuf chains.
//!
//! FreeBSD 14.2 sys/sys/mbuf.h, sys/kern/kern_mbuf.c (b66633d79ade): an
//! mbuf chain has exactly one owner; the owner frees it with m_freem(9) or
//! hands it to a function that consumes it (if_input, netisr, ipsec4_
//! process_packet ...).  [`Mbuf`] is that owner: it frees on drop unless
//! handed on with [`Mbuf::into_raw`].
use super::ifnet::Ifnet;
use core::ptr::NonNull;
use sys_bindings::mbuf::{
    m_ext_head, m_freem, m_tag_locate, mbuf, CSUM_IP6_TCP, CSUM_IP_TCP, EXT_FLAG_EMBREF,
    MTAG_ABI_COMPAT, M_EXT, M_EXTPG, M_PKTHDR, M_PROTOFLAGS, M_RDONLY,
};

/// An owned mbuf chain with a packet header.
pub struct Mbuf {
    m: NonNull<mbuf>,
}

// SAFETY: an mbuf chain is owned by one thread at a time and may be passed
// between threads (netisr queues do exactly that).
unsafe impl Send for Mbuf {}

impl Mbuf {
    /// Take ownership of a chain the kernel handed us.  `None` for NULL or
    /// for an mbuf without a packet header (freed: it is not a packet).
    ///
    /// # Safety
    /// `m` must be NULL or a valid mbuf chain that the caller owns and no
    /// longer uses.
    pub unsafe fn from_raw(m: *mut mbuf) -> Option<Mbuf> {
        let m = NonNull::new(m)?;
        // SAFETY: caller: valid mbuf.
        if unsafe { m.as_ref() }.m_flags() & M_PKTHDR == 0 {
            // SAFETY: we own it and it is not usable as a packet.
            unsafe { m_freem(m.as_ptr()) };
            return None;
        }
        Some(Mbuf { m })
    }

    /// View a chain that someone else owns (wrap in ManuallyDrop and never
    /// drop it unless ownership is really transferred).  `None` for NULL
    /// or a non-packet mbuf.
    ///
    /// # Safety
    /// `m` must be NULL or a valid mbuf chain for as long as the view is
    /// used.
    pub(crate) unsafe fn from_raw_borrowed(m: *mut mbuf) -> Option<Mbuf> {
        let m = NonNull::new(m)?;
        // SAFETY: caller: valid mbuf.
        // `then`, not `then_some`: an eagerly built Mbuf would be dropped,
        // freeing a chain we do not own, when the flag is missing.
        (unsafe { m.as_ref() }.m_flags() & M_PKTHDR != 0).then(|| Mbuf { m })
    }

    /// Give up ownership to a KPI that consumes the chain.
    pub fn into_raw(self) -> *mut mbuf {
        let p = self.m.as_ptr();
        core::mem::forget(self);
        p
    }

    fn hdr(&self) -> &mbuf {
        // SAFETY: we own a valid mbuf for our whole life.
        unsafe { self.m.as_ref() }
    }

    fn hdr_mut(&mut self) -> &mut mbuf {
        // SAFETY: as `hdr`, and `&mut self` makes the access exclusive.
        unsafe { self.m.as_mut() }
    }

    /// m_pkthdr.len: total packet length (0 if negative, never in practice).
    pub fn pkt_len(&self) -> u32 {
        u32::try_from(self.hdr().m_pkthdr.len).unwrap_or(0)
    }

    /// The first data byte of the packet (the IP version nibble lives
    /// there), skipping empty leading mbufs; `None` for an empty packet.
    pub fn first_byte(&self) -> Option<u8> {
        // Not `byte_at(0)`: this runs for every output packet, and the
        // plain walk is a few instructions shorter.
        let mut m: *const mbuf = self.m.as_ptr();
        while !m.is_null() {
            // SAFETY: every mbuf of an owned chain is valid.
            let cur = unsafe { &*m };
            if cur.m_len > 0 && !cur.m_data.is_null() {
                // SAFETY: m_data points at m_len > 0 readable bytes.
                return Some(unsafe { *cur.m_data.cast::<u8>() });
            }
            m = cur.m_next;
        }
        None
    }

    /// IP version from the first nibble (4 or 6 for IP), `None` if empty.
    pub fn ip_version(&self) -> Option<u8> {
        self.first_byte().map(|b| b >> 4)
    }

    /// m_pkthdr.rcvif = ifp (input path).
    pub fn set_rcvif(&mut self, ifp: &Ifnet) {
        self.hdr_mut().m_pkthdr.rcvif = ifp.as_ptr();
    }

    /// The receive interface pointer (for tests and comparisons only).
    pub fn rcvif_addr(&self) -> usize {
        self.hdr().m_pkthdr.rcvif as usize
    }

    /// M_SETFIB(m, fib) (mbuf.h; requires M_PKTHDR, which we ensure).
    pub fn set_fib(&mut self, fib: u16) {
        self.hdr_mut().m_pkthdr.fibnum = fib;
    }

    /// M_GETFIB(m).
    pub fn fib(&self) -> u16 {
        self.hdr().m_pkthdr.fibnum
    }

    /// m_clrprotoflags(m) (mbuf.h inline): clear M_PROTOFLAGS on every
    /// mbuf of the chain.
    pub fn clear_proto_flags(&mut self) {
        let mut m = self.m.as_ptr();
        while !m.is_null() {
            // SAFETY: every mbuf of an owned chain is valid; exclusive
            // through &mut self.
            let cur = unsafe { &mut *m };
            cur.set_m_flags(cur.m_flags() & !M_PROTOFLAGS);
            m = cur.m_next;
        }
    }

    /// m_tag_find(m, type, NULL) != NULL (mbuf.h inline over
    /// m_tag_locate with MTAG_ABI_COMPAT).
    pub fn has_tag(&self, ty: u16) -> bool {
        if self.hdr().m_pkthdr.tags.is_null() {
            return false;
        }
        // SAFETY: valid owned packet; m_tag_locate only reads the tag list.
        !unsafe { m_tag_locate(self.m.as_ptr(), MTAG_ABI_COMPAT, ty, core::ptr::null_mut()) }
            .is_null()
    }

    /// M_WRITABLE(m) for the first mbuf (mbuf.h): not read-only, not
    /// unmapped pages, and external storage only if we hold its only
    /// reference (m_extrefcnt == 1).
    fn first_writable(&self) -> bool {
        let h = self.hdr();
        let f = h.m_flags();
        if f & (M_RDONLY | M_EXTPG) != 0 {
            return false;
        }
        if f & M_EXT == 0 {
            return true;
        }
        // SAFETY: with M_PKTHDR|M_EXT, `struct m_ext` starts at m_tail
        // (the union after m_pkthdr); m_tail is 8-aligned and 160 bytes.
        let ext = unsafe { &*h.m_tail.as_ptr().cast::<m_ext_head>() };
        if (ext.ext_type_flags >> 8) & EXT_FLAG_EMBREF != 0 {
            // `ext_count` is the u_int at the union's start (amd64:
            // little-endian, so the low half of the word).
            return ext.ext_cnt as u32 == 1;
        }
        let cnt = ext.ext_cnt as *const u32;
        // SAFETY: without EXT_FLAG_EMBREF, ext_cnt points at the shared
        // count in the storage's first mbuf, alive while we hold a
        // reference; a volatile read as C's `volatile u_int *`.
        !cnt.is_null() && unsafe { core::ptr::read_volatile(cnt) } == 1
    }

    /// The byte at offset `off` of the packet (walking the chain).
    pub fn byte_at(&self, mut off: usize) -> Option<u8> {
        let mut m: *const mbuf = self.m.as_ptr();
        while !m.is_null() {
            // SAFETY: every mbuf of an owned (or borrowed) chain is valid.
            let cur = unsafe { &*m };
            let len = usize::try_from(cur.m_len).unwrap_or(0);
            if off < len {
                if cur.m_data.is_null() {
                    return None;
                }
                // SAFETY: off < m_len readable bytes at m_data.
                return Some(unsafe { *cur.m_data.cast::<u8>().add(off) });
            }
            off -= len;
            m = cur.m_next;
        }
        None
    }

    /// The first mbuf's data, up to `max` bytes, read-only.
    pub fn head(&self, max: usize) -> Option<&[u8]> {
        let h = self.hdr();
        let len = usize::try_from(h.m_len).ok()?.min(max);
        if len == 0 || h.m_data.is_null() {
            return None;
        }
        // SAFETY: m_data points at m_len >= len readable bytes of an mbuf
        // we own, borrowed for as long as &self.
        Some(unsafe { core::slice::from_raw_parts(h.m_data.cast::<u8>(), len) })
    }

    /// The first mbuf's data, up to `max` bytes, for an in-place header
    /// rewrite (MSS clamping); `None` if it may not be written (shared
    /// cluster, read-only) or is empty.  Headers that continue in a later
    /// mbuf are simply not there: the caller treats that as "too short".
    pub fn head_mut(&mut self, max: usize) -> Option<&mut [u8]> {
        if !self.first_writable() {
            return None;
        }
        let h = self.hdr_mut();
        let len = usize::try_from(h.m_len).ok()?.min(max);
        if len == 0 || h.m_data.is_null() {
            return None;
        }
        // SAFETY: m_data points at m_len >= len bytes of this mbuf, which
        // we own and may write (checked above); &mut self is exclusive.
        Some(unsafe { core::slice::from_raw_parts_mut(h.m_data.cast::<u8>(), len) })
    }

    /// The TCP checksum is still to be completed (CSUM_TCP /
    /// CSUM_TCP_IPV6 in m_pkthdr.csum_flags): the header holds only the
    /// pseudo-header sum.
    pub fn tcp_csum_partial(&self) -> bool {
        self.hdr().m_pkthdr.csum_flags & (CSUM_IP_TCP | CSUM_IP6_TCP) != 0
    }

    /// The DF bit of an IPv4 header at the packet's start (ip_output and
    /// ip_input keep the IP header in the first mbuf); false if shorter.
    pub fn ipv4_df(&self) -> bool {
        self.head(8)
            .and_then(|h| h.get(6))
            .is_some_and(|off| off & 0x40 != 0)
    }

    /// The raw pointer, for KPIs that read the packet without consuming it
    /// (bpf_mtap2).
    pub fn as_ptr(&self) -> *mut mbuf {
        self.m.as_ptr()
    }
}

impl Drop for Mbuf {
    fn drop(&mut self) {
        // SAFETY: we own the chain and nobody uses it after us.
        unsafe { m_freem(self.m.as_ptr()) };
    }
}
