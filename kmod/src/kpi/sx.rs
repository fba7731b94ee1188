//! sx(9) exclusive locks with RAII guards, and the module's configuration
//! lock whose guard is the proof of holding it.
//!
//! FreeBSD 14.2 sys/sys/sx.h, sys/kern/kern_sx.c (b66633d79ade).  A module
//! is compiled with LOCK_DEBUG = 1, so `sx_xlock`/`sx_xunlock` are the
//! exported `_sx_xlock`/`_sx_xunlock` (see sys_bindings::sx).  `_sx_assert`
//! is not imported (absent from GENERIC): ownership is read from the lock
//! word as the `sx_xlocked` macro does.
use super::epoch::Sleepable;
use super::thread::curthread_addr;
use core::cell::UnsafeCell;
use core::ffi::CStr;
use core::marker::PhantomData;
use core::sync::atomic::{AtomicU8, Ordering};
use sys_bindings::sx::{_sx_xlock, _sx_xunlock, sx, sx_destroy, sx_init_flags, sx_xlocked_by};

const UNINIT: u8 = 0;
const LIVE: u8 = 1;
const DEAD: u8 = 2;

/// A `struct sx` in static storage (it must not move once initialised).
pub struct SxLock {
    lock: UnsafeCell<sx>,
    name: &'static CStr,
    state: AtomicU8,
}

// SAFETY: the kernel serialises all access to the `struct sx` (that is its
// purpose); Rust only passes its address to kern_sx.c and reads the lock
// word with a volatile load.
unsafe impl Sync for SxLock {}

impl SxLock {
    /// An uninitialised lock named `name` (sx_init at module load).
    pub const fn new(name: &'static CStr) -> Self {
        Self {
            // SAFETY: all-zero is what a static `struct sx` starts as in C.
            lock: UnsafeCell::new(unsafe { core::mem::zeroed() }),
            name,
            state: AtomicU8::new(UNINIT),
        }
    }

    /// Initialised and not destroyed?
    pub fn is_live(&self) -> bool {
        self.state.load(Ordering::Acquire) == LIVE
    }

    /// sx_init(9).  Idempotent; a destroyed lock is initialised again
    /// (module reload reuses the static).
    pub fn init(&'static self) {
        if self.state.swap(LIVE, Ordering::AcqRel) == LIVE {
            return;
        }
        // SAFETY: static storage (never moves); not initialised now (state
        // was UNINIT or DEAD); `name` is 'static as the kernel requires.
        unsafe { sx_init_flags(self.lock.get(), self.name.as_ptr(), 0) };
    }

    /// sx_destroy(9): only when initialised and not held by this thread
    /// (holding it elsewhere is a WITNESS/INVARIANTS failure the model
    /// reports).
    pub fn destroy(&'static self) {
        if self.is_xlocked() {
            return;
        }
        if self
            .state
            .compare_exchange(LIVE, DEAD, Ordering::AcqRel, Ordering::Acquire)
            .is_ok()
        {
            // SAFETY: initialised and not held by us; no guard borrows it.
            unsafe { sx_destroy(self.lock.get()) };
        }
    }

    /// sx_xlock(9).  Sleeps, hence the token; the guard unlocks on drop.
    pub fn xlock(&'static self, _: &mut Sleepable) -> SxGuard<'static> {
        // SAFETY: static storage; file/line may be NULL/0 (non-debug
        // kernels pass those).  Without SX_INTERRUPTIBLE it returns 0.
        unsafe { _sx_xlock(self.lock.get(), 0, core::ptr::null(), 0) };
        SxGuard {
            lock: self,
            _not_send: PhantomData,
        }
    }

    /// sx_xlocked(9): does the current thread hold it exclusively?
    pub fn is_xlocked(&self) -> bool {
        // SAFETY: a volatile read of the lock word, as the C macro does.
        let word = unsafe { core::ptr::addr_of!((*self.lock.get()).sx_lock).read_volatile() };
        sx_xlocked_by(word, curthread_addr())
    }
}

/// Holds an [`SxLock`] exclusively; unlocks when dropped.  Not `Send`: an
/// sx must be released by the thread that took it.
pub struct SxGuard<'a> {
    lock: &'a SxLock,
    _not_send: PhantomData<*mut ()>,
}

impl Drop for SxGuard<'_> {
    fn drop(&mut self) {
        // SAFETY: this guard's existence means this thread holds the lock.
        unsafe { _sx_xunlock(self.lock.lock.get(), core::ptr::null(), 0) };
    }
}

/// The module's configuration lock (C: `ipsec_ioctl_sx`).  Writers of the
/// epoch-published tables must hold it: they take a [`ConfigGuard`].
pub struct ConfigLock(SxLock);

/// Proof of holding the [`ConfigLock`].
pub struct ConfigGuard<'a> {
    _guard: SxGuard<'a>,
}

impl ConfigGuard<'_> {
    /// Release the lock while `f` runs (it may sleep: pause(9) while
    /// memory is short), then take it again.  `&mut self` ends every
    /// borrow made under the guard first.
    pub fn unlocked<R>(&mut self, s: &mut Sleepable, f: impl FnOnce(&mut Sleepable) -> R) -> R {
        let sx = self._guard.lock.lock.get();
        // SAFETY: this guard's existence means this thread holds it.
        unsafe { _sx_xunlock(sx, core::ptr::null(), 0) };
        let r = f(s);
        // SAFETY: initialised static lock; taken back before the guard is
        // used or dropped again.
        unsafe { _sx_xlock(sx, 0, core::ptr::null(), 0) };
        r
    }
}

impl ConfigLock {
    /// An uninitialised configuration lock.
    pub const fn new(name: &'static CStr) -> Self {
        Self(SxLock::new(name))
    }

    /// Initialise at module load.
    pub fn init(&'static self) {
        self.0.init()
    }

    /// Destroy at module unload.
    pub fn destroy(&'static self) {
        self.0.destroy()
    }

    /// Take the lock (sleeps).
    pub fn lock(&'static self, s: &mut Sleepable) -> ConfigGuard<'static> {
        ConfigGuard {
            _guard: self.0.xlock(s),
        }
    }

    /// Initialised (the module loaded far enough to set anything up)?
    pub fn is_live(&self) -> bool {
        self.0.is_live()
    }

    /// Does this thread hold it?
    pub fn is_held(&self) -> bool {
        self.0.is_xlocked()
    }
}
