//! epoch(9): the preemptible net epoch.
//!
//! Mirrors FreeBSD 14.2 sys/kern/subr_epoch.c (b66633d79ade):
//! `_epoch_enter_preempt` links the caller's tracker into the epoch record
//! (so the tracker must stay put until exit), `_epoch_exit_preempt` unlinks
//! it; `epoch_wait_preempt` sleeps until every section that started before
//! it has ended and, with INVARIANTS, KASSERTs it is not called inside an
//! epoch section ("epoch_wait_preempt() called in the middle of an epoch
//! section of the same epoch"); `in_epoch` tells whether curthread is inside.
//! Sleeping while inside (THREAD_NO_SLEEPING) is a violation everywhere the
//! model sleeps.
use crate::check::{violation, ViolationKind};
use std::cell::RefCell;
use std::collections::HashMap;
use std::ffi::{c_int, c_void};
use std::sync::{Condvar, Mutex};

/// The model's one epoch object (`struct epoch` is opaque to the module).
#[repr(C)]
pub struct ModelEpoch {
    _tag: u64,
}

/// sys/net/if.c: `epoch_t net_epoch_preempt`.
static NET_EPOCH: ModelEpoch = ModelEpoch {
    _tag: 0x6e65_7465_706f_6368,
};

/// The exported `net_epoch_preempt` variable (an `epoch_t`).
#[no_mangle]
pub static net_epoch_preempt: EpochPtr = EpochPtr(&NET_EPOCH);

/// `epoch_t` as a Sync static.
#[repr(transparent)]
pub struct EpochPtr(pub *const ModelEpoch);
// SAFETY: points at an immutable static.
unsafe impl Sync for EpochPtr {}

#[derive(Default)]
struct Sections {
    /// thread key → (depth, generation of its current outermost section)
    threads: HashMap<u64, (u32, u64)>,
    waits: u64,
    allocs_in_epoch: u64,
}

static SECTIONS: Mutex<Option<Sections>> = Mutex::new(None);
static CHANGED: Condvar = Condvar::new();

thread_local! {
    static TRACKERS: RefCell<Vec<usize>> = const { RefCell::new(Vec::new()) };
}

fn with<R>(f: impl FnOnce(&mut Sections) -> R) -> R {
    crate::malloc::untracked(|| {
        let mut g = SECTIONS.lock().unwrap_or_else(|e| e.into_inner());
        f(g.get_or_insert_with(Sections::default))
    })
}

pub(crate) fn reset() {
    crate::malloc::untracked(|| CALLBACKS.lock().unwrap_or_else(|e| e.into_inner()).clear());
    with(|s| *s = Sections::default());
    TRACKERS.with(|t| t.borrow_mut().clear());
}

/// Epoch nesting depth of the calling thread.
pub fn depth() -> usize {
    // try_borrow: the global allocator asks while enter/exit may hold the
    // cell (those run as model code, where the answer is not used).
    TRACKERS.with(|t| t.try_borrow().map_or(0, |v| v.len()))
}

pub(crate) fn note_alloc_in_epoch() {
    with(|s| s.allocs_in_epoch += 1);
}

/// (epoch_wait_preempt calls, module allocations inside an epoch) since reset.
pub fn counts() -> (u64, u64) {
    with(|s| (s.waits, s.allocs_in_epoch))
}

/// Record a violation if the calling thread is inside an epoch section and
/// `what` may sleep (THREAD_NO_SLEEPING in epoch_enter_preempt).
pub fn may_sleep(what: &str) {
    if depth() > 0 {
        violation(
            ViolationKind::SleepInEpoch,
            format!("{what} may sleep but is called inside the net epoch"),
        );
    }
}

/// Record a violation unless the calling thread is inside the net epoch
/// (NET_EPOCH_ASSERT in the KPI named `what`).
pub fn assert_in(what: &str) {
    if depth() == 0 {
        violation(
            ViolationKind::NotInEpoch,
            format!("{what} called outside the net epoch (NET_EPOCH_ASSERT)"),
        );
    }
}

fn check_epoch(epoch: *const c_void, what: &str) {
    if epoch != (&raw const NET_EPOCH).cast() {
        violation(
            ViolationKind::BadArgument,
            format!("{what}: unknown epoch {epoch:p}"),
        );
    }
}

/// subr_epoch.c `_epoch_enter_preempt`.
#[no_mangle]
pub extern "C" fn _epoch_enter_preempt(epoch: *const c_void, et: *mut c_void) {
    let _model = crate::malloc::Internal::enter();
    check_epoch(epoch, "epoch_enter_preempt");
    if et.is_null() {
        violation(
            ViolationKind::BadArgument,
            "epoch_enter_preempt: NULL tracker",
        );
        return;
    }
    let key = crate::thread::key();
    let outer = TRACKERS.with(|t| {
        let mut t = t.borrow_mut();
        if t.contains(&(et as usize)) {
            violation(
                ViolationKind::EpochUnbalanced,
                "epoch_enter_preempt: tracker already in use",
            );
        }
        t.push(et as usize);
        t.len() == 1
    });
    with(|s| {
        let e = s.threads.entry(key).or_insert((0, 0));
        e.0 += 1;
        if outer {
            e.1 += 1;
        }
    });
}

/// subr_epoch.c `_epoch_exit_preempt`.
#[no_mangle]
pub extern "C" fn _epoch_exit_preempt(epoch: *const c_void, et: *mut c_void) {
    let _model = crate::malloc::Internal::enter();
    check_epoch(epoch, "epoch_exit_preempt");
    let found = TRACKERS.with(|t| {
        let mut t = t.borrow_mut();
        match t.iter().rposition(|&x| x == et as usize) {
            Some(i) => {
                t.remove(i);
                true
            }
            None => false,
        }
    });
    if !found {
        violation(
            ViolationKind::EpochUnbalanced,
            format!("epoch_exit_preempt({et:p}): tracker not entered on this thread"),
        );
        return;
    }
    let key = crate::thread::key();
    with(|s| {
        if let Some(e) = s.threads.get_mut(&key) {
            e.0 = e.0.saturating_sub(1);
        }
    });
    CHANGED.notify_all();
}

/// subr_epoch.c `in_epoch`.
#[no_mangle]
pub extern "C" fn in_epoch(epoch: *const c_void) -> c_int {
    let _model = crate::malloc::Internal::enter();
    check_epoch(epoch, "in_epoch");
    c_int::from(depth() > 0)
}

/// subr_epoch.c `epoch_wait_preempt`: waits for every section in progress
/// on other threads to end.
#[no_mangle]
pub extern "C" fn epoch_wait_preempt(epoch: *const c_void) {
    let _model = crate::malloc::Internal::enter();
    check_epoch(epoch, "epoch_wait_preempt");
    if depth() > 0 {
        violation(
            ViolationKind::SleepInEpoch,
            "epoch_wait_preempt called inside an epoch section",
        );
        return; // the real one would deadlock or panic
    }
    crate::malloc::untracked(|| {
        let mut g = SECTIONS.lock().unwrap_or_else(|e| e.into_inner());
        let s = g.get_or_insert_with(Sections::default);
        s.waits += 1;
        let busy: Vec<(u64, u64)> = s
            .threads
            .iter()
            .filter(|(_, v)| v.0 > 0)
            .map(|(k, v)| (*k, v.1))
            .collect();
        for (k, gen) in busy {
            loop {
                let s = g.get_or_insert_with(Sections::default);
                match s.threads.get(&k) {
                    Some(&(d, g2)) if d > 0 && g2 == gen => {}
                    _ => break,
                }
                g = CHANGED.wait(g).unwrap_or_else(|e| e.into_inner());
            }
        }
    });
    // A grace period has elapsed: deferred frees may run now.
    run_callbacks();
}

/// Run `f` inside a model-entered net epoch section (as the network stack
/// does around if_transmit, hooks and srcaddr callbacks).
pub fn with_section<R>(f: impl FnOnce() -> R) -> R {
    let mut et = [0u64; 8];
    let p = et.as_mut_ptr().cast::<c_void>();
    _epoch_enter_preempt((&raw const NET_EPOCH).cast(), p);
    struct Exit(*mut c_void);
    impl Drop for Exit {
        fn drop(&mut self) {
            _epoch_exit_preempt((&raw const NET_EPOCH).cast(), self.0);
        }
    }
    let _x = Exit(p);
    f()
}

static CALLBACKS: Mutex<Vec<(usize, usize)>> = Mutex::new(Vec::new());

fn run_callbacks() {
    let cbs = crate::malloc::untracked(|| {
        std::mem::take(&mut *CALLBACKS.lock().unwrap_or_else(|e| e.into_inner()))
    });
    for (cb, ctx) in cbs {
        // SAFETY: an epoch_callback_t of the module with its context.
        let f: unsafe extern "C" fn(*mut c_void) = unsafe { std::mem::transmute(cb) };
        // SAFETY: called after a grace period, as the epoch task does.
        crate::malloc::in_module(|| unsafe { f(ctx as *mut c_void) });
    }
}

/// subr_epoch.c `epoch_call`: `cb(ctx)` after a grace period.  The model
/// runs pending callbacks at the next epoch_wait_preempt (after its wait),
/// at epoch_drain_callbacks, or when a test calls [`flush_callbacks`].
#[no_mangle]
pub extern "C" fn epoch_call(epoch: *const c_void, cb: usize, ctx: *mut c_void) {
    let _model = crate::malloc::Internal::enter();
    check_epoch(epoch, "epoch_call");
    crate::malloc::untracked(|| {
        CALLBACKS
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push((cb, ctx as usize))
    });
}

/// subr_epoch.c `epoch_drain_callbacks`: sleeps until all callbacks ran.
#[no_mangle]
pub extern "C" fn epoch_drain_callbacks(epoch: *const c_void) {
    let _model = crate::malloc::Internal::enter();
    check_epoch(epoch, "epoch_drain_callbacks");
    may_sleep("epoch_drain_callbacks");
    epoch_wait_preempt(epoch);
}

/// Run pending epoch_call callbacks now (a grace period elapsed).
pub fn flush_callbacks() {
    if depth() > 0 {
        violation(
            ViolationKind::SleepInEpoch,
            "flush_callbacks inside an epoch section",
        );
        return;
    }
    run_callbacks();
}

pub(crate) fn pending_callbacks() -> usize {
    crate::malloc::untracked(|| CALLBACKS.lock().unwrap_or_else(|e| e.into_inner()).len())
}
