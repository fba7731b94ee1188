//! What the glue needs of `struct thread`, `struct proc`, `struct ucred`:
//! field offsets (the structs are large and kernel-owned, so they are
//! opaque here), how to find `curthread`, privilege checks, copyin/copyout
//! and `prison_if`.
//!
//! Sources: FreeBSD 14.2 (b66633d79ade) sys/sys/proc.h, sys/sys/ucred.h,
//! sys/sys/jail.h, sys/sys/priv.h, sys/sys/systm.h, sys/amd64/include/pcpu.h,
//! sys/amd64/include/pcpu_aux.h, sys/sys/pcpu.h.  Offsets were obtained by
//! compiling those headers with clang (`--target=x86_64-unknown-freebsd14.2
//! -D_KERNEL -DKLD_MODULE`) and amd64 GENERIC's `opt_global.h` options
//! (VIMAGE, SMP, NUMA, MAC, AUDIT, KDTRACE_HOOKS, RACCT, COMPAT_FREEBSD*,
//! ...).  No `#ifdef` precedes these fields in the structs: the only
//! conditional member of `struct thread` (`td_epochs`, `EPOCH_TRACE`) is
//! its last, so the offsets do not depend on kernel options.
//!
//! # curthread on amd64
//! `curthread` is `__curthread()` (pcpu_aux.h): `movq %gs:0, %reg`, i.e. the
//! `pc_curthread` member of `struct pcpu`, which is at offset 0
//! ([`PC_CURTHREAD_OFFSET`]).  The kernel keeps `%gs` pointing at the
//! current CPU's `struct pcpu` whenever kernel code runs.
//!
//! # curvnet
//! `curvnet` is `curthread->td_vnet` ([`TD_VNET_OFFSET`]); `CURVNET_SET(v)`
//! saves it and stores `v`, `CURVNET_RESTORE()` stores the saved value back
//! (sys/net/vnet.h, non-`VNET_DEBUG` form: no other field is touched).

use core::ffi::{c_int, c_void};
use core::marker::{PhantomData, PhantomPinned};

use crate::net::sockaddr;

/// `struct thread`: opaque; see the `TD_*_OFFSET` constants.
#[repr(C)]
pub struct thread {
    _opaque: [u8; 0],
    _pin: PhantomData<(*mut u8, PhantomPinned)>,
}

/// `struct proc`: opaque; see [`P_FIBNUM_OFFSET`].
#[repr(C)]
pub struct proc {
    _opaque: [u8; 0],
    _pin: PhantomData<(*mut u8, PhantomPinned)>,
}

/// `struct ucred`: opaque (passed to `prison_if`).
#[repr(C)]
pub struct ucred {
    _opaque: [u8; 0],
    _pin: PhantomData<(*mut u8, PhantomPinned)>,
}

/// `struct prison`: opaque.
#[repr(C)]
pub struct prison {
    _opaque: [u8; 0],
    _pin: PhantomData<(*mut u8, PhantomPinned)>,
}

/// `offsetof(struct pcpu, pc_curthread)` = 0: `curthread` = `%gs:0`.
pub const PC_CURTHREAD_OFFSET: usize = 0;
/// `sizeof(struct pcpu)` on amd64 (= `UMA_PCPU_ALLOC_SIZE`, PAGE_SIZE).
pub const SIZEOF_PCPU: usize = 4096;

/// `offsetof(struct thread, td_proc)` (`struct proc *`).
pub const TD_PROC_OFFSET: usize = 8;
/// `offsetof(struct thread, td_ucred)` (`struct ucred *`).
pub const TD_UCRED_OFFSET: usize = 384;
/// `offsetof(struct thread, td_vnet)` (`struct vnet *`, = `curvnet`).
pub const TD_VNET_OFFSET: usize = 1680;
/// `offsetof(struct thread, td_vnet_lpush)` (`const char *`, only used by
/// `VNET_DEBUG` kernels; not touched otherwise).
pub const TD_VNET_LPUSH_OFFSET: usize = 1688;
/// `sizeof(struct thread)` in GENERIC (without `EPOCH_TRACE`).
pub const SIZEOF_THREAD: usize = 1776;

/// `offsetof(struct proc, p_fibnum)` (`int`: the process' default FIB).
/// C if_ipsec's clone create initialises the tunnel FIB from
/// `curthread->td_proc->p_fibnum` (sys/net/if_ipsec.c:194).
pub const P_FIBNUM_OFFSET: usize = 1044;
/// `sizeof(struct proc)` in GENERIC.
pub const SIZEOF_PROC: usize = 1376;

/// `offsetof(struct ucred, cr_prison)` (`struct prison *`).
pub const CR_PRISON_OFFSET: usize = 136;
/// `offsetof(struct prison, pr_vnet)` (`struct vnet *`): `TD_TO_VNET(td)`
/// = `td->td_ucred->cr_prison->pr_vnet` (sys/net/vnet.h).
pub const PR_VNET_OFFSET: usize = 176;

/// `PRIV_NET_SETIFCAP` (sys/sys/priv.h): set interface capabilities; C
/// if_ipsec checks it for `IPSECSREQID`.
pub const PRIV_NET_SETIFCAP: c_int = 400;
/// `PRIV_NET_SETIFFIB` (sys/sys/priv.h): set interface fib; C if_ipsec
/// checks it for `SIOCSTUNFIB`.
pub const PRIV_NET_SETIFFIB: c_int = 419;

extern "C" {
    /// `int priv_check(struct thread *td, int priv)`: 0 if granted, else
    /// `EPERM`.  sys/kern/kern_priv.c; kernel.
    pub fn priv_check(td: *mut thread, privilege: c_int) -> c_int;

    /// `int copyin(const void *udaddr, void *kaddr, size_t len)`: 0 or
    /// `EFAULT`.  sys/sys/systm.h; defined in sys/amd64/amd64/copyout.c as
    /// an IFUNC (`DEFINE_IFUNC`, resolved to the SMAP/ERMS variant); the
    /// kernel linker calls the resolver when binding a module's reference
    /// (sys/kern/link_elf.c `link_elf_symbol_values1`).  May fault/sleep:
    /// never call inside an epoch section or with a mutex held.
    pub fn copyin(udaddr: *const c_void, kaddr: *mut c_void, len: usize) -> c_int;

    /// `int copyout(const void *kaddr, void *udaddr, size_t len)`: 0 or
    /// `EFAULT`.  IFUNC like `copyin`; kernel.
    pub fn copyout(kaddr: *const c_void, udaddr: *mut c_void, len: usize) -> c_int;

    /// `int prison_if(struct ucred *cred, const struct sockaddr *sa)`: 0 if
    /// the jail of `cred` may see address `sa` (or does not restrict the
    /// family), else `EADDRNOTAVAIL`/`EAFNOSUPPORT`.  C if_ipsec passes
    /// `curthread->td_ucred`.  sys/kern/kern_jail.c; kernel.
    pub fn prison_if(cred: *mut ucred, sa: *const sockaddr) -> c_int;
}
