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

/// One slot of a linker set the kernel rewrites: sys/kern/kern_linker.c
/// `linker_file_sysinit`/`linker_file_sysuninit` sort `set_sysinit_set` and
/// `set_sysuninit_set` in place (bubble sort swapping the pointer slots)
/// after link_elf_obj.c has write-protected read-only sections, so these
/// slots must be in a writable section, as C's `DATA_WSET` makes them.
/// The `UnsafeCell` makes the compiler emit the section writable ("aw").
#[repr(transparent)]
pub struct WritableSetEntry(core::cell::UnsafeCell<*const c_void>);

// SAFETY: only the kernel writes the slot (swapping slots while it holds
// `kld_sx`, before and after which no Rust code runs from this module's
// SYSINITs); Rust code never reads or writes it.
unsafe impl Sync for WritableSetEntry {}

impl WritableSetEntry {
    /// An entry pointing at `record`.
    pub const fn new<T>(record: &'static T) -> Self {
        Self(core::cell::UnsafeCell::new(
            core::ptr::from_ref(record).cast(),
        ))
    }
}

/// Places an entry for the static `$record` into the linker set `$set`
/// (one of `modmetadata_set` (read-only [`SetEntry`]), `sysinit_set`,
/// `sysuninit_set` (writable [`WritableSetEntry`])).
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
            static ENTRY: $crate::kpi::linker_set::WritableSetEntry =
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
            static ENTRY: $crate::kpi::linker_set::WritableSetEntry =
                $crate::kpi::sysinit::SysInit::set_entry(&$record);
        };
    };
}
