//! sx(9) exclusive locks with WITNESS-style ownership checks.
//!
//! Mirrors FreeBSD 14.2 sys/kern/kern_sx.c (b66633d79ade): `sx_init_flags`
//! sets `sx_lock = SX_LOCK_UNLOCKED`; `_sx_xlock` KASSERTs the lock is not
//! destroyed and, without SX_RECURSE, panics on recursion ("recursed on
//! non-recursive sx"); `_sx_xunlock` by a non-owner is caught by
//! `_sx_assert(SA_XLOCKED)`; `sx_destroy` KASSERTs "sx lock still held";
//! sleeping on an sx inside an epoch section is illegal (THREAD_NO_SLEEPING).
//! The model writes the owner into `sx_lock` as the kernel does, so the
//! inline `sx_xlocked()` (SX_OWNER(sx_lock) == curthread) works on it.
use crate::check::{violation, ViolationKind};
use std::collections::HashMap;
use std::ffi::{c_char, c_int, c_void};
use std::sync::{Condvar, Mutex};

/// `SX_LOCK_UNLOCKED` (sys/sys/sx.h).
pub const SX_LOCK_UNLOCKED: usize = 0x01;
/// `SX_LOCK_DESTROYED` (sys/sys/sx.h).
pub const SX_LOCK_DESTROYED: usize = 0x06;
/// `SA_*` assertion values (sys/sys/lock.h LA_*).
pub const SA_UNLOCKED: c_int = 0x00;
pub const SA_LOCKED: c_int = 0x01;
pub const SA_SLOCKED: c_int = 0x02;
pub const SA_XLOCKED: c_int = 0x04;
/// Offset of `sx_lock` in `struct sx` (after the 24-byte lock_object).
pub const SX_LOCK_OFFSET: usize = 24;

#[derive(Clone, Debug)]
struct SxState {
    name: String,
    owner: Option<u64>,
    destroyed: bool,
}

static LOCKS: Mutex<Option<HashMap<usize, SxState>>> = Mutex::new(None);
static RELEASED: Condvar = Condvar::new();

fn with<R>(f: impl FnOnce(&mut HashMap<usize, SxState>) -> R) -> R {
    crate::malloc::untracked(|| {
        let mut g = LOCKS.lock().unwrap_or_else(|e| e.into_inner());
        f(g.get_or_insert_with(HashMap::new))
    })
}

pub(crate) fn reset() {
    with(|m| m.clear());
}

fn set_word(sx: *mut c_void, v: usize) {
    // SAFETY: sx points at a struct sx (32 bytes) owned by the module.
    unsafe {
        sx.cast::<u8>()
            .add(SX_LOCK_OFFSET)
            .cast::<usize>()
            .write_volatile(v)
    };
}

/// Names of locks held by anybody (for assert_clean).
pub fn held() -> Vec<String> {
    with(|m| {
        m.values()
            .filter(|s| s.owner.is_some())
            .map(|s| s.name.clone())
            .collect()
    })
}

/// kern_sx.c `sx_init_flags`.
#[no_mangle]
pub extern "C" fn sx_init_flags(sx: *mut c_void, desc: *const c_char, _opts: c_int) {
    let _model = crate::malloc::Internal::enter();
    let name = if desc.is_null() {
        "<sx>".to_owned()
    } else {
        // SAFETY: desc is a NUL-terminated string.
        crate::malloc::untracked(|| {
            unsafe { std::ffi::CStr::from_ptr(desc) }
                .to_string_lossy()
                .into_owned()
        })
    };
    let prev = with(|m| {
        m.insert(
            sx as usize,
            SxState {
                name: name.clone(),
                owner: None,
                destroyed: false,
            },
        )
    });
    if prev.is_some_and(|p| !p.destroyed) {
        violation(
            ViolationKind::LockMisuse,
            format!(
                "sx_init({name}): already initialized (lock_init: \"lock already initialized\")"
            ),
        );
    }
    set_word(sx, SX_LOCK_UNLOCKED);
}

/// kern_sx.c `sx_destroy`.
#[no_mangle]
pub extern "C" fn sx_destroy(sx: *mut c_void) {
    let _model = crate::malloc::Internal::enter();
    let r = with(|m| match m.get_mut(&(sx as usize)) {
        None => Err("sx_destroy of an uninitialized sx".to_owned()),
        Some(s) if s.destroyed => Err(format!("sx_destroy({}) twice", s.name)),
        Some(s) if s.owner.is_some() => Err(format!("sx_destroy({}): sx lock still held", s.name)),
        Some(s) => {
            s.destroyed = true;
            Ok(())
        }
    });
    match r {
        Ok(()) => set_word(sx, SX_LOCK_DESTROYED),
        Err(e) => violation(ViolationKind::LockMisuse, e),
    }
}

/// kern_sx.c `_sx_xlock` (target of the sx_xlock macro when LOCK_DEBUG or
/// SX_NOINLINE; always exported).
#[no_mangle]
pub extern "C" fn _sx_xlock(
    sx: *mut c_void,
    _opts: c_int,
    _file: *const c_char,
    _line: c_int,
) -> c_int {
    let _model = crate::malloc::Internal::enter();
    let _model = crate::malloc::Internal::enter();
    crate::epoch::may_sleep("sx_xlock");
    let me = crate::thread::key();
    if let Some(name) = with(|m| m.get(&(sx as usize)).map(|s| s.name.clone())) {
        crate::witness::acquire(&name);
    }
    let r = crate::malloc::untracked(|| {
        let mut g = LOCKS.lock().unwrap_or_else(|e| e.into_inner());
        loop {
            let m = g.get_or_insert_with(HashMap::new);
            let Some(s) = m.get_mut(&(sx as usize)) else {
                return Err("sx_xlock of an uninitialized sx".to_owned());
            };
            if s.destroyed {
                return Err(format!("sx_xlock() of destroyed sx {}", s.name));
            }
            match s.owner {
                Some(o) if o == me => {
                    return Err(format!(
                        "_sx_xlock_hard: recursed on non-recursive sx {}",
                        s.name
                    ))
                }
                Some(_) => g = RELEASED.wait(g).unwrap_or_else(|e| e.into_inner()),
                None => {
                    s.owner = Some(me);
                    return Ok(());
                }
            }
        }
    });
    match r {
        Ok(()) => set_word(sx, crate::thread::curthread_addr()),
        Err(e) => violation(ViolationKind::LockMisuse, e),
    }
    0
}

/// kern_sx.c `_sx_xunlock`.
#[no_mangle]
pub extern "C" fn _sx_xunlock(sx: *mut c_void, _file: *const c_char, _line: c_int) {
    let _model = crate::malloc::Internal::enter();
    let me = crate::thread::key();
    let r = with(|m| match m.get_mut(&(sx as usize)) {
        None => Err("sx_xunlock of an uninitialized sx".to_owned()),
        Some(s) if s.owner != Some(me) => Err(format!(
            "sx_xunlock({}) by a thread that does not own it (Lock not exclusively locked)",
            s.name
        )),
        Some(s) => {
            s.owner = None;
            Ok(s.name.clone())
        }
    });
    match r {
        Ok(name) => {
            crate::witness::release(&name);
            set_word(sx, SX_LOCK_UNLOCKED);
            RELEASED.notify_all();
        }
        Err(e) => violation(ViolationKind::LockMisuse, e),
    }
}

/// Does the calling thread hold `sx` exclusively?
pub fn owned_by_me(sx: *const c_void) -> bool {
    let me = crate::thread::key();
    with(|m| m.get(&(sx as usize)).is_some_and(|s| s.owner == Some(me)))
}

/// kern_sx.c `_sx_assert` (INVARIANT_SUPPORT kernels).
#[no_mangle]
pub extern "C" fn _sx_assert(sx: *const c_void, what: c_int, _file: *const c_char, _line: c_int) {
    let _model = crate::malloc::Internal::enter();
    let mine = owned_by_me(sx);
    let ok = match what & 0x07 {
        SA_UNLOCKED => !mine,
        SA_LOCKED | SA_XLOCKED => mine,
        SA_SLOCKED => false, // the module never share-locks
        _ => false,
    };
    if !ok {
        violation(
            ViolationKind::LockMisuse,
            format!("sx_assert({what:#x}) failed on {sx:p}"),
        );
    }
}

/// kern_sx.c `sx_sysinit` (SX_SYSINIT): `arg` is a `struct sx_args`
/// { sa_sx, sa_desc, sa_flags }.
#[no_mangle]
pub extern "C" fn sx_sysinit(arg: *mut c_void) {
    let _model = crate::malloc::Internal::enter();
    // SAFETY: a struct sx_args of the module.
    let a = unsafe { &*arg.cast::<sys_bindings::sx::sx_args>() };
    sx_init_flags(a.sa_sx.cast(), a.sa_desc, a.sa_flags);
}

/// kern_sx.c `sx_try_xlock_`: nonzero on success, never sleeps.
#[no_mangle]
pub extern "C" fn sx_try_xlock_(sx: *mut c_void, _file: *const c_char, _line: c_int) -> c_int {
    let _model = crate::malloc::Internal::enter();
    let me = crate::thread::key();
    let r = with(|m| match m.get_mut(&(sx as usize)) {
        None => Err("sx_try_xlock of an uninitialized sx".to_owned()),
        Some(s) if s.destroyed => Err(format!("sx_try_xlock() of destroyed sx {}", s.name)),
        Some(s) if s.owner == Some(me) => Err(format!(
            "sx_try_xlock: recursed on non-recursive sx {}",
            s.name
        )),
        Some(s) if s.owner.is_some() => Ok(false),
        Some(s) => {
            s.owner = Some(me);
            Ok(true)
        }
    });
    match r {
        Ok(true) => {
            set_word(sx, crate::thread::curthread_addr());
            1
        }
        Ok(false) => 0,
        Err(e) => {
            violation(ViolationKind::LockMisuse, e);
            0
        }
    }
}

/// kern_sx.c `_sx_slock`: the module takes no shared sx locks; the model
/// treats one as exclusive (stricter: a second sharer waits).
#[no_mangle]
pub extern "C" fn _sx_slock(
    sx: *mut c_void,
    opts: c_int,
    file: *const c_char,
    line: c_int,
) -> c_int {
    _sx_xlock(sx, opts, file, line)
}

/// kern_sx.c `_sx_sunlock`.
#[no_mangle]
pub extern "C" fn _sx_sunlock(sx: *mut c_void, file: *const c_char, line: c_int) {
    _sx_xunlock(sx, file, line)
}
