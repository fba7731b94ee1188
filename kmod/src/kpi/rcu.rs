//! Epoch-published pointers: how the module's tables reach the packet path.
//!
//! Readers load the pointer inside a net epoch section and may use the
//! value until the section ends ([`EpochPtr::get`] ties the reference to
//! the [`InEpoch`] borrow).  Writers hold the configuration lock, swap in a
//! complete new value with one atomic store (so a reader sees either the
//! old or the new value, never a torn one) and free the old value only
//! after `epoch_wait_preempt` (every section that could have loaded it has
//! ended) — the scheme of FreeBSD's C if_ipsec (CK_LIST + NET_EPOCH_WAIT in
//! sys/net/if_ipsec.c ipsec_clone_destroy, b66633d79ade).
use super::epoch::{epoch_wait, InEpoch, Sleepable};
use super::sx::ConfigGuard;
use alloc::boxed::Box;
use core::ptr;
use core::sync::atomic::{AtomicPtr, AtomicU64, Ordering};

/// Counts epoch waits started through [`EpochWaited::wait`]; lets a batch
/// of retirements share one wait soundly (see [`Retired::free_waited`]).
static WAIT_GEN: AtomicU64 = AtomicU64::new(0);

/// An atomically replaceable, epoch-protected `Option<Box<T>>`.
pub struct EpochPtr<T> {
    ptr: AtomicPtr<T>,
}

impl<T> Default for EpochPtr<T> {
    fn default() -> Self {
        Self {
            ptr: AtomicPtr::new(ptr::null_mut()),
        }
    }
}

/// A value unpublished from an [`EpochPtr`] that readers may still see.
/// It is freed only by [`Retired::free`], after an epoch wait; dropping it
/// otherwise leaks it (never a use after free).
#[must_use = "free it with Retired::free after the epoch wait"]
pub struct Retired<T> {
    ptr: *mut T,
    /// WAIT_GEN when unpublished: only a wait started later protects it.
    gen: u64,
}

impl<T: Send + Sync> EpochPtr<T> {
    /// Empty.
    pub const fn null() -> Self {
        Self {
            ptr: AtomicPtr::new(ptr::null_mut()),
        }
    }

    /// The current value, valid for the epoch section.
    pub fn get<'e>(&self, _: &'e InEpoch) -> Option<&'e T> {
        let p = self.ptr.load(Ordering::Acquire);
        // SAFETY: a non-null pointer came from Box::into_raw in `publish`;
        // it is freed only after an epoch wait that follows its removal, so
        // it stays valid while the caller's section (lifetime 'e) lasts.
        unsafe { p.as_ref() }
    }

    /// The current value, for the writer holding the configuration lock
    /// (no other writer can retire it while the guard is borrowed here).
    pub fn get_locked<'g>(&self, _: &'g ConfigGuard<'_>) -> Option<&'g T> {
        let p = self.ptr.load(Ordering::Acquire);
        // SAFETY: only lock holders retire values, and `publish` needs the
        // guard mutably, so none can while this shared borrow lives.
        unsafe { p.as_ref() }
    }

    /// Publish `new` (release store) and hand back the old value, which
    /// readers may still be using.
    pub fn publish(&self, new: Option<Box<T>>, _: &mut ConfigGuard<'_>) -> Retired<T> {
        let n = new.map_or(ptr::null_mut(), Box::into_raw);
        let ptr = self.ptr.swap(n, Ordering::SeqCst);
        Retired {
            ptr,
            gen: WAIT_GEN.load(Ordering::SeqCst),
        }
    }

    /// Publish `new`, wait for readers, free the old value.
    pub fn replace(&self, new: Option<Box<T>>, g: &mut ConfigGuard<'_>, s: &mut Sleepable) {
        self.publish(new, g).free(s);
    }
}

impl<T> Retired<T> {
    /// Nothing was retired.
    pub fn is_empty(&self) -> bool {
        self.ptr.is_null()
    }

    /// Wait for the epoch, then free.
    pub fn free(self, s: &mut Sleepable) {
        if self.ptr.is_null() {
            return;
        }
        epoch_wait(s);
        // SAFETY: from Box::into_raw; unpublished before the wait, so no
        // reader section that could hold it is still running.
        drop(unsafe { Box::from_raw(self.ptr) });
    }

    /// Free behind a wait the caller already did, to batch several
    /// retirements behind one wait.  Gives the value back if `waited`
    /// started before this value was unpublished (it would not protect it).
    pub fn free_waited(self, waited: &EpochWaited) -> Result<(), Retired<T>> {
        if waited.start <= self.gen {
            return Err(self);
        }
        if !self.ptr.is_null() {
            // SAFETY: as in `free`: the wait started (WAIT_GEN increment,
            // SeqCst) after this value's unpublishing swap and its
            // WAIT_GEN load, so every section that could see it has ended.
            drop(unsafe { Box::from_raw(self.ptr) });
        }
        Ok(())
    }
}

/// Proof that an epoch wait happened (and when it started).
pub struct EpochWaited {
    start: u64,
}

impl EpochWaited {
    /// Wait now.  Values retired before this call may then be freed with
    /// [`Retired::free_waited`].
    pub fn wait(s: &mut Sleepable) -> Self {
        let start = WAIT_GEN.fetch_add(1, Ordering::SeqCst) + 1;
        epoch_wait(s);
        Self { start }
    }
}

// SAFETY: a Retired<T> owns a T exactly like a Box<T>.
unsafe impl<T: Send> Send for Retired<T> {}

impl<T> Drop for EpochPtr<T> {
    fn drop(&mut self) {
        let p = *self.ptr.get_mut();
        if !p.is_null() {
            // SAFETY: whoever drops the EpochPtr owns it exclusively (&mut),
            // so no reader can reach it any more (the container was itself
            // unpublished and waited for).
            drop(unsafe { Box::from_raw(p) });
        }
    }
}
