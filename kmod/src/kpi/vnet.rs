//! VIMAGE: per-vnet variables and CURVNET_SET.
//!
//! FreeBSD 14.2 sys/net/vnet.h, sys/net/vnet.c, sys/kern/link_elf_obj.c
//! (b66633d79ade): a VNET_DEFINE'd variable lives in the `set_vnet` linker
//! set; the kernel linker gives a module's `set_vnet` space in the vnet
//! area and copies its initial bytes into every vnet (and every vnet
//! created later); the variable of the current vnet is at
//! `curvnet->vnet_data_base + &var`.  curvnet is `curthread->td_vnet`;
//! CURVNET_SET saves and sets it, CURVNET_RESTORE puts it back.
//! The host KPI model emulates the same with the test binary's `set_vnet`
//! section, so this file has no host/kernel difference.
use super::thread::{set_td_field, td_field};
use core::cell::UnsafeCell;
use core::marker::PhantomData;
use core::sync::atomic::{AtomicBool, AtomicPtr, AtomicU32, AtomicUsize};
use sys_bindings::thread::TD_VNET_OFFSET;
use sys_bindings::vnet::vnet;

/// Types whose initial bytes may be copied into each vnet as an
/// independent value, and whose per-vnet copies are released without
/// running Drop (the module empties them in its VNET_SYSUNINIT).
///
/// # Safety
/// A bitwise copy of the `const` initial value must be a valid, unshared
/// value of the type.
pub unsafe trait VnetPod: Sync {}
// SAFETY: atomics of plain values; a copy of the initial value is
// independent.
unsafe impl VnetPod for AtomicUsize {}
// SAFETY: as above.
unsafe impl VnetPod for AtomicU32 {}
// SAFETY: as above.
unsafe impl VnetPod for AtomicBool {}
// SAFETY: a copy of a null pointer owns nothing.
unsafe impl<T> VnetPod for AtomicPtr<T> {}

/// A vnet (struct vnet *) that is alive while the handle is used: taken
/// from curvnet or from an ifnet of ours (vnets outlive their ifnets).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct VnetHandle(usize);

impl VnetHandle {
    /// From an address returned by the kernel (if_getvnet, td_vnet).
    pub(crate) const fn from_addr(a: usize) -> Option<VnetHandle> {
        if a == 0 {
            None
        } else {
            Some(VnetHandle(a))
        }
    }

    /// For host tests: a vnet address the KPI model handed out (the
    /// handle is only an address; using it for CURVNET_SET requires the
    /// vnet to be alive, which the model's vnets are).
    #[cfg(not(target_os = "none"))]
    pub fn from_test(a: usize) -> VnetHandle {
        VnetHandle(a)
    }

    /// The address, for comparisons and as an opaque key.
    pub const fn addr(self) -> usize {
        self.0
    }
}

/// Proof that curvnet is set on this thread (and to which vnet).
pub struct CurVnet {
    v: VnetHandle,
    _not_send: PhantomData<*mut ()>,
}

impl CurVnet {
    /// curvnet, if set (VNET_SYSINIT functions, ioctls on sockets,
    /// packet paths, cloner callbacks all run with it set).
    pub fn current() -> Option<CurVnet> {
        VnetHandle::from_addr(td_field(TD_VNET_OFFSET)).map(|v| CurVnet {
            v,
            _not_send: PhantomData,
        })
    }

    /// Which vnet.
    pub fn vnet(&self) -> VnetHandle {
        self.v
    }
}

/// CURVNET_SET(v) around `f`, CURVNET_RESTORE after (also on unwind).
pub fn with_vnet<R>(v: VnetHandle, f: impl FnOnce(&CurVnet) -> R) -> R {
    struct Restore(usize);
    impl Drop for Restore {
        fn drop(&mut self) {
            // SAFETY: td_vnet is ours to restore (CURVNET_RESTORE).
            unsafe { set_td_field(TD_VNET_OFFSET, self.0) };
        }
    }
    let _r = Restore(td_field(TD_VNET_OFFSET));
    // SAFETY: CURVNET_SET: td_vnet is per-thread state the thread sets.
    unsafe { set_td_field(TD_VNET_OFFSET, v.0) };
    f(&CurVnet {
        v,
        _not_send: PhantomData,
    })
}

/// A VNET_DEFINE'd variable.  Declare with [`vnet_define!`](crate::vnet_define)
/// so it lands in `set_vnet`.
#[repr(transparent)]
pub struct VnetVar<T: VnetPod>(UnsafeCell<T>);

// SAFETY: each vnet's copy is only reached through `get`, which hands out
// shared references to a Sync type.
unsafe impl<T: VnetPod> Sync for VnetVar<T> {}

impl<T: VnetPod> VnetVar<T> {
    /// The master image (copied into every vnet).
    pub const fn new(init: T) -> Self {
        Self(UnsafeCell::new(init))
    }

    /// This vnet's copy: `vnet_data_base + &var` (_VNET_PTR).
    pub fn get<'v>(&'static self, cv: &'v CurVnet) -> &'v T {
        // SAFETY: cv proves curvnet is a live vnet; its vnet_data_base
        // plus the (relocated) address of a set_vnet variable is that
        // vnet's copy, initialised from the master image (VnetPod), alive
        // as long as the vnet.
        unsafe {
            let base = (*(cv.v.0 as *const vnet)).vnet_data_base;
            &*(base.wrapping_add(self.0.get() as usize) as *const T)
        }
    }
}

/// Read a kernel VNET variable (e.g. `vnet_entry__rt_numfibs`) of the
/// current vnet.
///
/// # Safety
/// `var` must be the address of a `set_vnet` variable of type `T`.
pub(crate) unsafe fn kernel_var<T: Copy>(var: *const T, cv: &CurVnet) -> T {
    // SAFETY: as VnetVar::get; caller vouches for the variable.
    unsafe {
        let base = (*(cv.v.0 as *const vnet)).vnet_data_base;
        *(base.wrapping_add(var as usize) as *const T)
    }
}

/// V_rt_numfibs: number of FIBs of the current vnet (net.fibs).
pub fn rt_numfibs(cv: &CurVnet) -> u32 {
    // SAFETY: vnet_entry__rt_numfibs is the kernel's VNET u_int (route_tables.c).
    unsafe { kernel_var(&raw const sys_bindings::netinet::vnet_entry__rt_numfibs, cv) }
}

/// `VNET_DEFINE(T, NAME) = INIT`: a per-vnet variable in `set_vnet`.
#[macro_export]
macro_rules! vnet_define {
    ($(#[$m:meta])* $vis:vis static $name:ident: $t:ty = $init:expr;) => {
        $(#[$m])*
        // link_section is an unsafe attribute; the kpi layer vouches for
        // this one (set_vnet only holds VnetPod values).
        #[allow(unsafe_code)]
        #[used]
        #[link_section = "set_vnet"]
        $vis static $name: $crate::kpi::vnet::VnetVar<$t> = $crate::kpi::vnet::VnetVar::new($init);
    };
}
