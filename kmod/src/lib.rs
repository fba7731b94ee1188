//! The FreeBSD kernel glue of if_ipsec.
//!
//! Layout:
//! - [`kpi`]: wrappers over the kernel's KPIs, the only place with `unsafe`.
//! - [`module`]: the module's identity: `DECLARE_MODULE`, `MODULE_VERSION`,
//!   `MODULE_DEPEND`, its malloc type and the Rust global allocator.
//! - The hooks below ([`on_load`], [`on_unload`], [`on_quiesce`],
//!   [`on_shutdown`]) are what the module event handler calls: the
//!   interface glue (cloner, ioctls, packet paths) plugs in there.
//!
//! Built two ways: as a staticlib for `x86_64-unknown-none` by the top
//! Makefile (then linked into `if_ipsec.ko`), and as an rlib on the host,
//! where tests link it against the KPI model.
#![no_std]
// The kernel has no libc: keep LLVM from turning calls into "equivalent"
// libc calls (printf("..\n") into puts, loops into bcmp, ...) that the
// kernel does not export.
#![no_builtins]
#![deny(unsafe_code)]

extern crate alloc;

pub mod glue;
#[allow(unsafe_code)]
pub mod kpi;
pub mod module;

use core::ffi::c_int;

/// `MOD_LOAD` hook: set up the module (after the load message is printed
/// only if this succeeds).  An error is returned to kldload; the kernel
/// then sends `MOD_UNLOAD`, so [`on_unload`] must undo a partial load.
pub fn on_load() -> Result<(), c_int> {
    glue::vnet::kernel_check()?;
    glue::vnet::load()
}

/// `MOD_UNLOAD` hook: tear everything down; an error refuses the unload.
pub fn on_unload() -> Result<(), c_int> {
    glue::vnet::unload()
}

/// `MOD_QUIESCE` hook: an error (e.g. EBUSY) refuses a non-forced unload.
pub fn on_quiesce() -> Result<(), c_int> {
    Ok(())
}

/// `MOD_SHUTDOWN` hook.
pub fn on_shutdown() {}
