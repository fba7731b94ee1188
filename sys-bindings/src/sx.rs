//! sx(9) shared/exclusive locks: `struct lock_object`, `struct sx`, and the
//! functions a MODULE calls.
//!
//! Source: FreeBSD 14.2 sys/sys/_lock.h, sys/sys/_sx.h, sys/sys/sx.h,
//! sys/sys/lock.h (b66633d79ade); functions in sys/kern/kern_sx.c (same
//! commit), exported by the kernel.
//!
//! # What `sx_xlock`/`sx_xunlock`/`sx_assert` become in a module
//! sys/sys/_lock.h sets `LOCK_DEBUG 1` whenever `KLD_MODULE` is defined and
//! `KLD_TIED` is not (kmod.mk passes `-DKLD_MODULE`; verified by compiling:
//! `LOCK_DEBUG == 1`), so that one module binary works with debug and
//! non-debug kernels.  Then sx.h maps
//! - `sx_xlock(sx)`   → `(void)_sx_xlock(sx, 0, __FILE__, __LINE__)`,
//! - `sx_xunlock(sx)` → `_sx_xunlock(sx, __FILE__, __LINE__)`,
//! - `sx_slock`/`sx_sunlock` → `_sx_slock(sx, 0, f, l)` / `_sx_sunlock(sx, f, l)`,
//! - `sx_try_xlock(sx)` → `sx_try_xlock_(sx, f, l)`,
//!
//! never the inline fast paths `__sx_xlock`/`__sx_xunlock` (only for
//! `LOCK_DEBUG == 0`, i.e. kernel-built code).  `file` may be NULL and
//! `line` 0 (that is what non-debug kernel code passes).
//! - `sx_assert(sx, what)` → `_sx_assert(...)` only with INVARIANTS, else a
//!   no-op.  `_sx_assert` exists only in kernels with `INVARIANT_SUPPORT`,
//!   which amd64 GENERIC 14.2 (release: no std.debug) does NOT have: a
//!   module importing `_sx_assert` would fail to load there.  To assert
//!   ownership use `sx_xlocked` (a macro reading the lock word, mirrored by
//!   [`sx_xlocked_by`]).
//! - `sx_init(sx, d)` = `sx_init_flags(sx, d, 0)`.

use core::ffi::{c_char, c_int, c_uint, c_void};
use core::mem::{offset_of, size_of};
use static_assertions::const_assert_eq;

/// `struct lock_object` (sys/sys/_lock.h).
#[repr(C)]
pub struct lock_object {
    /// `lo_name`: individual lock name.
    pub lo_name: *const c_char,
    /// `lo_flags`.
    pub lo_flags: c_uint,
    /// `lo_data`: class-specific data (`sx_recurse` for sx).
    pub lo_data: c_uint,
    /// `lo_witness`: `struct witness *`.
    pub lo_witness: *mut c_void,
}
const_assert_eq!(size_of::<lock_object>(), 24);
const_assert_eq!(offset_of!(lock_object, lo_name), 0);
const_assert_eq!(offset_of!(lock_object, lo_flags), 8);
const_assert_eq!(offset_of!(lock_object, lo_data), 12);
const_assert_eq!(offset_of!(lock_object, lo_witness), 16);

/// `struct sx` (sys/sys/_sx.h).  Must not move after `sx_init_flags`
/// (WITNESS and sleepqueues key on its address); give it static or heap
/// storage, zero-initialised.
#[repr(C)]
pub struct sx {
    /// `lock_object`.
    pub lock_object: lock_object,
    /// `sx_lock`: owner thread pointer | `SX_LOCK_*` flags, or
    /// `SX_LOCK_UNLOCKED`; written atomically by the kernel.
    pub sx_lock: usize,
}
const_assert_eq!(size_of::<sx>(), 32);
const_assert_eq!(offset_of!(sx, lock_object), 0);
const_assert_eq!(offset_of!(sx, sx_lock), 24);

impl sx {
    /// An all-zero `struct sx`, as a C static is before `sx_init_flags`
    /// (which requires zeroed memory unless `SX_NEW` is passed).
    pub const fn new() -> Self {
        Self {
            lock_object: lock_object {
                lo_name: core::ptr::null(),
                lo_flags: 0,
                lo_data: 0,
                lo_witness: core::ptr::null_mut(),
            },
            sx_lock: 0,
        }
    }
}

impl Default for sx {
    fn default() -> Self {
        Self::new()
    }
}

/// `SX_LOCK_SHARED`.
pub const SX_LOCK_SHARED: usize = 0x01;
/// `SX_LOCK_SHARED_WAITERS`.
pub const SX_LOCK_SHARED_WAITERS: usize = 0x02;
/// `SX_LOCK_EXCLUSIVE_WAITERS`.
pub const SX_LOCK_EXCLUSIVE_WAITERS: usize = 0x04;
/// `SX_LOCK_WRITE_SPINNER`.
pub const SX_LOCK_WRITE_SPINNER: usize = 0x08;
/// `SX_LOCK_RECURSED`.
pub const SX_LOCK_RECURSED: usize = 0x10;
/// `SX_LOCK_FLAGMASK`.
pub const SX_LOCK_FLAGMASK: usize = SX_LOCK_SHARED
    | SX_LOCK_SHARED_WAITERS
    | SX_LOCK_EXCLUSIVE_WAITERS
    | SX_LOCK_RECURSED
    | SX_LOCK_WRITE_SPINNER;
const_assert_eq!(SX_LOCK_FLAGMASK, 31);
/// `SX_LOCK_UNLOCKED` = `SX_SHARERS_LOCK(0)` = `SX_LOCK_SHARED`.
pub const SX_LOCK_UNLOCKED: usize = 0x01;

/// `sx_xlocked(sx)` (macro): true if `sx_lock` says thread `td` holds it
/// exclusively: `(sx_lock & ~(SX_LOCK_FLAGMASK & ~SX_LOCK_SHARED)) == td`.
#[inline]
pub const fn sx_xlocked_by(sx_lock: usize, td: usize) -> bool {
    (sx_lock & !(SX_LOCK_FLAGMASK & !SX_LOCK_SHARED)) == td
}

/// `SX_DUPOK`: `sx_init_flags` option.
pub const SX_DUPOK: c_int = 0x01;
/// `SX_NOPROFILE`.
pub const SX_NOPROFILE: c_int = 0x02;
/// `SX_NOWITNESS`.
pub const SX_NOWITNESS: c_int = 0x04;
/// `SX_QUIET`.
pub const SX_QUIET: c_int = 0x08;
/// `SX_RECURSE`.
pub const SX_RECURSE: c_int = 0x20;
/// `SX_NEW`: the `struct sx` is not zeroed; init anyway.
pub const SX_NEW: c_int = 0x40;
/// `SX_INTERRUPTIBLE`: `_sx_xlock` opts for `sx_xlock_sig`.
pub const SX_INTERRUPTIBLE: c_int = 0x40;

/// `LA_UNLOCKED` (sys/sys/lock.h).
pub const LA_UNLOCKED: c_int = 0x00;
/// `LA_LOCKED`.
pub const LA_LOCKED: c_int = 0x01;
/// `LA_SLOCKED`.
pub const LA_SLOCKED: c_int = 0x02;
/// `LA_XLOCKED`.
pub const LA_XLOCKED: c_int = 0x04;
/// `LA_RECURSED`.
pub const LA_RECURSED: c_int = 0x08;
/// `LA_NOTRECURSED`.
pub const LA_NOTRECURSED: c_int = 0x10;
/// `SA_LOCKED` = `LA_LOCKED` (defined by sx.h only with INVARIANTS or
/// INVARIANT_SUPPORT; the value is fixed).
pub const SA_LOCKED: c_int = LA_LOCKED;
/// `SA_SLOCKED`.
pub const SA_SLOCKED: c_int = LA_SLOCKED;
/// `SA_XLOCKED`.
pub const SA_XLOCKED: c_int = LA_XLOCKED;
/// `SA_UNLOCKED`.
pub const SA_UNLOCKED: c_int = LA_UNLOCKED;
/// `SA_RECURSED`.
pub const SA_RECURSED: c_int = LA_RECURSED;
/// `SA_NOTRECURSED`.
pub const SA_NOTRECURSED: c_int = LA_NOTRECURSED;

/// `struct sx_args` (argument of `sx_sysinit`, used by `SX_SYSINIT`).
#[repr(C)]
pub struct sx_args {
    /// `sa_sx`.
    pub sa_sx: *mut sx,
    /// `sa_desc`.
    pub sa_desc: *const c_char,
    /// `sa_flags`.
    pub sa_flags: c_int,
}
const_assert_eq!(size_of::<sx_args>(), 24);

extern "C" {
    /// `void sx_init_flags(struct sx *, const char *description, int opts)`.
    /// `description` must outlive the lock.  sys/kern/kern_sx.c; kernel.
    pub fn sx_init_flags(sx: *mut sx, description: *const c_char, opts: c_int);

    /// `void sx_destroy(struct sx *)`: the lock must be unlocked.
    /// sys/kern/kern_sx.c; kernel.
    pub fn sx_destroy(sx: *mut sx);

    /// `void sx_sysinit(void *arg)` (`arg` = `struct sx_args *`).
    /// sys/kern/kern_sx.c; kernel.
    pub fn sx_sysinit(arg: *mut c_void);

    /// `int _sx_xlock(struct sx *, int opts, const char *file, int line)`:
    /// what `sx_xlock` expands to in a module.  Returns 0 (or EINTR/
    /// ERESTART with `SX_INTERRUPTIBLE`).  Sleeps.  sys/kern/kern_sx.c;
    /// kernel.
    pub fn _sx_xlock(sx: *mut sx, opts: c_int, file: *const c_char, line: c_int) -> c_int;

    /// `void _sx_xunlock(struct sx *, const char *file, int line)`.
    /// sys/kern/kern_sx.c; kernel.
    pub fn _sx_xunlock(sx: *mut sx, file: *const c_char, line: c_int);

    /// `int _sx_slock(struct sx *, int opts, const char *file, int line)`.
    /// sys/kern/kern_sx.c; kernel.
    pub fn _sx_slock(sx: *mut sx, opts: c_int, file: *const c_char, line: c_int) -> c_int;

    /// `void _sx_sunlock(struct sx *, const char *file, int line)`.
    /// sys/kern/kern_sx.c; kernel.
    pub fn _sx_sunlock(sx: *mut sx, file: *const c_char, line: c_int);

    /// `int sx_try_xlock_(struct sx *, const char *file, int line)`:
    /// nonzero on success.  sys/kern/kern_sx.c; kernel.
    pub fn sx_try_xlock_(sx: *mut sx, file: *const c_char, line: c_int) -> c_int;
}
