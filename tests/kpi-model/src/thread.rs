//! curthread, priv_check(9), copyin/copyout(9) and a fake user address space.
//!
//! In the kernel the module reads curthread with `%gs:0` (PCPU curthread);
//! on the host its kpi layer calls [`kpi_model_curthread`] instead.  Each
//! host thread gets its own zeroed, never-freed `struct thread`-sized block
//! (so `td_vnet`/`td_ucred` can be read at their real offsets).
use crate::check::{violation, ViolationKind};
use std::cell::Cell;
use std::collections::{BTreeMap, HashSet};
use std::ffi::{c_int, c_void};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

/// Bytes reserved for each model `struct thread` (larger than the real one).
pub const THREAD_BYTES: usize = 4096;
/// sys/sys/errno.h.
pub const EFAULT: c_int = 14;
pub const EPERM: c_int = 1;

static NEXT_KEY: AtomicU64 = AtomicU64::new(1);

thread_local! {
    static KEY: Cell<u64> = const { Cell::new(0) };
    static TD: Cell<usize> = const { Cell::new(0) };
}

/// A small unique id of the calling host thread (never 0).
pub fn key() -> u64 {
    KEY.with(|k| {
        if k.get() == 0 {
            k.set(NEXT_KEY.fetch_add(1, Ordering::Relaxed));
        }
        k.get()
    })
}

/// Address of the calling thread's model `struct thread`.
pub fn curthread_addr() -> usize {
    TD.with(|t| {
        if t.get() == 0 {
            // Lock words keep flags in the low 5 bits of the owner thread
            // pointer (sx.h SX_LOCK_FLAGMASK): struct thread is allocated
            // 32-byte aligned at least (kern_thread.c thread_zone:
            // UMA_ALIGN_CACHE_AND_MASK(32 - 1)).
            #[repr(C, align(64))]
            struct Td([u64; THREAD_BYTES / 8]);
            let b: Box<Td> = crate::malloc::untracked(|| Box::new(Td([0; THREAD_BYTES / 8])));
            let td = Box::leak(b);
            // A new thread starts in vnet0 (curvnet of proc0's threads),
            // belongs to the model's one process and has its credential.
            for (off, val) in [
                (
                    sys_bindings::thread::TD_VNET_OFFSET,
                    crate::vnet::vnet0_ptr() as usize,
                ),
                (sys_bindings::thread::TD_PROC_OFFSET, fake_proc()),
                (sys_bindings::thread::TD_UCRED_OFFSET, fake_ucred()),
            ] {
                if let Some(v) = td.0.get_mut(off / 8) {
                    *v = val as u64;
                }
            }
            t.set(td.0.as_mut_ptr() as usize);
        }
        t.get()
    })
}

static PROC: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
static UCRED: std::sync::OnceLock<usize> = std::sync::OnceLock::new();

/// The model's one `struct proc` (zeroed, SIZEOF_PROC+ bytes).
fn fake_proc() -> usize {
    *PROC.get_or_init(|| {
        crate::malloc::untracked(|| Box::leak(Box::new([0u64; 256])).as_mut_ptr() as usize)
    })
}

/// The model's one `struct ucred` (zeroed; unjailed).
pub fn fake_ucred() -> usize {
    *UCRED.get_or_init(|| {
        crate::malloc::untracked(|| Box::leak(Box::new([0u64; 64])).as_mut_ptr() as usize)
    })
}

/// Set `p_fibnum` of the model's process (setfib(1) before ifconfig).
pub fn set_proc_fib(fib: i32) {
    // SAFETY: the fake proc block is 2048 bytes; p_fibnum is an int at
    // P_FIBNUM_OFFSET (1044).
    unsafe { ((fake_proc() + sys_bindings::thread::P_FIBNUM_OFFSET) as *mut i32).write(fib) }
}

/// Host replacement of `curthread` (PCPU_GET(curthread) / `%gs:0`), called
/// only by the module's kpi layer when not built for the kernel.
#[no_mangle]
pub extern "C" fn kpi_model_curthread() -> *mut c_void {
    let _model = crate::malloc::Internal::enter();
    curthread_addr() as *mut c_void
}

/// Write a pointer-sized field of the calling thread's `struct thread`.
pub fn set_td_field(offset: usize, value: usize) {
    if offset + 8 > THREAD_BYTES {
        return;
    }
    // SAFETY: the block is THREAD_BYTES long and 8-aligned.
    unsafe {
        (curthread_addr() as *mut u8)
            .add(offset)
            .cast::<usize>()
            .write(value)
    }
}

/// Read a pointer-sized field of the calling thread's `struct thread`.
pub fn td_field(offset: usize) -> usize {
    if offset + 8 > THREAD_BYTES {
        return 0;
    }
    // SAFETY: as above.
    unsafe {
        (curthread_addr() as *const u8)
            .add(offset)
            .cast::<usize>()
            .read()
    }
}

#[derive(Default)]
struct Creds {
    denied: HashSet<c_int>,
    checks: Vec<c_int>,
}

#[derive(Default)]
struct UserMem {
    next: usize,
    /// base → bytes
    regions: BTreeMap<usize, Vec<u8>>,
}

static CREDS: Mutex<Option<Creds>> = Mutex::new(None);
static USER: Mutex<Option<UserMem>> = Mutex::new(None);
/// Fake user addresses start here (below the amd64 kernel half).
pub const USER_BASE: usize = 0x0000_7000_0000_0000;

fn creds<R>(f: impl FnOnce(&mut Creds) -> R) -> R {
    crate::malloc::untracked(|| {
        f(CREDS
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get_or_insert_with(Creds::default))
    })
}

fn user<R>(f: impl FnOnce(&mut UserMem) -> R) -> R {
    crate::malloc::untracked(|| {
        let mut g = USER.lock().unwrap_or_else(|e| e.into_inner());
        f(g.get_or_insert_with(|| UserMem {
            next: USER_BASE,
            ..UserMem::default()
        }))
    })
}

pub(crate) fn reset() {
    set_proc_fib(0);
    creds(|c| *c = Creds::default());
    user(|u| {
        *u = UserMem {
            next: USER_BASE,
            ..UserMem::default()
        }
    });
}

/// Make priv_check(9) fail with EPERM for `privilege` (an unprivileged or
/// jailed caller).
pub fn deny_priv(privilege: c_int) {
    creds(|c| c.denied.insert(privilege));
}

/// Privileges checked so far, in order.
pub fn priv_checks() -> Vec<c_int> {
    creds(|c| c.checks.clone())
}

/// kern_priv.c `priv_check(td, priv)`: root in the model unless denied.
#[no_mangle]
pub extern "C" fn priv_check(td: *mut c_void, privilege: c_int) -> c_int {
    let _model = crate::malloc::Internal::enter();
    if td as usize != curthread_addr() {
        violation(
            ViolationKind::BadArgument,
            "priv_check: td is not curthread",
        );
    }
    creds(|c| {
        c.checks.push(privilege);
        if c.denied.contains(&privilege) {
            EPERM
        } else {
            0
        }
    })
}

/// Map `bytes` into the fake user address space; returns its address.
pub fn user_alloc(bytes: &[u8]) -> usize {
    user(|u| {
        let base = u.next;
        u.next += bytes.len().max(1).next_multiple_of(4096) + 4096; // guard gap
        u.regions.insert(base, bytes.to_vec());
        base
    })
}

/// Read back `len` bytes of user memory (None if not mapped).
pub fn user_read(addr: usize, len: usize) -> Option<Vec<u8>> {
    user(|u| {
        let (&base, r) = u.regions.range(..=addr).next_back()?;
        let off = addr - base;
        r.get(off..off.checked_add(len)?).map(<[u8]>::to_vec)
    })
}

fn user_access(addr: usize, len: usize, f: impl FnOnce(&mut [u8])) -> c_int {
    user(|u| {
        let Some((&base, r)) = u.regions.range_mut(..=addr).next_back() else {
            return EFAULT;
        };
        let off = addr - base;
        match off.checked_add(len).and_then(|end| r.get_mut(off..end)) {
            Some(s) => {
                f(s);
                0
            }
            None => EFAULT,
        }
    })
}

/// copyin(9) (sys/amd64/amd64/support.S): EFAULT on an unmapped address;
/// may fault and sleep, so never inside an epoch section.
#[no_mangle]
pub extern "C" fn copyin(uaddr: *const c_void, kaddr: *mut c_void, len: usize) -> c_int {
    let _model = crate::malloc::Internal::enter();
    crate::epoch::may_sleep("copyin");
    if len > 0 && kaddr.is_null() {
        violation(ViolationKind::BadArgument, "copyin to NULL");
        return EFAULT;
    }
    user_access(uaddr as usize, len, |s| {
        // SAFETY: kaddr is a kernel buffer of len bytes (caller contract).
        unsafe { std::ptr::copy_nonoverlapping(s.as_ptr(), kaddr.cast::<u8>(), len) }
    })
}

/// copyout(9): EFAULT on an unmapped address; may sleep.
#[no_mangle]
pub extern "C" fn copyout(kaddr: *const c_void, uaddr: *mut c_void, len: usize) -> c_int {
    let _model = crate::malloc::Internal::enter();
    crate::epoch::may_sleep("copyout");
    if len > 0 && kaddr.is_null() {
        violation(ViolationKind::BadArgument, "copyout from NULL");
        return EFAULT;
    }
    user_access(uaddr as usize, len, |s| {
        // SAFETY: kaddr is a kernel buffer of len bytes (caller contract).
        unsafe { std::ptr::copy_nonoverlapping(kaddr.cast::<u8>(), s.as_mut_ptr(), len) }
    })
}
