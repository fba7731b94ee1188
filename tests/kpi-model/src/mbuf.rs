//! mbufs with the real `struct mbuf` layout and an ownership registry.
//!
//! FreeBSD 14.2 (b66633d79ade) sys/kern/kern_mbuf.c `m_freem` frees a whole
//! chain (NULL allowed); sys/kern/uipc_mbuf2.c `m_tag_locate` walks
//! `m_pkthdr.tags` for (cookie, type) after `start`; uipc_mbuf.c
//! `m_pullup`/`m_copydata`.  The model never reuses an mbuf within a test:
//! a freed mbuf is filled with 0xdeadc0de and kept (quarantined) until the
//! next reset, so a double free or a freed mbuf handed to a KPI is caught,
//! and a use after free reads poison.  Packets still allocated when the
//! test checks are leaks.
use crate::check::{violation, ViolationKind};
use std::alloc::{alloc_zeroed, Layout};
use std::collections::HashMap;
use std::ffi::{c_char, c_int};
use std::sync::Mutex;
use sys_bindings::mbuf::{
    m_ext_head, m_tag, mbuf, EXT_FLAG_EMBREF, MHLEN, MLEN, MSIZE, MT_DATA, M_EXT, M_PKTHDR,
};

/// `EXT_CLUSTER` (sys/sys/mbuf.h): a 2 KiB cluster.
const EXT_CLUSTER: u32 = 1;

#[derive(Clone, Debug, PartialEq, Eq)]
enum St {
    Live,
    Freed(&'static str),
}

#[derive(Default)]
struct Reg {
    mbufs: HashMap<usize, St>,
    /// Bytes of external storage per mbuf (allocated by the model).
    ext: HashMap<usize, Vec<u8>>,
    tags: HashMap<usize, Vec<u8>>,
}

static REG: Mutex<Option<Reg>> = Mutex::new(None);

fn with<R>(f: impl FnOnce(&mut Reg) -> R) -> R {
    crate::malloc::untracked(|| {
        f(REG
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get_or_insert_with(Reg::default))
    })
}

pub(crate) fn reset() {
    // Leaked on purpose: a previous test's threads may still touch them.
    with(|r| *r = Reg::default());
}

fn new_raw() -> *mut mbuf {
    let l = Layout::from_size_align(MSIZE, MSIZE).unwrap_or(Layout::new::<mbuf>());
    // SAFETY: non-zero layout; the model owns the block forever.
    let p = crate::malloc::untracked(|| unsafe { alloc_zeroed(l) }).cast::<mbuf>();
    with(|r| r.mbufs.insert(p as usize, St::Live));
    p
}

/// Build a packet (an mbuf chain with a packet header) holding `segments`,
/// one mbuf per segment: the first carries M_PKTHDR and `m_pkthdr.len` =
/// total length.  Segments up to MHLEN/MLEN bytes live inside the mbuf,
/// longer ones in model-owned external storage (M_EXT).
pub fn packet(segments: &[&[u8]]) -> *mut mbuf {
    let total: usize = segments.iter().map(|s| s.len()).sum();
    let mut head: *mut mbuf = std::ptr::null_mut();
    let mut prev: *mut mbuf = std::ptr::null_mut();
    let segs: Vec<&[u8]> = if segments.is_empty() {
        vec![&[][..]]
    } else {
        segments.to_vec()
    };
    for (i, seg) in segs.iter().enumerate() {
        let m = new_raw();
        // SAFETY: fresh zeroed mbuf we own.
        let mm = unsafe { &mut *m };
        mm.set_m_type(MT_DATA);
        let inline_room = if i == 0 { MHLEN } else { MLEN };
        let inline_at = if i == 0 {
            std::mem::offset_of!(mbuf, m_tail)
        } else {
            std::mem::offset_of!(mbuf, m_pkthdr)
        };
        let mut flags = if i == 0 { M_PKTHDR } else { 0 };
        let data: *mut u8 = if seg.len() <= inline_room {
            // SAFETY: inside the 256-byte mbuf.
            unsafe { m.cast::<u8>().add(inline_at) }
        } else {
            flags |= M_EXT;
            // m_cljget: the reference count lives in the mbuf
            // (EXT_FLAG_EMBREF, ext_count 1); `struct m_ext` sits where
            // the inline data would (after m_pkthdr in the first mbuf).
            let ext = m_ext_head {
                ext_cnt: 1,
                ext_size: u32::try_from(seg.len()).unwrap_or(u32::MAX),
                ext_type_flags: (EXT_FLAG_EMBREF << 8) | EXT_CLUSTER,
            };
            // SAFETY: inside the 256-byte mbuf, 8-aligned.
            unsafe {
                m.cast::<u8>()
                    .add(inline_at)
                    .cast::<m_ext_head>()
                    .write(ext)
            };
            let mut v = seg.to_vec();
            let p = v.as_mut_ptr();
            crate::malloc::untracked(|| with(|r| r.ext.insert(m as usize, v)));
            p
        };
        // SAFETY: `data` has room for seg.len() bytes.
        unsafe { std::ptr::copy_nonoverlapping(seg.as_ptr(), data, seg.len()) };
        mm.m_data = data.cast::<c_char>();
        mm.m_len = c_int::try_from(seg.len()).unwrap_or(c_int::MAX);
        mm.set_m_flags(flags);
        if i == 0 {
            mm.m_pkthdr.len = c_int::try_from(total).unwrap_or(c_int::MAX);
            head = m;
        } else {
            // SAFETY: prev is the previous mbuf of this chain.
            unsafe { (*prev).m_next = m };
        }
        prev = m;
    }
    head
}

/// Make the first mbuf's cluster shared (a second reference, as
/// m_copym of a socket buffer leaves it): M_WRITABLE is then false.
pub fn share_cluster(m: *mut mbuf) {
    // SAFETY: a live model packet whose first mbuf has external storage
    // (its m_ext at m_tail).
    unsafe {
        if (*m).m_flags() & M_EXT != 0 {
            let e = std::ptr::addr_of_mut!((*m).m_tail).cast::<m_ext_head>();
            (*e).ext_cnt = 2;
        }
    }
}

/// Is `m` a live model mbuf?
pub fn is_live(m: *const mbuf) -> bool {
    with(|r| r.mbufs.get(&(m as usize)) == Some(&St::Live))
}

/// Check that `m` (a chain head handed to KPI `kpi`) is live; records a
/// violation and returns false otherwise.
pub fn check_live(m: *const mbuf, kpi: &str) -> bool {
    match with(|r| r.mbufs.get(&(m as usize)).cloned()) {
        Some(St::Live) => true,
        Some(St::Freed(by)) => {
            violation(
                ViolationKind::MbufDoubleFree,
                format!("{kpi}: mbuf {m:p} already freed by {by}"),
            );
            false
        }
        None => {
            violation(
                ViolationKind::BadArgument,
                format!("{kpi}: {m:p} is not an mbuf"),
            );
            false
        }
    }
}

/// The packet's bytes (walking the chain), if live.
pub fn bytes(m: *const mbuf) -> Option<Vec<u8>> {
    if !is_live(m) {
        return None;
    }
    let mut out = Vec::new();
    let mut cur = m;
    while !cur.is_null() {
        // SAFETY: live chain of the model.
        let c = unsafe { &*cur };
        if c.m_len > 0 {
            // SAFETY: m_data holds m_len bytes.
            out.extend_from_slice(unsafe {
                std::slice::from_raw_parts(c.m_data.cast::<u8>(), c.m_len as usize)
            });
        }
        cur = c.m_next;
    }
    Some(out)
}

/// Attach a zero-length tag (cookie, type) to a live packet, as
/// m_tag_alloc + m_tag_prepend would.
pub fn add_tag(m: *mut mbuf, cookie: u32, ty: u16) {
    if !check_live(m, "m_tag_prepend") {
        return;
    }
    let mut buf = vec![0u8; std::mem::size_of::<m_tag>()];
    let t = buf.as_mut_ptr().cast::<m_tag>();
    // SAFETY: buf is a zeroed m_tag-sized block kept in the registry; m
    // is a live packet header mbuf.
    unsafe {
        (*t).m_tag_id = ty;
        (*t).m_tag_cookie = cookie;
        (*t).m_tag_link = (*m).m_pkthdr.tags;
        (*m).m_pkthdr.tags = t;
    }
    crate::malloc::untracked(|| with(|r| r.tags.insert(t as usize, buf)));
}

/// Free a chain as `kpi` (the consumer): the registry check of m_freem.
pub fn free_chain(m: *mut mbuf, kpi: &'static str) {
    if m.is_null() || !check_live(m, kpi) {
        return;
    }
    let mut cur = m;
    while !cur.is_null() {
        let st = with(|r| r.mbufs.insert(cur as usize, St::Freed(kpi)));
        if st != Some(St::Live) {
            violation(
                ViolationKind::MbufDoubleFree,
                format!("{kpi}: chain member {cur:p} not live"),
            );
            return;
        }
        // SAFETY: a live mbuf of the model (256 bytes).
        let next = unsafe { (*cur).m_next };
        // SAFETY: poison the whole mbuf (trash_dtor-like).
        unsafe { poison(cur.cast::<u8>(), MSIZE) };
        with(|r| r.ext.remove(&(cur as usize)));
        cur = next;
    }
}

unsafe fn poison(p: *mut u8, n: usize) {
    let pat = 0xdeadc0de_u32.to_ne_bytes();
    for i in 0..n {
        // SAFETY: caller: p valid for n bytes.
        unsafe { *p.add(i) = pat[i % 4] };
    }
}

/// Which KPI freed or consumed the chain headed by `m` (`None` while it
/// is live or if it is not a model mbuf): "m_freem",
/// "ipsec4_process_packet", "netisr_queue_src", ...
pub fn consumed_by(m: *const mbuf) -> Option<&'static str> {
    with(|r| match r.mbufs.get(&(m as usize)) {
        Some(St::Freed(by)) => Some(*by),
        _ => None,
    })
}

/// Live mbufs (chain members) right now.
pub fn live_count() -> usize {
    with(|r| r.mbufs.values().filter(|s| **s == St::Live).count())
}

pub(crate) fn leaks() -> Vec<crate::Violation> {
    let n = live_count();
    if n == 0 {
        return Vec::new();
    }
    vec![crate::Violation {
        kind: ViolationKind::MbufLeak,
        what: format!("{n} mbuf(s) never freed nor handed on"),
    }]
}

/// kern_mbuf.c `m_freem`.
#[no_mangle]
pub extern "C" fn m_freem(m: *mut mbuf) {
    let _model = crate::malloc::Internal::enter();
    free_chain(m, "m_freem");
}

/// uipc_mbuf2.c `m_tag_locate`.
#[no_mangle]
pub extern "C" fn m_tag_locate(
    m: *mut mbuf,
    cookie: u32,
    ty: u16,
    start: *mut m_tag,
) -> *mut m_tag {
    let _model = crate::malloc::Internal::enter();
    let _model = crate::malloc::Internal::enter();
    if !check_live(m, "m_tag_locate") {
        return std::ptr::null_mut();
    }
    // SAFETY: live packet; tags are model-owned m_tags.
    let mut t = unsafe {
        if start.is_null() {
            (*m).m_pkthdr.tags
        } else {
            (*start).m_tag_link
        }
    };
    while !t.is_null() {
        // SAFETY: a model tag.
        let tt = unsafe { &*t };
        if tt.m_tag_cookie == cookie && tt.m_tag_id == ty {
            return t;
        }
        t = tt.m_tag_link;
    }
    std::ptr::null_mut()
}

/// uipc_mbuf.c `m_copydata`: C panics on a short chain; the model records
/// a violation and copies what there is.
#[no_mangle]
pub extern "C" fn m_copydata(m: *const mbuf, off: c_int, len: c_int, cp: *mut c_char) {
    let _model = crate::malloc::Internal::enter();
    let Some(b) = bytes(m) else {
        check_live(m, "m_copydata");
        return;
    };
    let (off, len) = (off.max(0) as usize, len.max(0) as usize);
    match b.get(off..off + len) {
        Some(s) => {
            // SAFETY: cp has room for len bytes (caller contract).
            unsafe { std::ptr::copy_nonoverlapping(s.as_ptr(), cp.cast::<u8>(), len) }
        }
        None => violation(
            ViolationKind::BadArgument,
            "m_copydata: chain too short (KASSERT)",
        ),
    }
}

/// uipc_mbuf.c `m_pullup`: the model's packets are returned unchanged
/// when the first mbuf already holds `len` bytes; otherwise the chain is
/// freed and NULL returned (as when the real one cannot make room).
#[no_mangle]
pub extern "C" fn m_pullup(m: *mut mbuf, len: c_int) -> *mut mbuf {
    let _model = crate::malloc::Internal::enter();
    if !check_live(m, "m_pullup") {
        return std::ptr::null_mut();
    }
    // SAFETY: live mbuf.
    if unsafe { (*m).m_len } >= len {
        return m;
    }
    free_chain(m, "m_pullup");
    std::ptr::null_mut()
}
