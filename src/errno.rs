//! The error type of the core: a FreeBSD errno.
//!
//! Every fallible core function returns [`Result`]; the glue hands the
//! number to the kernel unchanged.  Values come from `sys_bindings::errno`
//! (FreeBSD 14.2 sys/sys/errno.h, b66633d79ade).

use sys_bindings::errno as e;

/// A FreeBSD errno value.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Errno(pub i32);

impl Errno {
    /// Operation not permitted.
    pub const EPERM: Errno = Errno(e::EPERM);
    /// Device not configured (destroyed interface, unknown zone).
    pub const ENXIO: Errno = Errno(e::ENXIO);
    /// Cannot allocate memory.
    pub const ENOMEM: Errno = Errno(e::ENOMEM);
    /// Bad address (copyin/copyout).
    pub const EFAULT: Errno = Errno(e::EFAULT);
    /// Already exists (unit, reqid).
    pub const EEXIST: Errno = Errno(e::EEXIST);
    /// Invalid argument.
    pub const EINVAL: Errno = Errno(e::EINVAL);
    /// Resource temporarily unavailable.
    pub const EAGAIN: Errno = Errno(e::EAGAIN);
    /// Address family not supported.
    pub const EAFNOSUPPORT: Errno = Errno(e::EAFNOSUPPORT);
    /// Can't assign requested address.
    pub const EADDRNOTAVAIL: Errno = Errno(e::EADDRNOTAVAIL);
    /// Network is down.
    pub const ENETDOWN: Errno = Errno(e::ENETDOWN);
    /// No buffer space available.
    pub const ENOBUFS: Errno = Errno(e::ENOBUFS);
    /// Numerical result out of range.
    pub const ERANGE: Errno = Errno(e::ERANGE);
    /// Not handled by this layer (kernel-internal).
    pub const ENOIOCTL: Errno = Errno(e::ENOIOCTL);

    /// The raw number.
    pub const fn get(self) -> i32 {
        self.0
    }
}

impl From<alloc::collections::TryReserveError> for Errno {
    /// Every failed allocation is ENOMEM.
    fn from(_: alloc::collections::TryReserveError) -> Self {
        Errno::ENOMEM
    }
}

/// Result with an [`Errno`] error.
pub type Result<T> = core::result::Result<T, Errno>;
