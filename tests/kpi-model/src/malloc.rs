//! malloc(9)/free(9) with per-type balance and fail-on-demand, and the host
//! global allocator that puts the module's own Rust allocations under the
//! same accounting.
//!
//! Mirrors FreeBSD 14.2 sys/kern/kern_malloc.c (b66633d79ade):
//! - `malloc_dbg`: exactly one of M_WAITOK/M_NOWAIT; M_WAITOK with sleeping
//!   prohibited (inside an epoch section) is a KASSERT → [`SleepInEpoch`].
//! - `MALLOC_MAKE_FAILURES`: only M_NOWAIT allocations ever fail; M_WAITOK
//!   never returns NULL (malloc(9)).  The model does the same: an injected
//!   failure only hits allocations that can fail ("failable" sites: M_NOWAIT
//!   malloc(9), the KPIs that allocate with M_NOWAIT such as key_newsp, and
//!   the module's Rust allocations, which the kernel's GlobalAlloc makes with
//!   M_NOWAIT).  M_WAITOK calls are counted separately and always succeed.
//! - Freed memory is filled with 0xdeadc0de (trash_dtor) and quarantined for
//!   a while, so a use after free reads poison instead of reused memory.
//!
//! [`SleepInEpoch`]: crate::ViolationKind::SleepInEpoch
use crate::check::{violation, ViolationKind};
use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::collections::{HashMap, VecDeque};
use std::ffi::{c_char, c_int, c_void, CStr};
use std::sync::Mutex;

/// sys/sys/malloc.h flags.
pub const M_NOWAIT: c_int = 0x0001;
pub const M_WAITOK: c_int = 0x0002;
pub const M_ZERO: c_int = 0x0100;

/// Accounting name of the module's Rust allocations on the host (the kernel
/// build's GlobalAlloc allocates them from M_IFIPSEC).
pub const RUST_ALLOC_TYPE: &str = "if_ipsec(rust)";

const QUARANTINE: usize = 4096;

#[derive(Clone, Debug)]
struct Block {
    size: usize,
    align: usize,
    mtype: String,
}

#[derive(Default)]
struct Heap {
    live: HashMap<usize, Block>,
    quarantine: VecDeque<(usize, Block)>,
    attempts: u64,
    waitok_calls: u64,
    failures: u64,
    fail_nth: Option<u64>,
    fail_after: Option<u64>,
}

static HEAP: Mutex<Option<Heap>> = Mutex::new(None);

thread_local! {
    /// >0 while the model's own bookkeeping allocates (never tracked).
    static INTERNAL: Cell<u32> = const { Cell::new(0) };
    /// >0 while module code runs (its Rust allocations are tracked).
    static MODULE: Cell<u32> = const { Cell::new(0) };
}

/// Run `f` with the model's own allocations kept out of the accounting.
pub fn untracked<R>(f: impl FnOnce() -> R) -> R {
    INTERNAL.with(|c| c.set(c.get() + 1));
    let r = f();
    INTERNAL.with(|c| c.set(c.get().saturating_sub(1)));
    r
}

/// Run `f` as module code: its Rust allocations are accounted (and can be
/// made to fail) like the kernel module's malloc(9) allocations.  Model
/// code that calls back into the module uses this; the model's own
/// bookkeeping around it is [`Internal`].
pub fn in_module<R>(f: impl FnOnce() -> R) -> R {
    struct Exit(u32);
    impl Drop for Exit {
        fn drop(&mut self) {
            MODULE.with(|c| c.set(c.get().saturating_sub(1)));
            INTERNAL.with(|c| c.set(self.0));
        }
    }
    MODULE.with(|c| c.set(c.get() + 1));
    let _exit = Exit(INTERNAL.with(|c| c.replace(0)));
    f()
}

/// Held by every model KPI while it runs: its allocations are the model's
/// own, not the module's (they neither count nor consume injected
/// failures).
pub struct Internal(());

impl Internal {
    /// Enter model code.
    pub fn enter() -> Internal {
        INTERNAL.with(|c| c.set(c.get() + 1));
        Internal(())
    }
}

impl Drop for Internal {
    fn drop(&mut self) {
        INTERNAL.with(|c| c.set(c.get().saturating_sub(1)));
    }
}

fn with_heap<R>(f: impl FnOnce(&mut Heap) -> R) -> R {
    untracked(|| {
        let mut g = HEAP.lock().unwrap_or_else(|e| e.into_inner());
        f(g.get_or_insert_with(Heap::default))
    })
}

pub(crate) fn reset() {
    // Quarantined blocks are released for real; live ones are leaked on
    // purpose (the previous test may still hold pointers to them).
    let q = with_heap(|h| {
        let q = std::mem::take(&mut h.quarantine);
        *h = Heap::default();
        q
    });
    for (p, b) in q {
        release(p, &b);
    }
}

fn release(p: usize, b: &Block) {
    if let Ok(l) = Layout::from_size_align(b.size.max(1), b.align) {
        // SAFETY: allocated by System with this layout in `raw_alloc`.
        unsafe { System.dealloc(p as *mut u8, l) }
    }
}

/// Decide whether the next failable allocation fails.
fn failable_attempt(h: &mut Heap) -> bool {
    let n = h.attempts;
    h.attempts += 1;
    let fail = h.fail_nth == Some(n) || h.fail_after.is_some_and(|a| n >= a);
    if fail {
        h.failures += 1;
    }
    fail
}

fn raw_alloc(size: usize, align: usize, zero: bool) -> *mut u8 {
    let Ok(l) = Layout::from_size_align(size.max(1), align) else {
        return std::ptr::null_mut();
    };
    // SAFETY: non-zero size layout.
    let p = unsafe { System.alloc(l) };
    if !p.is_null() {
        let fill = if zero { 0 } else { 0xa5 };
        // SAFETY: p is valid for l.size() bytes.
        unsafe { std::ptr::write_bytes(p, fill, l.size()) };
    }
    p
}

/// Allocate `size` bytes of malloc type `mtype` (the model's KPIs use this
/// for what the kernel allocates). `None` = the allocation failed.
pub fn kmalloc(size: usize, mtype: &str, flags: c_int) -> Option<*mut u8> {
    let nowait = flags & M_NOWAIT != 0;
    let waitok = flags & M_WAITOK != 0;
    if nowait == waitok {
        violation(
            ViolationKind::BadArgument,
            format!("malloc({mtype}): flags {flags:#x} need exactly one of M_WAITOK/M_NOWAIT"),
        );
    }
    if waitok && crate::epoch::depth() > 0 {
        violation(
            ViolationKind::SleepInEpoch,
            format!("malloc({mtype}, M_WAITOK) inside an epoch section"),
        );
    }
    if waitok {
        with_heap(|h| h.waitok_calls += 1);
    } else if with_heap(failable_attempt) {
        return None;
    }
    let align = size.next_power_of_two().clamp(16, 4096);
    let p = raw_alloc(size, align, flags & M_ZERO != 0);
    if p.is_null() {
        return None;
    }
    let mtype = untracked(|| mtype.to_owned());
    with_heap(|h| h.live.insert(p as usize, Block { size, align, mtype }));
    Some(p)
}

/// Free what [`kmalloc`] returned, checking the type like free(9) with
/// INVARIANTS (uma_dbg / malloc_type_freed accounting).
pub fn kfree(p: *mut u8, mtype: &str) {
    if p.is_null() {
        return;
    }
    let b = with_heap(|h| h.live.remove(&(p as usize)));
    let Some(b) = b else {
        violation(
            ViolationKind::Malloc,
            format!("free({p:p}, {mtype}): not allocated (double free?)"),
        );
        return;
    };
    if b.mtype != mtype {
        violation(
            ViolationKind::Malloc,
            format!("free({p:p}): allocated as {} freed as {mtype}", b.mtype),
        );
    }
    // SAFETY: p is a live block of b.size bytes.
    unsafe { fill_poison(p, b.size) };
    let old = with_heap(|h| {
        h.quarantine.push_back((p as usize, b));
        if h.quarantine.len() > QUARANTINE {
            h.quarantine.pop_front()
        } else {
            None
        }
    });
    if let Some((op, ob)) = old {
        release(op, &ob);
    }
}

unsafe fn fill_poison(p: *mut u8, size: usize) {
    const POISON: [u8; 4] = 0xdeadc0de_u32.to_ne_bytes();
    for i in 0..size {
        // SAFETY: caller: p valid for size bytes.
        unsafe { *p.add(i) = POISON[i % 4] };
    }
}

/// Is `p` a live model allocation?
pub fn is_live(p: *const u8) -> bool {
    with_heap(|h| h.live.contains_key(&(p as usize)))
}

fn type_name(mtp: *const c_void) -> String {
    if mtp.is_null() {
        return "<null malloc type>".into();
    }
    // struct malloc_type { ks_next; ks_version; ks_shortdesc; ... }
    // (sys/sys/malloc.h): ks_shortdesc is the third pointer-sized field.
    // SAFETY: mtp points at a struct malloc_type of the module.
    let desc = unsafe { *(mtp as *const *const c_char).add(2) };
    if desc.is_null() {
        return format!("<malloc type {mtp:p}>");
    }
    // SAFETY: ks_shortdesc is a NUL-terminated static string.
    untracked(|| {
        unsafe { CStr::from_ptr(desc) }
            .to_string_lossy()
            .into_owned()
    })
}

/// malloc(9): sys/kern/kern_malloc.c `malloc`.  Host link name
/// `kpi_model_malloc` (sys_bindings::kern::malloc): `malloc` is libc's.
#[no_mangle]
pub extern "C" fn kpi_model_malloc(size: usize, mtp: *const c_void, flags: c_int) -> *mut c_void {
    let _model = crate::malloc::Internal::enter();
    let name = type_name(mtp);
    kmalloc(size, &name, flags).map_or(std::ptr::null_mut(), |p| p.cast())
}

/// free(9): sys/kern/kern_malloc.c `free` (host name `kpi_model_free`).
#[no_mangle]
pub extern "C" fn kpi_model_free(p: *mut c_void, mtp: *const c_void) {
    let _model = crate::malloc::Internal::enter();
    let name = type_name(mtp);
    kfree(p.cast(), &name);
}

/// realloc(9) (host name `kpi_model_realloc`): a new block, contents
/// copied; on failure NULL and the old block stays allocated.
#[no_mangle]
pub extern "C" fn kpi_model_realloc(
    p: *mut c_void,
    size: usize,
    mtp: *const c_void,
    flags: c_int,
) -> *mut c_void {
    let _model = crate::malloc::Internal::enter();
    let _model = crate::malloc::Internal::enter();
    let name = type_name(mtp);
    let old = with_heap(|h| h.live.get(&(p as usize)).map(|b| b.size));
    if !p.is_null() && old.is_none() {
        violation(
            ViolationKind::Malloc,
            format!("realloc({p:p}, {name}): not allocated"),
        );
        return std::ptr::null_mut();
    }
    let Some(n) = kmalloc(size, &name, flags) else {
        return std::ptr::null_mut();
    };
    if let Some(os) = old {
        // SAFETY: both blocks are live and at least min(os, size) long.
        unsafe { std::ptr::copy_nonoverlapping(p.cast::<u8>(), n, os.min(size)) };
        kfree(p.cast(), &name);
    }
    n.cast()
}

/// malloc_aligned(9): `align` a power of two <= PAGE_SIZE.
#[no_mangle]
pub extern "C" fn malloc_aligned(
    size: usize,
    align: usize,
    mtp: *const c_void,
    flags: c_int,
) -> *mut c_void {
    let _model = crate::malloc::Internal::enter();
    let _model = crate::malloc::Internal::enter();
    if !align.is_power_of_two() || align > 4096 {
        violation(
            ViolationKind::BadArgument,
            format!("malloc_aligned: bad alignment {align}"),
        );
    }
    // kmalloc aligns to size.next_power_of_two() (>= 16, <= 4096).
    let name = type_name(mtp);
    kmalloc(size.max(align), &name, flags).map_or(std::ptr::null_mut(), |p| p.cast())
}

/// malloc_init(9) (SYSINIT of MALLOC_DEFINE): nothing to set up here.
#[no_mangle]
pub extern "C" fn malloc_init(_mtp: *mut c_void) {
    let _model = crate::malloc::Internal::enter();
}

/// malloc_uninit(9): FreeBSD prints a warning when a type still has
/// allocations at unload ("malloc_uninit: ... leaked ...").
#[no_mangle]
pub extern "C" fn malloc_uninit(mtp: *mut c_void) {
    let _model = crate::malloc::Internal::enter();
    let name = type_name(mtp);
    let (n, _) = in_use(&name);
    if n != 0 {
        violation(
            ViolationKind::Malloc,
            format!("malloc_uninit({name}): {n} allocations leaked"),
        );
    }
}

/// (allocations, bytes) live for one malloc type.
pub fn in_use(mtype: &str) -> (usize, usize) {
    with_heap(|h| {
        h.live
            .values()
            .filter(|b| b.mtype == mtype)
            .fold((0, 0), |(n, s), b| (n + 1, s + b.size))
    })
}

/// The live allocations of one malloc type by requested size: (size,
/// count), smallest first (what `vmstat -m` shows as Size(s), before
/// malloc(9) rounds each up to its zone).
pub fn sizes_of(mtype: &str) -> Vec<(usize, usize)> {
    with_heap(|h| {
        let mut m: HashMap<usize, usize> = HashMap::new();
        for b in h.live.values().filter(|b| b.mtype == mtype) {
            *m.entry(b.size).or_default() += 1;
        }
        let mut v: Vec<_> = m.into_iter().collect();
        v.sort_unstable();
        v
    })
}

/// Every live allocation, by type: (type, count, bytes).
pub fn live_by_type() -> Vec<(String, usize, usize)> {
    with_heap(|h| {
        let mut m: HashMap<String, (usize, usize)> = HashMap::new();
        for b in h.live.values() {
            let e = m.entry(b.mtype.clone()).or_default();
            e.0 += 1;
            e.1 += b.size;
        }
        let mut v: Vec<_> = m.into_iter().map(|(k, (n, s))| (k, n, s)).collect();
        v.sort();
        v
    })
}

/// Fail exactly the `n`-th (0-based) failable allocation from now on.
pub fn fail_nth(n: u64) {
    with_heap(|h| {
        h.fail_nth = Some(h.attempts + n);
    });
}

/// Fail every failable allocation after the next `n` succeeded.
pub fn fail_after(n: u64) {
    with_heap(|h| h.fail_after = Some(h.attempts + n));
}

/// Stop injecting failures.
pub fn fail_none() {
    with_heap(|h| {
        h.fail_nth = None;
        h.fail_after = None;
    });
}

/// (failable attempts, injected failures, M_WAITOK calls) since reset.
pub fn counts() -> (u64, u64, u64) {
    with_heap(|h| (h.attempts, h.failures, h.waitok_calls))
}

/// The host global allocator of every binary linking the model: ordinary
/// allocations go to `System`; allocations made while module code runs
/// (see [`in_module`]) are accounted as [`RUST_ALLOC_TYPE`] and take part in
/// failure injection, as the kernel GlobalAlloc's M_NOWAIT malloc(9) would.
pub struct ModelAlloc;

fn tracking() -> bool {
    INTERNAL.with(|c| c.get() == 0) && MODULE.with(|c| c.get() > 0)
}

// SAFETY: delegates to System; bookkeeping never allocates through us
// (it runs `untracked`, which routes nested allocations to System).
unsafe impl GlobalAlloc for ModelAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if !tracking() {
            // SAFETY: forwarded contract.
            return unsafe { System.alloc(layout) };
        }
        if crate::epoch::depth() > 0 {
            // The kernel GlobalAlloc uses M_NOWAIT, so this is legal, but
            // the packet path must not allocate at all (team rule).
            crate::epoch::note_alloc_in_epoch();
        }
        if with_heap(failable_attempt) {
            return std::ptr::null_mut();
        }
        // SAFETY: forwarded contract.
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            let b = Block {
                size: layout.size(),
                align: layout.align(),
                mtype: untracked(|| RUST_ALLOC_TYPE.to_owned()),
            };
            with_heap(|h| h.live.insert(p as usize, b));
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        if INTERNAL.with(|c| c.get() == 0) {
            with_heap(|h| {
                h.live.remove(&(ptr as usize));
            });
        }
        // SAFETY: forwarded contract.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: ModelAlloc = ModelAlloc;
