//! What the kernel calls on our interfaces: the [`IfHandler`] a driver
//! implements, the typed view [`OurIfnet`] (an ifnet whose softc is ours),
//! the if_ioctl argument [`IoctlData`], and the trampolines
//! [`super::ifnet::IfnetOwner::new`] installs as if_ioctl, if_transmit,
//! if_output and if_qflush (FreeBSD 14.2 sys/net/if_var.h IfAPI setters,
//! b66633d79ade).
use super::epoch::{net_epoch_nested, InEpoch, Sleepable};
use super::ifnet::Ifnet;
use super::mbuf::Mbuf;
use super::sx::ConfigGuard;
use super::thread::UserAddr;
use core::ffi::{c_char, c_int, c_ulong, c_void};
use core::marker::PhantomData;
use sys_bindings::ifnet as k;
use sys_bindings::ifnet::if_t;
use sys_bindings::mbuf::mbuf;

/// What the kernel calls on one of our interfaces.  `Softc` is the
/// per-interface state the handler gets back.
pub trait IfHandler: 'static {
    /// Per-interface state (published to packet-path readers).
    type Softc: Send + Sync + 'static;

    /// if_ioctl (sleepable context).  Ok = 0.
    fn ioctl(
        ifp: OurIfnet<'_, Self::Softc>,
        cmd: c_ulong,
        data: IoctlData,
        s: &mut Sleepable,
    ) -> Result<(), c_int>;

    /// if_transmit (and if_output), inside the net epoch.  The mbuf is
    /// ours: hand it on or drop it.
    fn transmit(ifp: OurIfnet<'_, Self::Softc>, m: Mbuf, e: &InEpoch) -> Result<(), c_int>;
}

/// One of our interfaces, as the trampolines see it: its softc is an
/// `S`.
pub struct OurIfnet<'a, S> {
    ifp: &'a Ifnet,
    _s: PhantomData<&'a S>,
}

impl<S> Clone for OurIfnet<'_, S> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<S> Copy for OurIfnet<'_, S> {}

impl<'a, S> core::ops::Deref for OurIfnet<'a, S> {
    type Target = Ifnet;
    fn deref(&self) -> &Ifnet {
        self.ifp
    }
}

impl<'a, S> OurIfnet<'a, S> {
    /// `ifp`, whose softc the caller knows to be an `S`.
    pub(super) fn new(ifp: &'a Ifnet) -> Self {
        Self {
            ifp,
            _s: PhantomData,
        }
    }
}

impl<'a, S: Send + Sync + 'static> OurIfnet<'a, S> {
    /// The softc, for a configuration-lock holder (None once destroyed).
    pub fn softc_locked<'g>(&self, _: &'g ConfigGuard<'_>) -> Option<&'g S> {
        self.softc_ptr().map(|p| {
            // SAFETY: the softc is cleared and freed only by
            // IfnetOwner::destroy, which needs the configuration lock
            // (consumed) before it clears, so it lives while `'g` does.
            unsafe { &*p }
        })
    }

    /// The softc, inside the epoch (None once destroyed).
    pub fn softc<'e>(&self, _: &'e InEpoch) -> Option<&'e S> {
        self.softc_ptr().map(|p| {
            // SAFETY: destroy frees the softc only after clearing it and an
            // epoch wait, so a section that read it non-NULL keeps it.
            unsafe { &*p }
        })
    }

    fn softc_ptr(&self) -> Option<*const S> {
        // SAFETY: valid ifnet; an accessor.
        let p = unsafe { k::if_getsoftc(self.ifp.as_ptr()) };
        (!p.is_null()).then_some(p.cast_const().cast::<S>())
    }
}

/// The `data` argument of if_ioctl: a kernel buffer of IOCPARM_LEN(cmd)
/// bytes (ioctl(2) copied it in, sys/kern/sys_generic.c kern_ioctl).
pub struct IoctlData {
    ptr: *mut c_char,
    len: usize,
}

/// IOCPARM_LEN(cmd) (sys/sys/ioccom.h): `(cmd >> 16) & IOCPARM_MASK`.
pub const fn iocparm_len(cmd: c_ulong) -> usize {
    ((cmd >> 16) & 0x1fff) as usize
}

impl IoctlData {
    /// The buffer (empty for a NULL data pointer).
    pub fn bytes(&self) -> &[u8] {
        if self.ptr.is_null() {
            return &[];
        }
        // SAFETY: the kernel passes a buffer of IOCPARM_LEN(cmd) bytes,
        // exclusively ours for the call.
        unsafe { core::slice::from_raw_parts(self.ptr.cast::<u8>(), self.len) }
    }

    /// The buffer, writable (results of SIOCG* go back through it).
    pub fn bytes_mut(&mut self) -> &mut [u8] {
        if self.ptr.is_null() {
            return &mut [];
        }
        // SAFETY: as `bytes`; `&mut self` makes the access exclusive.
        unsafe { core::slice::from_raw_parts_mut(self.ptr.cast::<u8>(), self.len) }
    }

    /// ifr_data_get_ptr(ifr): the user pointer in a `struct ifreq`.
    pub fn ifr_data(&self) -> UserAddr {
        if self.ptr.is_null() || self.len < 24 {
            return UserAddr(0);
        }
        // SAFETY: data is a struct ifreq (checked size >= 24).
        UserAddr(unsafe { k::ifr_data_get_ptr(self.ptr.cast::<c_void>()) } as usize)
    }
}

pub(super) unsafe extern "C" fn ioctl_tramp<H: IfHandler>(
    ifp: if_t,
    cmd: c_ulong,
    data: *mut c_char,
) -> c_int {
    let _in = super::inflight::enter();
    // SAFETY: the kernel calls if_ioctl with a referenced ifnet, in a
    // sleepable context, on interfaces we installed this on (softc = S).
    let ifp = unsafe { Ifnet::from_ptr(ifp) };
    let ifp = OurIfnet {
        ifp,
        _s: PhantomData,
    };
    let Some(mut s) = Sleepable::here() else {
        return sys_bindings::errno::EDEADLK;
    };
    let data = IoctlData {
        ptr: data,
        len: iocparm_len(cmd),
    };
    match H::ioctl(ifp, cmd, data, &mut s) {
        Ok(()) => 0,
        Err(e) => e,
    }
}

pub(super) unsafe extern "C" fn transmit_tramp<H: IfHandler>(ifp: if_t, m: *mut mbuf) -> c_int {
    // SAFETY: if_transmit is called with a valid ifnet and an owned chain,
    // on interfaces we installed this on (softc = S).
    let ifp = unsafe { Ifnet::from_ptr(ifp) };
    let ifp = OurIfnet {
        ifp,
        _s: PhantomData,
    };
    // SAFETY: the chain is handed to us.
    let Some(m) = (unsafe { Mbuf::from_raw(m) }) else {
        return sys_bindings::errno::EINVAL;
    };
    net_epoch_nested(|e| match H::transmit(ifp, m, e) {
        Ok(()) => 0,
        Err(err) => err,
    })
}

pub(super) unsafe extern "C" fn output_tramp<H: IfHandler>(
    ifp: if_t,
    m: *mut mbuf,
    _dst: *const sys_bindings::net::sockaddr,
    _ro: *mut k::route,
) -> c_int {
    // C's ipsec_output: `return (ifp->if_transmit(ifp, m));`.
    // SAFETY: same contract as if_transmit.
    unsafe { transmit_tramp::<H>(ifp, m) }
}

pub(super) unsafe extern "C" fn qflush_tramp(_ifp: if_t) {}
