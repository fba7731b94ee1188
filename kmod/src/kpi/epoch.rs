//! The preemptible net epoch: sections as closures, tokens as proof.
//!
//! FreeBSD 14.2 sys/sys/epoch.h, sys/kern/subr_epoch.c (b66633d79ade):
//! `epoch_enter_preempt` links the caller's `struct epoch_tracker` into a
//! per-CPU list, so the tracker must not move until `epoch_exit_preempt`;
//! inside a section the thread must not sleep, and `epoch_wait_preempt`
//! (which sleeps) must not be called.
//!
//! Why a closure and not a guard object: a guard holding the tracker could
//! be moved (corrupting the kernel's list) or `mem::forget`-ten (leaving a
//! dangling tracker linked after the frame dies), both in safe code.  The
//! closure keeps the tracker in this frame and always exits.
//!
//! Tokens: [`InEpoch`] (only handed out inside a section) is required by
//! everything that reads epoch-protected data or runs the packet path;
//! [`Sleepable`] (only obtainable outside a section) is required by
//! everything that may sleep, and [`net_epoch`] borrows it mutably for the
//! whole section, so a section body cannot use it.
use core::marker::PhantomData;
use sys_bindings::epoch::{
    _epoch_enter_preempt, _epoch_exit_preempt, epoch_tracker, epoch_wait_preempt, in_epoch,
    net_epoch_preempt,
};

/// Proof that the current thread is inside a net epoch section.  Not
/// `Send`/`Sync`: it says something about this thread only.
pub struct InEpoch {
    _not_send: PhantomData<*mut ()>,
}

/// Proof that the current thread may sleep: it is not inside a net epoch
/// section (and the module holds no mutex: it uses none).  Not `Send`.
pub struct Sleepable {
    _not_send: PhantomData<*mut ()>,
}

impl Sleepable {
    /// The token, if the current thread is not inside the net epoch
    /// (`in_epoch(9)`, exported by every kernel).  Entry points that the
    /// kernel calls in a sleepable context (module events, ioctls, cloner
    /// callbacks) get it from their kpi trampolines.
    pub fn here() -> Option<Sleepable> {
        // SAFETY: reading the kernel's `net_epoch_preempt` pointer, set at
        // boot and never changed; in_epoch only reads per-thread state.
        let inside = unsafe { in_epoch(net_epoch_preempt) } != 0;
        (!inside).then_some(Sleepable {
            _not_send: PhantomData,
        })
    }
}

/// Tracker storage.  Room for the EPOCH_TRACE fields too (40 bytes more),
/// so a kernel built with EPOCH_TRACE cannot write past it.
#[repr(C)]
struct TrackerSlot {
    et: epoch_tracker,
    _trace_room: [usize; 5],
}

fn new_slot() -> TrackerSlot {
    // SAFETY: epoch_tracker is plain C data (pointers and integers) for
    // which all-zero is the documented initial state.
    unsafe { core::mem::zeroed() }
}

/// Exits the section when dropped (also on unwind, in host tests).
struct Exit(*mut epoch_tracker);

impl Drop for Exit {
    fn drop(&mut self) {
        // SAFETY: the tracker was entered by `section` in the caller's
        // frame, has not moved, and is exited exactly once, here.
        unsafe { _epoch_exit_preempt(net_epoch_preempt, self.0) };
    }
}

fn section<R>(f: impl FnOnce(&InEpoch) -> R) -> R {
    let mut slot = new_slot();
    let et: *mut epoch_tracker = &mut slot.et;
    // SAFETY: `slot` lives in this frame until after `Exit` runs, is not
    // moved while entered (only the raw pointer is used), and enter/exit
    // are paired by `Exit`.
    unsafe { _epoch_enter_preempt(net_epoch_preempt, et) };
    let _exit = Exit(et);
    f(&InEpoch {
        _not_send: PhantomData,
    })
}

/// Run `f` inside a net epoch section (NET_EPOCH_ENTER/EXIT).  Borrows the
/// [`Sleepable`] token so `f` cannot sleep through it.
pub fn net_epoch<R>(_: &mut Sleepable, f: impl FnOnce(&InEpoch) -> R) -> R {
    section(f)
}

/// Enter (possibly nested) from a kernel callback that may or may not
/// already run inside the epoch (if_transmit, hhooks): nesting is legal.
pub(crate) fn net_epoch_nested<R>(f: impl FnOnce(&InEpoch) -> R) -> R {
    section(f)
}

/// Vouch for being inside the epoch when the kernel guarantees it for a
/// callback (e.g. srcaddr callbacks run under NET_EPOCH_ENTER).
///
/// # Safety
/// The current thread must be inside a net epoch section for as long as
/// the token is used.
pub(crate) unsafe fn assume_in_epoch() -> InEpoch {
    InEpoch {
        _not_send: PhantomData,
    }
}

/// NET_EPOCH_WAIT(): wait until every section that started before the call
/// has ended.  Sleeps, hence the token.
pub fn epoch_wait(_: &mut Sleepable) {
    // SAFETY: outside any section (token); net_epoch_preempt is valid.
    unsafe { epoch_wait_preempt(net_epoch_preempt) };
}
