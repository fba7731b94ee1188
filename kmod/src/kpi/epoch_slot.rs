//! Epoch-published slots: how the module's tables reach the packet path
//! (RCU), also nested (the glue's tables: a directory slot whose buckets
//! are slots too).
//!
//! A reader loads the pointer inside a net epoch section and may use the
//! value until the section ends ([`Slot::get`] ties the reference to the
//! [`InEpoch`] borrow).  A writer holding the configuration lock swaps a
//! complete new value in with one atomic store, so a reader sees the old
//! or the new value, never a torn one, and frees the old value only after
//! `epoch_wait_preempt` (every section that could have loaded it has
//! ended): the scheme of FreeBSD's C if_ipsec (CK_LIST + NET_EPOCH_WAIT in
//! sys/net/if_ipsec.c ipsec_clone_destroy, b66633d79ade).
//!
//! Publishing needs only a shared `&ConfigGuard` (so a writer can publish
//! a bucket inside a directory it borrowed under the same guard); the
//! price is paid when freeing: a [`Gone`] value is freed with
//! `&mut ConfigGuard`, which the borrow checker grants only once no
//! reference obtained through [`Slot::get_locked`] is alive, and only with
//! a [`Waited`] proof of an epoch wait that started after it was
//! unpublished (an earlier wait is refused: it would not protect it).  One
//! wait may serve a whole batch of [`Gone`] values.  A [`Gone`] dropped
//! without [`Gone::free`] leaks (never a use after free).
use super::epoch::{epoch_wait, InEpoch, Sleepable};
use super::sx::ConfigGuard;
use super::vnet::VnetPod;
use alloc::boxed::Box;
use core::ptr;
use core::sync::atomic::{AtomicPtr, AtomicU64, Ordering};

/// Epoch waits started through [`Waited::wait`].
static WAITS: AtomicU64 = AtomicU64::new(0);

/// An epoch-protected `Option<Box<T>>`.
pub struct Slot<T> {
    ptr: AtomicPtr<T>,
}

// SAFETY: the slot owns a T like a Box does; readers get &T (T: Sync).
unsafe impl<T: Send + Sync> Send for Slot<T> {}
// SAFETY: as above; the pointer is atomic.
unsafe impl<T: Send + Sync> Sync for Slot<T> {}
// SAFETY: a null slot owns nothing; the module empties per-vnet copies
// (publish(None) + free) in its VNET_SYSUNINIT before the vnet goes.
unsafe impl<T: Send + Sync> VnetPod for Slot<T> {}

impl<T> Default for Slot<T> {
    fn default() -> Self {
        Self::null()
    }
}

/// A value unpublished from a [`Slot`]; readers may still see it until an
/// epoch wait.  Dropping it without [`Gone::free`] leaks it (never a use
/// after free).
#[must_use = "free it with Gone::free after Waited::wait"]
pub struct Gone<T> {
    ptr: *mut T,
    gen: u64,
}

// SAFETY: owns a T like a Box.
unsafe impl<T: Send> Send for Gone<T> {}

impl<T> Slot<T> {
    /// Empty.
    pub const fn null() -> Self {
        Self {
            ptr: AtomicPtr::new(ptr::null_mut()),
        }
    }

    /// The value, valid for the epoch section.
    pub fn get<'e>(&self, _: &'e InEpoch) -> Option<&'e T> {
        let p = self.ptr.load(Ordering::Acquire);
        // SAFETY: non-null pointers come from Box::into_raw in `publish`
        // and are freed only through Gone::free after a wait that started
        // after their unpublishing, so they outlive this section.
        unsafe { p.as_ref() }
    }

    /// The value, for the configuration-lock holder (valid while the
    /// shared borrow of the guard lasts: freeing needs it mutably).
    pub fn get_locked<'g>(&self, _: &'g ConfigGuard<'_>) -> Option<&'g T> {
        let p = self.ptr.load(Ordering::Acquire);
        // SAFETY: only Gone::free frees, and it needs `&mut ConfigGuard`,
        // which cannot coexist with the `&'g` borrow.
        unsafe { p.as_ref() }
    }

    /// Publish `new` (one release store); the old value comes back.
    pub fn publish(&self, new: Option<Box<T>>, _: &ConfigGuard<'_>) -> Gone<T> {
        let n = new.map_or(ptr::null_mut(), Box::into_raw);
        let old = self.ptr.swap(n, Ordering::SeqCst);
        Gone {
            ptr: old,
            gen: WAITS.load(Ordering::SeqCst),
        }
    }

    /// Fill an EMPTY slot (one not yet holding a value: nothing to
    /// retire, so no guard is needed).  `v` is dropped if it is occupied.
    pub fn fill_unpublished(&self, v: Box<T>) {
        let n = Box::into_raw(v);
        if self
            .ptr
            .compare_exchange(ptr::null_mut(), n, Ordering::SeqCst, Ordering::Relaxed)
            .is_err()
        {
            // SAFETY: n came from Box::into_raw just above and was not
            // stored anywhere.
            drop(unsafe { Box::from_raw(n) });
        }
    }

    /// Is it empty (writer's view)?
    pub fn is_null(&self) -> bool {
        self.ptr.load(Ordering::Acquire).is_null()
    }
}

impl<T> Gone<T> {
    /// Nothing was unpublished.
    pub fn is_empty(&self) -> bool {
        self.ptr.is_null()
    }

    /// Free behind `waited` (which must have started after this value was
    /// unpublished, else the value comes back).
    pub fn free(self, waited: &Waited, _: &mut ConfigGuard<'_>) -> Result<(), Gone<T>> {
        if waited.start <= self.gen {
            return Err(self);
        }
        if !self.ptr.is_null() {
            // SAFETY: from Box::into_raw; unpublished before a completed
            // epoch wait (start > gen), and no get_locked borrow is alive
            // (we hold the guard mutably).
            drop(unsafe { Box::from_raw(self.ptr) });
        }
        Ok(())
    }
}

/// Proof of an epoch wait and of when it started.
pub struct Waited {
    start: u64,
}

impl Waited {
    /// epoch_wait_preempt now.
    pub fn wait(s: &mut Sleepable) -> Waited {
        let start = WAITS.fetch_add(1, Ordering::SeqCst) + 1;
        epoch_wait(s);
        Waited { start }
    }
}

impl<T> Drop for Slot<T> {
    fn drop(&mut self) {
        let p = *self.ptr.get_mut();
        if !p.is_null() {
            // SAFETY: exclusive access (&mut): the container itself was
            // unpublished and waited for, so no reader can reach it.
            drop(unsafe { Box::from_raw(p) });
        }
    }
}
