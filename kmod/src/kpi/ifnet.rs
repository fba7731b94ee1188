//! Network interfaces through the IfAPI accessors (never struct ifnet
//! fields): a borrowed view [`Ifnet`] for any interface and an owner
//! [`IfnetOwner`] for the interfaces this module creates (ifnet + softc),
//! which installs the [`super::if_handler`] trampolines.
//!
//! Lifetimes (FreeBSD 14.2 sys/net/if.c, b66633d79ade): if_free(9) defers
//! the actual free through NET_EPOCH_CALL and reference counts, so an ifnet
//! stays readable inside an epoch section and while ioctl(2) holds its
//! reference.  The softc is ours: it is published with if_setsoftc, cleared
//! under the configuration lock at destroy, and freed after an epoch wait,
//! as C's ipsec_clone_destroy does.
use super::epoch::{epoch_wait, Sleepable};
use super::if_handler::{ioctl_tramp, output_tramp, qflush_tramp, transmit_tramp};
use super::if_handler::{IfHandler, OurIfnet};
use super::sx::ConfigGuard;
use alloc::boxed::Box;
use bitflags::bitflags;
use core::ffi::{c_int, CStr};
use sys_bindings::ifnet as k;
use sys_bindings::ifnet::{if_t, ifnet};

bitflags! {
    /// `if_flags` (sys/net/if.h IFF_*).
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub struct IfFlags: c_int {
        const UP = k::IFF_UP;
        const BROADCAST = k::IFF_BROADCAST;
        const DEBUG = k::IFF_DEBUG;
        const LOOPBACK = k::IFF_LOOPBACK;
        const POINTOPOINT = k::IFF_POINTOPOINT;
        const NOARP = k::IFF_NOARP;
        const PROMISC = k::IFF_PROMISC;
        const ALLMULTI = k::IFF_ALLMULTI;
        const SIMPLEX = k::IFF_SIMPLEX;
        const LINK0 = k::IFF_LINK0;
        const LINK1 = k::IFF_LINK1;
        const LINK2 = k::IFF_LINK2;
        const MULTICAST = k::IFF_MULTICAST;
        const MONITOR = k::IFF_MONITOR;
        const DYING = k::IFF_DYING;
        const _ = !0;
    }

    /// `if_drv_flags` (IFF_DRV_*).
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub struct DrvFlags: c_int {
        const RUNNING = k::IFF_DRV_RUNNING;
        const OACTIVE = k::IFF_DRV_OACTIVE;
        const _ = !0;
    }
}

/// Interface counters (`ift_counter`, sys/net/if.h).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(i32)]
pub enum Counter {
    IPackets = k::IFCOUNTER_IPACKETS,
    IErrors = k::IFCOUNTER_IERRORS,
    OPackets = k::IFCOUNTER_OPACKETS,
    OErrors = k::IFCOUNTER_OERRORS,
    IBytes = k::IFCOUNTER_IBYTES,
    OBytes = k::IFCOUNTER_OBYTES,
    IQDrops = k::IFCOUNTER_IQDROPS,
    OQDrops = k::IFCOUNTER_OQDROPS,
    NoProto = k::IFCOUNTER_NOPROTO,
}

/// Any network interface, borrowed (`&Ifnet` is an `if_t`).
#[repr(transparent)]
pub struct Ifnet(ifnet);

impl Ifnet {
    /// View a kernel `if_t`.
    ///
    /// # Safety
    /// `p` must be a valid ifnet for `'a` (inside an epoch section, or
    /// referenced, or created by us and not yet freed).
    pub unsafe fn from_ptr<'a>(p: if_t) -> &'a Ifnet {
        // SAFETY: repr(transparent) over the opaque ifnet; caller: valid.
        unsafe { &*(p as *const Ifnet) }
    }

    /// The `if_t`.
    pub fn as_ptr(&self) -> if_t {
        core::ptr::from_ref(self).cast_mut().cast()
    }

    /// if_getflags.
    pub fn flags(&self) -> IfFlags {
        // SAFETY: valid ifnet (type invariant); an accessor.
        IfFlags::from_bits_retain(unsafe { k::if_getflags(self.as_ptr()) })
    }

    /// if_setflagbits(set, clear).
    pub fn set_flag_bits(&self, set: IfFlags, clear: IfFlags) {
        // SAFETY: valid ifnet; an accessor.
        unsafe { k::if_setflagbits(self.as_ptr(), set.bits(), clear.bits()) };
    }

    /// if_getdrvflags.
    pub fn drv_flags(&self) -> DrvFlags {
        // SAFETY: valid ifnet; an accessor.
        DrvFlags::from_bits_retain(unsafe { k::if_getdrvflags(self.as_ptr()) })
    }

    /// if_setdrvflagbits(set, clear).
    pub fn set_drv_flag_bits(&self, set: DrvFlags, clear: DrvFlags) {
        // SAFETY: valid ifnet; an accessor.
        unsafe { k::if_setdrvflagbits(self.as_ptr(), set.bits(), clear.bits()) };
    }

    /// IFF_DRV_RUNNING on or off.
    pub fn set_running(&self, on: bool) {
        if on {
            self.set_drv_flag_bits(DrvFlags::RUNNING, DrvFlags::empty());
        } else {
            self.set_drv_flag_bits(DrvFlags::empty(), DrvFlags::RUNNING);
        }
    }

    /// if_link_state_change: RTM_IFINFO, devd LINK_UP/DOWN (from a task;
    /// a no-op when unchanged).  No lock or epoch needed (if.c).
    pub fn link_state_change(&self, state: c_int) {
        // SAFETY: valid ifnet; if_detach drains the link task.
        unsafe { k::if_link_state_change(self.as_ptr(), state) };
    }

    /// if_getmtu.
    pub fn mtu(&self) -> u32 {
        // SAFETY: valid ifnet; an accessor.
        u32::try_from(unsafe { k::if_getmtu(self.as_ptr()) }).unwrap_or(0)
    }

    /// if_setmtu.
    pub fn set_mtu(&self, mtu: u32) {
        let mtu = c_int::try_from(mtu).unwrap_or(c_int::MAX);
        // SAFETY: valid ifnet; an accessor.
        unsafe { k::if_setmtu(self.as_ptr(), mtu) };
    }

    /// if_getindex (what `setkey -DP` shows as the policy priority).
    pub fn index(&self) -> u32 {
        // SAFETY: valid ifnet; an accessor.
        u32::try_from(unsafe { k::if_getindex(self.as_ptr()) }).unwrap_or(0)
    }

    /// if_getfib.
    pub fn fib(&self) -> u32 {
        // SAFETY: valid ifnet; an accessor.
        unsafe { k::if_getfib(self.as_ptr()) }
    }

    /// if_getdunit.
    pub fn dunit(&self) -> i32 {
        // SAFETY: valid ifnet; an accessor.
        unsafe { k::if_getdunit(self.as_ptr()) }
    }

    /// if_name: `if_xname` ("ipsec0").
    pub fn name(&self) -> &CStr {
        // SAFETY: valid ifnet; if_xname is a NUL-terminated array inside
        // the ifnet, living as long as it.
        unsafe { CStr::from_ptr(k::if_name(self.as_ptr())) }
    }

    /// if_getdname: the driver (cloner) name.
    pub fn dname(&self) -> &CStr {
        // SAFETY: valid ifnet; if_dname points at the cloner's name, which
        // outlives its interfaces.
        unsafe { CStr::from_ptr(k::if_getdname(self.as_ptr())) }
    }

    /// if_getvnet: the vnet the interface lives in (for CURVNET_SET).
    pub fn vnet(&self) -> Option<super::vnet::VnetHandle> {
        // SAFETY: valid ifnet; an accessor.
        super::vnet::VnetHandle::from_addr(unsafe { k::if_getvnet(self.as_ptr()) } as usize)
    }

    /// if_inc_counter (lock-free, per CPU).
    pub fn inc_counter(&self, c: Counter, n: u64) {
        let n = i64::try_from(n).unwrap_or(i64::MAX);
        // SAFETY: valid ifnet; counter_u64_add is safe anywhere.
        unsafe { k::if_inc_counter(self.as_ptr(), c as k::ift_counter, n) };
    }
}

/// An interface we created: owns the ifnet and its softc.
pub struct IfnetOwner<S: Send + Sync + 'static> {
    ifp: if_t,
    softc: *mut S,
    attached: bool,
}

// SAFETY: ownership of an ifnet and a Send + Sync softc may move between
// threads (create and destroy run on different ones).
unsafe impl<S: Send + Sync + 'static> Send for IfnetOwner<S> {}

impl<S: Send + Sync + 'static> core::ops::Deref for IfnetOwner<S> {
    type Target = Ifnet;
    fn deref(&self) -> &Ifnet {
        // SAFETY: we own a valid ifnet until destroy/drop.
        unsafe { Ifnet::from_ptr(self.ifp) }
    }
}

impl<S: Send + Sync + 'static> IfnetOwner<S> {
    /// if_alloc(type), if_initname(dname, unit), the handler's callbacks
    /// and if_setsoftc(softc).  Not attached yet.  if_alloc is M_WAITOK
    /// (never fails in 14.2), hence the token.
    pub fn new<H: IfHandler<Softc = S>>(
        _: &mut Sleepable,
        ty: u8,
        dname: &'static CStr,
        unit: i32,
        softc: Box<S>,
    ) -> Result<Self, c_int> {
        // SAFETY: if_alloc(9) returns a fresh ifnet (M_WAITOK).
        let ifp = unsafe { k::if_alloc(ty) };
        if ifp.is_null() {
            return Err(sys_bindings::errno::ENOMEM);
        }
        let softc = Box::into_raw(softc);
        // SAFETY: fresh, unattached ifnet we own; dname is 'static (the
        // kernel keeps the pointer as if_dname); trampolines match S.
        unsafe {
            k::if_initname(ifp, dname.as_ptr(), unit);
            k::if_setioctlfn(ifp, Some(ioctl_tramp::<H>));
            k::if_settransmitfn(ifp, Some(transmit_tramp::<H>));
            k::if_setoutputfn(ifp, Some(output_tramp::<H>));
            k::if_setqflushfn(ifp, Some(qflush_tramp));
            k::if_setsoftc(ifp, softc.cast());
        }
        Ok(Self {
            ifp,
            softc,
            attached: false,
        })
    }

    /// The softc (we own it).
    pub fn softc(&self) -> &S {
        // SAFETY: owned, valid until destroy.
        unsafe { &*self.softc }
    }

    /// As the trampolines see it.
    pub fn ours(&self) -> OurIfnet<'_, S> {
        OurIfnet::new(self)
    }

    /// if_attach(9): visible to the system from now on.  Sleeps.
    pub fn attach(&mut self, _: &mut Sleepable) {
        if self.attached {
            return;
        }
        // SAFETY: owned, initialised ifnet, attached once.
        unsafe { k::if_attach(self.ifp) };
        self.attached = true;
    }

    /// Hand ownership to the kernel (the cloner keeps the ifnet in its
    /// list); get it back with [`IfnetOwner::from_raw`] in destroy.
    pub fn into_raw(self) -> if_t {
        let p = self.ifp;
        core::mem::forget(self);
        p
    }

    /// Take back an interface created by [`IfnetOwner::new`] with softc `S`.
    ///
    /// # Safety
    /// `ifp` must come from `into_raw` of an `IfnetOwner<S>` and be taken
    /// back once (the cloner calls destroy once per interface).
    pub unsafe fn from_raw(ifp: if_t) -> Option<Self> {
        // SAFETY: caller: ours, valid.
        let softc = unsafe { k::if_getsoftc(ifp) }.cast::<S>();
        // `then`, not `then_some`: an eagerly built owner would be dropped
        // (detaching and freeing the ifnet) when the softc is NULL.
        (!softc.is_null()).then(|| Self {
            ifp,
            softc,
            attached: true,
        })
    }

    /// Destroy, in C's ipsec_clone_destroy order but for the lock: clear
    /// the softc under the configuration lock (ioctls, if_reassign and
    /// output see NULL from now on), unlock, then bpfdetach and if_detach
    /// (bpfdetach of an interface without bpf is a no-op), wait for the
    /// epoch, if_free, give the softc back.
    ///
    /// if_detach takes `ifnet_detach_sxlock` (sys/net/if.c), which the
    /// kernel holds while it calls into us (if_vmove_loan -> if_reassign,
    /// vnet_destroy -> VNET_SYSUNINIT), and those take the configuration
    /// lock: detaching with it held is a lock-order reversal (C's
    /// ipsec_clone_destroy has it; issue 8), hence the unlock first.
    pub fn destroy(self, g: ConfigGuard<'static>, s: &mut Sleepable) -> Box<S> {
        let (ifp, softc, attached) = (self.ifp, self.softc, self.attached);
        core::mem::forget(self);
        // SAFETY: we own the ifnet; readers see the softc until the epoch
        // wait below.
        unsafe { k::if_setsoftc(ifp, core::ptr::null_mut()) };
        drop(g);
        // SAFETY: we own the ifnet; detach/free are called once, in the
        // kernel's order.
        unsafe {
            if attached {
                super::bpf::detach_raw(ifp);
                k::if_detach(ifp);
            }
        }
        epoch_wait(s);
        // SAFETY: detached and unpublished; if_free defers the memory.
        unsafe { k::if_free(ifp) };
        // SAFETY: from Box::into_raw in `new`; no reader can see it now.
        unsafe { Box::from_raw(softc) }
    }
}

impl<S: Send + Sync + 'static> Drop for IfnetOwner<S> {
    /// Error paths of create.  Never attached: free both.  Attached (a
    /// glue bug: use [`IfnetOwner::destroy`], which holds the lock and
    /// waits for readers): detach and free the ifnet, but leak the softc,
    /// since an ioctl or packet-path reader may still hold it; the KPI
    /// model reports the leak.
    fn drop(&mut self) {
        // SAFETY: we own both; an unattached ifnet's softc was never seen
        // by anyone else; an attached one is unpublished before if_free
        // and then deliberately not freed.
        unsafe {
            if self.attached {
                super::bpf::detach_raw(self.ifp);
                k::if_detach(self.ifp);
            }
            k::if_setsoftc(self.ifp, core::ptr::null_mut());
            k::if_free(self.ifp);
            if !self.attached {
                drop(Box::from_raw(self.softc));
            }
        }
    }
}
