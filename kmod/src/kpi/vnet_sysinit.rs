//! VNET_SYSINIT / VNET_SYSUNINIT records (FreeBSD 14.2 sys/net/vnet.h,
//! sys/net/vnet.c, b66633d79ade; layout facts in sys_bindings::vnet).
//!
//! `VNET_SYSINIT(ident, sub, order, func, arg)` is a static `struct
//! vnet_sysinit` plus SYSINIT(vnet_register_sysinit, &it) and
//! SYSUNINIT(vnet_deregister_sysinit, &it); vnet_register_sysinit sorts it
//! into the constructor list after entries with equal keys and runs it in
//! every existing vnet, and every vnet created later runs it too.
//! VNET_SYSUNINIT likewise with vnet_register_sysuninit /
//! vnet_deregister_sysuninit (which runs the destructor in every vnet).
use core::cell::UnsafeCell;
use core::ffi::c_void;
use sys_bindings::kern::sysinit::{sysinit_cfunc_t, sysinit_nfunc_t};
use sys_bindings::vnet::{vnet_sysinit, vnet_sysinit_tailq_entry};

/// A `struct vnet_sysinit` in static, writable memory (the kernel links it
/// into its TAILQ while registered).
#[repr(transparent)]
pub struct VnetSysinit(UnsafeCell<vnet_sysinit>);

// SAFETY: after construction only the kernel touches the record (under
// its vnet_sysinit_sxlock); Rust only passes its address.
unsafe impl Sync for VnetSysinit {}

impl VnetSysinit {
    /// A record calling `func(NULL)` at (`sub`, `order`).
    pub const fn new(sub: u32, order: u32, func: sysinit_cfunc_t) -> Self {
        Self(UnsafeCell::new(vnet_sysinit {
            subsystem: sub,
            order,
            func: Some(func),
            arg: core::ptr::null(),
            link: vnet_sysinit_tailq_entry {
                tqe_next: core::ptr::null_mut(),
                tqe_prev: core::ptr::null_mut(),
            },
        }))
    }

    /// The address to pass as the SYSINIT's udata.
    pub const fn as_udata(&'static self) -> *mut c_void {
        self.0.get().cast()
    }
}

/// vnet_register_sysinit (the SYSINIT function of VNET_SYSINIT).
pub const REGISTER_SYSINIT: sysinit_nfunc_t = sys_bindings::vnet::vnet_register_sysinit;
/// vnet_deregister_sysinit (its SYSUNINIT).
pub const DEREGISTER_SYSINIT: sysinit_nfunc_t = sys_bindings::vnet::vnet_deregister_sysinit;
/// vnet_register_sysuninit (the SYSINIT of VNET_SYSUNINIT).
pub const REGISTER_SYSUNINIT: sysinit_nfunc_t = sys_bindings::vnet::vnet_register_sysuninit;
/// vnet_deregister_sysuninit (its SYSUNINIT; runs the destructor in every
/// vnet).
pub const DEREGISTER_SYSUNINIT: sysinit_nfunc_t = sys_bindings::vnet::vnet_deregister_sysuninit;

/// `VNET_SYSINIT(name, sub, order, func, NULL)`; `func`:
/// `unsafe extern "C" fn(*const c_void)` (a safe `extern "C" fn` coerces).
#[macro_export]
macro_rules! vnet_sysinit {
    ($name:ident, $sub:expr, $order:expr, $func:expr) => {
        $crate::vnet_sysinit_pair!(
            $name,
            $sub,
            $order,
            $func,
            REGISTER_SYSINIT,
            DEREGISTER_SYSINIT
        );
    };
}

/// `VNET_SYSUNINIT(name, sub, order, func, NULL)`.
#[macro_export]
macro_rules! vnet_sysuninit {
    ($name:ident, $sub:expr, $order:expr, $func:expr) => {
        $crate::vnet_sysinit_pair!(
            $name,
            $sub,
            $order,
            $func,
            REGISTER_SYSUNINIT,
            DEREGISTER_SYSUNINIT
        );
    };
}

/// What VNET_SYSINIT and VNET_SYSUNINIT share (sys/net/vnet.h): a
/// `struct vnet_sysinit` plus a SYSINIT registering it and a SYSUNINIT
/// deregistering it; they differ only in the register/deregister pair.
#[doc(hidden)]
#[macro_export]
macro_rules! vnet_sysinit_pair {
    ($name:ident, $sub:expr, $order:expr, $func:expr, $reg:ident, $dereg:ident) => {
        /// The `struct vnet_sysinit` of a VNET_SYSINIT or VNET_SYSUNINIT.
        pub static $name: $crate::kpi::vnet_sysinit::VnetSysinit =
            $crate::kpi::vnet_sysinit::VnetSysinit::new($sub, $order, $func);
        $crate::sysinit!(
            $sub,
            $order,
            $crate::kpi::vnet_sysinit::$reg,
            $name.as_udata()
        );
        $crate::sysuninit!(
            $sub,
            $order,
            $crate::kpi::vnet_sysinit::$dereg,
            $name.as_udata()
        );
    };
}

/// What the kernel's SYSINIT processing does with a VNET_SYSINIT record
/// (for the host, which has no kernel linker): register and run it in
/// every vnet.
pub fn run_register_sysinit(r: &'static VnetSysinit) {
    // SAFETY: a static record, registered once per load.
    unsafe { sys_bindings::vnet::vnet_register_sysinit(r.as_udata()) }
}
/// SYSINIT of a VNET_SYSUNINIT record (host).
pub fn run_register_sysuninit(r: &'static VnetSysinit) {
    // SAFETY: as run_register_sysinit.
    unsafe { sys_bindings::vnet::vnet_register_sysuninit(r.as_udata()) }
}
/// SYSUNINIT of a VNET_SYSUNINIT record (host): destructor in every vnet.
pub fn run_deregister_sysuninit(r: &'static VnetSysinit) {
    // SAFETY: a record registered by run_register_sysuninit.
    unsafe { sys_bindings::vnet::vnet_deregister_sysuninit(r.as_udata()) }
}
/// SYSUNINIT of a VNET_SYSINIT record (host).
pub fn run_deregister_sysinit(r: &'static VnetSysinit) {
    // SAFETY: a record registered by run_register_sysinit.
    unsafe { sys_bindings::vnet::vnet_deregister_sysinit(r.as_udata()) }
}
