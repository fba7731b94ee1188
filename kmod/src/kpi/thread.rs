//! curthread, privilege checks and user-memory copies.
//!
//! FreeBSD 14.2 (b66633d79ade): `curthread` is `%gs:0` on amd64
//! (sys/amd64/include/pcpu_aux.h `__curthread`); priv_check(9) in
//! sys/kern/kern_priv.c; copyin/copyout(9) (sys/sys/systm.h) may fault and
//! sleep, hence the [`Sleepable`] token.
use super::epoch::Sleepable;
use core::ffi::{c_int, c_void};
use sys_bindings::thread::{copyin, copyout, priv_check, thread};

/// Address of the current thread (`curthread`).
///
/// This is one of the few host/kernel differences, confined here: in the
/// kernel it reads PCPU `pc_curthread` at `%gs:0`; on the host (tests) the
/// KPI model provides `kpi_model_curthread()`, one fake thread per host
/// thread.
#[cfg(target_os = "none")]
pub fn curthread_addr() -> usize {
    let td: usize;
    // SAFETY: in kernel context %gs holds the current CPU's struct pcpu,
    // whose first member is pc_curthread; reading it has no side effect.
    unsafe {
        core::arch::asm!("mov {}, qword ptr gs:[0]", out(reg) td,
            options(nostack, preserves_flags, readonly));
    }
    td
}

#[cfg(not(target_os = "none"))]
extern "C" {
    fn kpi_model_curthread() -> *mut c_void;
}

/// Address of the current thread (host: the KPI model's fake thread).
#[cfg(not(target_os = "none"))]
pub fn curthread_addr() -> usize {
    // SAFETY: a plain function of the model without preconditions.
    unsafe { kpi_model_curthread() as usize }
}

/// `curthread` as the pointer KPIs take.
pub(crate) fn curthread() -> *mut thread {
    curthread_addr() as *mut thread
}

/// Read a pointer-sized field of curthread at `offset` (a `TD_*_OFFSET`
/// from sys_bindings::thread).
pub(crate) fn td_field(offset: usize) -> usize {
    // SAFETY: curthread is a live struct thread for the whole call and the
    // offsets are those of pointer fields in it (pinned in sys_bindings).
    unsafe { ((curthread_addr() + offset) as *const usize).read() }
}

/// Write a pointer-sized field of curthread (CURVNET_SET).
///
/// # Safety
/// `offset` must be a field the current thread may change (td_vnet).
pub(crate) unsafe fn set_td_field(offset: usize, value: usize) {
    // SAFETY: as td_field; the caller vouches for the field.
    unsafe { ((curthread_addr() + offset) as *mut usize).write(value) }
}

/// priv_check(9) for the current thread: `Ok` or the errno (EPERM).
pub fn priv_check_cur(privilege: c_int) -> Result<(), c_int> {
    // SAFETY: curthread is valid; priv_check only reads its credentials.
    match unsafe { priv_check(curthread(), privilege) } {
        0 => Ok(()),
        e => Err(e),
    }
}

/// A user-space address (never dereferenced by the module).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UserAddr(pub usize);

/// copyin(9) of exactly `N` bytes: `Err(EFAULT)` on a bad address.
pub fn copyin_array<const N: usize>(_: &mut Sleepable, from: UserAddr) -> Result<[u8; N], c_int> {
    let mut buf = [0u8; N];
    // SAFETY: `buf` is a kernel buffer of N bytes; copyin validates the
    // user range itself.
    match unsafe { copyin(from.0 as *const c_void, buf.as_mut_ptr().cast(), N) } {
        0 => Ok(buf),
        e => Err(e),
    }
}

/// copyout(9) of `bytes`: `Err(EFAULT)` on a bad address.
pub fn copyout_bytes(_: &mut Sleepable, bytes: &[u8], to: UserAddr) -> Result<(), c_int> {
    // SAFETY: `bytes` is readable for its length; copyout validates the
    // user range itself.
    match unsafe { copyout(bytes.as_ptr().cast(), to.0 as *mut c_void, bytes.len()) } {
        0 => Ok(()),
        e => Err(e),
    }
}
