//! Linker-set entries: the pointer slots the kernel linker collects.
//!
//! FreeBSD 14.2 sys/sys/linker_set.h (b66633d79ade): `DATA_SET(set, sym)`
//! emits a `void const *` holding `&sym` into the ELF section `set_<set>`;
//! sys/kern/link_elf_obj.c `link_elf_lookup_set` finds the first loaded
//! section of that name and walks it as an array of pointers.  A module
//! object must therefore contain exactly one section per set name, which
//! the kernel build gets from `ld -r` merging the same-named input
//! sections.

use core::ffi::c_void;

/// One slot of a linker set: the address of a record.
#[repr(transparent)]
pub struct SetEntry(*const c_void);

// SAFETY: the slot is written once, by the compiler/linker (a relocation),
// and only ever read afterwards (by the kernel linker).  Sharing a
// read-only pointer value between threads is sound.
unsafe impl Sync for SetEntry {}

impl SetEntry {
    /// An entry pointing at `record`.
    pub const fn new<T>(record: &'static T) -> Self {
        Self(core::ptr::from_ref(record).cast())
    }

    /// The record's address (for tests).
    pub const fn addr(&self) -> *const c_void {
        self.0
    }
}

/// Places a [`SetEntry`] for the static `$record` into the linker set
/// `$set` (one of `modmetadata_set`, `sysinit_set`, `sysuninit_set`).
///
/// Only on the kernel target: host builds keep the records (so they can be
/// inspected) but no set sections, so host binaries need none of the
/// kernel functions the records point at.
#[macro_export]
macro_rules! linker_set_entry {
    (modmetadata_set, $record:expr) => {
        const _: () = {
            #[cfg(target_os = "none")]
            #[allow(unsafe_code)]
            #[used]
            // SAFETY (placement): `set_modmetadata_set` holds only pointers
            // to `struct mod_metadata`; the type of `$record` is checked by
            // the `ModMetadata` argument below.
            #[link_section = "set_modmetadata_set"]
            static ENTRY: $crate::kpi::linker_set::SetEntry =
                $crate::kpi::module_meta::ModMetadata::set_entry(&$record);
        };
    };
    (sysinit_set, $record:expr) => {
        const _: () = {
            #[cfg(target_os = "none")]
            #[allow(unsafe_code)]
            #[used]
            // SAFETY (placement): `set_sysinit_set` holds only pointers to
            // `struct sysinit`, guaranteed by the `SysInit` argument below.
            #[link_section = "set_sysinit_set"]
            static ENTRY: $crate::kpi::linker_set::SetEntry =
                $crate::kpi::sysinit::SysInit::set_entry(&$record);
        };
    };
    (sysuninit_set, $record:expr) => {
        const _: () = {
            #[cfg(target_os = "none")]
            #[allow(unsafe_code)]
            #[used]
            // SAFETY (placement): `set_sysuninit_set` holds only pointers to
            // `struct sysinit`, guaranteed by the `SysInit` argument below.
            #[link_section = "set_sysuninit_set"]
            static ENTRY: $crate::kpi::linker_set::SetEntry =
                $crate::kpi::sysinit::SysInit::set_entry(&$record);
        };
    };
}
