//! epoch(9): `struct epoch_tracker`, `epoch_t`, the preemptible-epoch
//! functions and `net_epoch_preempt`.
//!
//! Source: FreeBSD 14.2 sys/sys/epoch.h (b66633d79ade); functions in
//! sys/kern/subr_epoch.c, `net_epoch_preempt` defined in sys/net/if.c (same
//! commit), all exported by the kernel.
//!
//! `epoch_enter_preempt(e, et)` / `epoch_exit_preempt(e, et)` are MACROS:
//! without `EPOCH_TRACE` (not in amd64 GENERIC 14.2, nor in the standalone
//! module `opt_global.h` of sys/conf/config.mk) they expand to
//! `_epoch_enter_preempt(e, et)` / `_epoch_exit_preempt(e, et)`, which are
//! the symbols to import.  With `EPOCH_TRACE` the functions take two extra
//! arguments (file, line) and the tracker grows; a kernel built with it
//! would be incompatible with these declarations.
//! `NET_EPOCH_ENTER(et)` = `epoch_enter_preempt(net_epoch_preempt, &et)`,
//! `NET_EPOCH_EXIT(et)` likewise, `NET_EPOCH_WAIT()` =
//! `epoch_wait_preempt(net_epoch_preempt)`, `NET_EPOCH_ASSERT()` =
//! `MPASS(in_epoch(net_epoch_preempt))` (only with INVARIANTS).
//!
//! The tracker lives on the caller's stack for the whole section and must
//! not move while entered (the kernel links it into a per-CPU list through
//! `et_link`).  `epoch_wait_preempt` may sleep: never call it inside an
//! epoch section or with a non-sleepable lock held.

use core::ffi::{c_int, c_void};
use core::marker::{PhantomData, PhantomPinned};
use core::mem::{align_of, offset_of, size_of};
use static_assertions::const_assert_eq;

/// `struct epoch`: opaque (sys/kern/subr_epoch.c).
#[repr(C)]
pub struct epoch {
    _opaque: [u8; 0],
    _pin: PhantomData<(*mut u8, PhantomPinned)>,
}

/// `epoch_t`: `struct epoch *`.
pub type epoch_t = *mut epoch;

/// `struct thread` is declared in [`crate::thread`]; the tracker only
/// stores a pointer to it.
pub use crate::thread::thread;

/// `TAILQ_ENTRY(epoch_tracker)`: `{ tqe_next, tqe_prev }`.
#[repr(C)]
pub struct epoch_tracker_tailq_entry {
    /// `tqe_next`.
    pub tqe_next: *mut epoch_tracker,
    /// `tqe_prev`: address of the previous element's `tqe_next`.
    pub tqe_prev: *mut *mut epoch_tracker,
}
// sys/sys/queue.h (b66633d79ade): an entry is two pointers on amd64.
const_assert_eq!(size_of::<epoch_tracker_tailq_entry>(), 16);
const_assert_eq!(offset_of!(epoch_tracker_tailq_entry, tqe_prev), 8);

/// `ck_epoch_section_t` (sys/contrib/ck/include/ck_epoch.h):
/// `struct ck_epoch_section { unsigned int bucket; }`.
#[repr(C)]
pub struct ck_epoch_section {
    /// `bucket`.
    pub bucket: u32,
}
const_assert_eq!(size_of::<ck_epoch_section>(), 4);
/// `ck_epoch_section_t`.
pub type ck_epoch_section_t = ck_epoch_section;
const_assert_eq!(size_of::<ck_epoch_section_t>(), 4);

/// `struct epoch_tracker` without `EPOCH_TRACE` (GENERIC): 32 bytes,
/// `__aligned(sizeof(void *))`.  Zero-initialise it; the kernel fills it.
#[repr(C)]
pub struct epoch_tracker {
    /// `et_link`.
    pub et_link: epoch_tracker_tailq_entry,
    /// `et_td`: owning thread.
    pub et_td: *mut thread,
    /// `et_section`.
    pub et_section: ck_epoch_section_t,
    /// `et_old_priority`.
    pub et_old_priority: u8,
}
const_assert_eq!(size_of::<epoch_tracker>(), 32);
const_assert_eq!(align_of::<epoch_tracker>(), 8);
const_assert_eq!(offset_of!(epoch_tracker, et_link), 0);
const_assert_eq!(offset_of!(epoch_tracker, et_td), 16);
const_assert_eq!(offset_of!(epoch_tracker, et_section), 24);
const_assert_eq!(offset_of!(epoch_tracker, et_old_priority), 28);

impl epoch_tracker {
    /// An all-zero tracker (what C's uninitialised stack tracker becomes
    /// after `_epoch_enter_preempt` fills it; zero is the safe start).
    pub const fn new() -> Self {
        Self {
            et_link: epoch_tracker_tailq_entry {
                tqe_next: core::ptr::null_mut(),
                tqe_prev: core::ptr::null_mut(),
            },
            et_td: core::ptr::null_mut(),
            et_section: ck_epoch_section { bucket: 0 },
            et_old_priority: 0,
        }
    }
}

impl Default for epoch_tracker {
    fn default() -> Self {
        Self::new()
    }
}

/// `epoch_tracker_t`.
pub type epoch_tracker_t = *mut epoch_tracker;

/// `struct epoch_context`: `{ void *data[2]; }`, embedded in objects freed
/// with `epoch_call`.
#[repr(C)]
pub struct epoch_context {
    /// `data[2]`.
    pub data: [*mut c_void; 2],
}
const_assert_eq!(size_of::<epoch_context>(), 16);

/// `epoch_context_t`.
pub type epoch_context_t = *mut epoch_context;
/// `epoch_callback_t`: `void (epoch_context_t)`.
pub type epoch_callback_t = unsafe extern "C" fn(epoch_context_t);

/// `EPOCH_PREEMPT`: `epoch_alloc` flag.
pub const EPOCH_PREEMPT: c_int = 0x1;
/// `EPOCH_LOCKED`: `epoch_alloc` flag.
pub const EPOCH_LOCKED: c_int = 0x2;

extern "C" {
    /// `epoch_t net_epoch_preempt`: network preemptible epoch, defined in
    /// sys/net/if.c (`__read_mostly`), allocated at boot (`epoch_alloc`),
    /// kernel.  Read it at each use, never cache a copy across module load.
    pub static net_epoch_preempt: epoch_t;

    /// `void _epoch_enter_preempt(epoch_t, epoch_tracker_t)` (target of the
    /// `epoch_enter_preempt` macro).  sys/kern/subr_epoch.c; kernel.
    pub fn _epoch_enter_preempt(epoch: epoch_t, et: epoch_tracker_t);

    /// `void _epoch_exit_preempt(epoch_t, epoch_tracker_t)`.
    /// sys/kern/subr_epoch.c; kernel.
    pub fn _epoch_exit_preempt(epoch: epoch_t, et: epoch_tracker_t);

    /// `void epoch_wait_preempt(epoch_t)`: wait for every section entered
    /// before the call to exit.  Sleeps.  sys/kern/subr_epoch.c; kernel.
    pub fn epoch_wait_preempt(epoch: epoch_t);

    /// `void epoch_call(epoch_t, epoch_callback_t, epoch_context_t)`:
    /// deferred free.  sys/kern/subr_epoch.c; kernel.
    pub fn epoch_call(epoch: epoch_t, cb: epoch_callback_t, ctx: epoch_context_t);

    /// `void epoch_drain_callbacks(epoch_t)`: wait for pending
    /// `epoch_call` callbacks (before unloading their code).  Sleeps.
    /// sys/kern/subr_epoch.c; kernel.
    pub fn epoch_drain_callbacks(epoch: epoch_t);

    /// `int in_epoch(epoch_t)`: nonzero if curthread is in a section of
    /// `epoch`.  Exported unconditionally (not only with INVARIANTS).
    /// sys/kern/subr_epoch.c; kernel.
    pub fn in_epoch(epoch: epoch_t) -> c_int;
}
