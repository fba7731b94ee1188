//! SYSINIT / SYSUNINIT records (FreeBSD 14.2 sys/sys/kernel.h,
//! b66633d79ade).
//!
//! When the module is loaded, sys/kern/kern_linker.c sorts the records of
//! `set_sysinit_set` by (subsystem, order) and calls `func(udata)` for each;
//! on unload it does the same with `set_sysuninit_set` in reverse order.
//!
//! Add a record with [`sysinit!`](crate::sysinit) /
//! [`sysuninit!`](crate::sysuninit):
//!
//! ```ignore
//! sysinit!(SI_SUB_PROTO_IFATTACHDOMAIN, SI_ORDER_ANY, my_init, core::ptr::null_mut());
//! ```
//!
//! `VNET_SYSINIT(ident, sub, order, func, arg)` (sys/net/vnet.h) is a
//! `SYSINIT(.., sub, order, vnet_register_sysinit, &vnet_sysinit_record)`
//! plus a `SYSUNINIT(.., sub, order, vnet_deregister_sysinit, &same)`: build
//! it from these macros with a static `struct vnet_sysinit`.

use core::cell::UnsafeCell;
use core::ffi::c_void;
use sys_bindings::kern::sysinit::{
    sysinit, sysinit_cfunc_t, sysinit_nfunc_t, sysinit_stailq_entry,
};

use super::linker_set::WritableSetEntry;

/// A `struct sysinit` in writable memory (the kernel links records through
/// `next`).
#[repr(transparent)]
pub struct SysInit(UnsafeCell<sysinit>);

// SAFETY: after construction only the kernel touches the record: it writes
// `next` while holding its sysinit list lock (kern_linker.c, under
// `kld_sx`), and Rust code never reads or writes any field.
unsafe impl Sync for SysInit {}

impl SysInit {
    /// `SYSINIT(uniq, subsystem, order, func, ident)`: `func` takes
    /// `void *`, cast to `sysinit_cfunc_t` as the C macro does.
    pub const fn new(
        subsystem: u32,
        order: u32,
        func: sysinit_nfunc_t,
        udata: *mut c_void,
    ) -> Self {
        // SAFETY: `void (*)(void *)` and `void (*)(const void *)` have the
        // same ABI (one pointer argument in %rdi, no result); sys/sys/kernel.h
        // SYSINIT performs exactly this cast.
        let func: sysinit_cfunc_t =
            unsafe { core::mem::transmute::<sysinit_nfunc_t, sysinit_cfunc_t>(func) };
        Self::new_const(subsystem, order, func, udata.cast_const())
    }

    /// `C_SYSINIT(uniq, subsystem, order, func, ident)`: `func` takes
    /// `const void *`.
    pub const fn new_const(
        subsystem: u32,
        order: u32,
        func: sysinit_cfunc_t,
        udata: *const c_void,
    ) -> Self {
        Self(UnsafeCell::new(sysinit {
            subsystem,
            order,
            next: sysinit_stailq_entry {
                stqe_next: core::ptr::null_mut(),
            },
            func: Some(func),
            udata,
        }))
    }

    /// The (writable) linker-set slot pointing at this record.
    pub const fn set_entry(record: &'static SysInit) -> WritableSetEntry {
        WritableSetEntry::new(record)
    }
}

/// Declares a SYSINIT record and its `set_sysinit_set` slot.
/// Arguments: subsystem, order, `func` (`unsafe extern "C" fn(*mut c_void)`
/// or a safe `extern "C" fn` of that signature), udata (`*mut c_void`).
#[macro_export]
macro_rules! sysinit {
    ($sub:expr, $order:expr, $func:expr, $udata:expr $(,)?) => {
        $crate::sysinit_record!(sysinit_set, $sub, $order, $func, $udata);
    };
}

/// Declares a SYSUNINIT record and its `set_sysuninit_set` slot; same
/// arguments as [`sysinit!`](crate::sysinit).
#[macro_export]
macro_rules! sysuninit {
    ($sub:expr, $order:expr, $func:expr, $udata:expr $(,)?) => {
        $crate::sysinit_record!(sysuninit_set, $sub, $order, $func, $udata);
    };
}

/// What SYSINIT and SYSUNINIT share (sys/sys/kernel.h C_SYSINIT): a
/// `struct sysinit` and its slot in the linker set `$set`.
#[doc(hidden)]
#[macro_export]
macro_rules! sysinit_record {
    ($set:ident, $sub:expr, $order:expr, $func:expr, $udata:expr) => {
        const _: () = {
            #[cfg_attr(not(target_os = "none"), allow(dead_code))]
            static RECORD: $crate::kpi::sysinit::SysInit =
                $crate::kpi::sysinit::SysInit::new($sub, $order, $func, $udata);
            $crate::linker_set_entry!($set, RECORD);
        };
    };
}
