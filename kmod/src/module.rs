//! The module's identity, the Rust equivalent of
//!
//! ```c
//! static moduledata_t if_ipsec_mod = { "if_ipsec", if_ipsec_modevent, NULL };
//! DECLARE_MODULE(if_ipsec, if_ipsec_mod, SI_SUB_PROTO_IFATTACHDOMAIN, SI_ORDER_ANY);
//! MODULE_VERSION(if_ipsec, 1);
//! MODULE_DEPEND(if_ipsec, ipsec, 1, 1, 1);
//! MALLOC_DEFINE(M_IFIPSEC, "if_ipsec", "if_ipsec interfaces");
//! ```
//!
//! (FreeBSD 14.2 sys/sys/module.h, sys/sys/kernel.h, sys/sys/malloc.h;
//! b66633d79ade), plus the global allocator charging `M_IFIPSEC`.
//!
//! Kernel version range: `DECLARE_MODULE` depends on module "kernel" with
//! `{__FreeBSD_version, __FreeBSD_version, MODULE_KERNEL_MAXVER}`.  This
//! module uses prototypes and layouts that carry no KBI promise across a
//! stable branch (see `if_ipsec::kernel`), so the range is exactly the
//! kernels it was checked for: releng/14.2, 1402000..=1402499 (stable/14
//! after 14.2 starts at 1402500).  The kernel checks it in
//! sys/kern/kern_linker.c (`modlist_lookup2`) against
//! `MODULE_VERSION(kernel, __FreeBSD_version)` (sys/kern/kern_module.c);
//! MOD_LOAD checks `osreldate` itself too (`glue::vnet::kernel_check`),
//! with a console line that says why.

use core::ffi::c_int;
use sys_bindings::kern::module::FREEBSD_VERSION_14_2;
use sys_bindings::kern::sysinit::{SI_ORDER_ANY, SI_SUB_PROTO_IFATTACHDOMAIN};

use crate::kpi::module_meta::{
    ModDepend, ModMetadata, ModVersion, ModuleEvents, MODULE_REGISTER_INIT,
};
use crate::kpi::sysinit::SysInit;
use crate::{declare_moduledata, kprintln, linker_set_entry, malloc_define};

/// Module name (`modfind("if_ipsec")`, `kldstat -v`).
pub const MODULE_NAME: &core::ffi::CStr = c"if_ipsec";
/// `MODULE_VERSION(if_ipsec, 1)`.
pub const MODULE_VERSION: c_int = 1;

/// Kernel dependency: minimum (`if_ipsec::kernel::SUPPORTED`).
pub const KERNEL_MIN: c_int = 1_402_000;
/// Kernel dependency: preferred (the headers' `__FreeBSD_version`).
pub const KERNEL_PREFERRED: c_int = FREEBSD_VERSION_14_2;
/// Kernel dependency: maximum (`if_ipsec::kernel::SUPPORTED`).
pub const KERNEL_MAX: c_int = 1_402_499;

/// The module's event handling: print, then call the crate's hooks.
pub struct IfIpsecModule;

impl ModuleEvents for IfIpsecModule {
    fn load() -> Result<(), c_int> {
        crate::on_load()?;
        kprintln!("if_ipsec: loaded (Rust)");
        Ok(())
    }

    fn unload() -> Result<(), c_int> {
        crate::on_unload()?;
        kprintln!("if_ipsec: unloaded");
        Ok(())
    }

    fn quiesce() -> Result<(), c_int> {
        crate::on_quiesce()
    }

    fn shutdown() {
        crate::on_shutdown();
    }
}

declare_moduledata!(
    /// `moduledata_t if_ipsec_mod`; its symbol is the link's root.
    pub MODULE_DATA,
    symbol = "if_ipsec_mod",
    name = MODULE_NAME,
    events = IfIpsecModule,
);

// DECLARE_MODULE(if_ipsec, if_ipsec_mod, SI_SUB_PROTO_IFATTACHDOMAIN,
// SI_ORDER_ANY): runs after ipsec.ko's own SI_SUB_PROTO_DOMAIN module.
/// `MODULE_DEPEND(if_ipsec, kernel, ...)` range.
pub static KERNEL_DEPEND: ModDepend = ModDepend::new(KERNEL_MIN, KERNEL_PREFERRED, KERNEL_MAX);
/// Its metadata entry.
pub static MD_KERNEL_DEPEND: ModMetadata = ModMetadata::depend(c"kernel", &KERNEL_DEPEND);
linker_set_entry!(modmetadata_set, MD_KERNEL_DEPEND);
/// The `MDT_MODULE` entry.
pub static MD_MODULE: ModMetadata = ModMetadata::module(MODULE_NAME, &MODULE_DATA);
linker_set_entry!(modmetadata_set, MD_MODULE);
/// `SYSINIT(if_ipsecmodule, ..., module_register_init, &if_ipsec_mod)`.
pub static MODULE_SYSINIT: SysInit = SysInit::new_const(
    SI_SUB_PROTO_IFATTACHDOMAIN,
    SI_ORDER_ANY,
    MODULE_REGISTER_INIT,
    core::ptr::addr_of!(MODULE_DATA).cast(),
);
linker_set_entry!(sysinit_set, MODULE_SYSINIT);

/// `MODULE_VERSION(if_ipsec, 1)`.
pub static VERSION: ModVersion = ModVersion::new(MODULE_VERSION);
/// Its metadata entry.
pub static MD_VERSION: ModMetadata = ModMetadata::version(MODULE_NAME, &VERSION);
linker_set_entry!(modmetadata_set, MD_VERSION);

/// `MODULE_DEPEND(if_ipsec, ipsec, 1, 1, 1)`: the output path calls
/// ipsec.ko's functions (and resolves its symbols, see README).
pub static IPSEC_DEPEND: ModDepend = ModDepend::new(1, 1, 1);
/// Its metadata entry.
pub static MD_IPSEC_DEPEND: ModMetadata = ModMetadata::depend(c"ipsec", &IPSEC_DEPEND);
linker_set_entry!(modmetadata_set, MD_IPSEC_DEPEND);

malloc_define!(pub M_IFIPSEC, c"if_ipsec");

/// Rust's `alloc` in the kernel: malloc(9) with `M_IFIPSEC`, `M_NOWAIT`.
#[cfg(target_os = "none")]
#[global_allocator]
static ALLOCATOR: crate::kpi::malloc::KernelAllocator =
    crate::kpi::malloc::KernelAllocator::new(&M_IFIPSEC);

#[cfg(test)]
mod tests {
    //! Only records that do not reach the event handler: MODULE_DATA links
    //! `kprintln!` and so printf(9), which host unit tests of this crate
    //! do not provide (the KPI model does; tests/ko-check decodes the rest
    //! from the built .ko).
    use super::*;
    use sys_bindings::kern::module::{MDT_DEPEND, MDT_VERSION};

    /// DECLARE_MODULE's kernel range, narrowed to the checked kernels
    /// (issue 10) and equal to `if_ipsec::kernel::SUPPORTED`.
    #[test]
    fn kernel_range_is_the_checked_one() {
        assert_eq!(KERNEL_DEPEND.raw().md_ver_minimum, 1_402_000);
        assert_eq!(KERNEL_DEPEND.raw().md_ver_preferred, 1_402_000);
        assert_eq!(KERNEL_DEPEND.raw().md_ver_maximum, 1_402_499);
        let r: alloc::vec::Vec<_> = if_ipsec::kernel::SUPPORTED
            .iter()
            .map(|r| (r.min, r.max))
            .collect();
        assert_eq!(r, [(KERNEL_MIN, KERNEL_MAX)]);
    }

    /// mirrors MODULE_DEPEND / MODULE_VERSION metadata types
    #[test]
    fn metadata_types() {
        assert_eq!(MD_KERNEL_DEPEND.raw().md_type, MDT_DEPEND);
        assert_eq!(MD_IPSEC_DEPEND.raw().md_type, MDT_DEPEND);
        assert_eq!(MD_VERSION.raw().md_type, MDT_VERSION);
        assert_eq!(IPSEC_DEPEND.raw().md_ver_preferred, 1);
    }
}
