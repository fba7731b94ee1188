//! Module metadata records and the module event trampoline
//! (FreeBSD 14.2 sys/sys/module.h, sys/kern/kern_module.c,
//! sys/kern/kern_linker.c; b66633d79ade).
//!
//! `DECLARE_MODULE(name, data, sub, order)` is three records:
//! `MODULE_DEPEND(name, kernel, ...)`, an `MDT_MODULE` metadata entry
//! pointing at the `moduledata_t`, and `SYSINIT(.., sub, order,
//! module_register_init, &data)` which sends `MOD_LOAD`.  The kernel linker
//! reads the metadata when it loads the file: `MDT_VERSION` entries declare
//! what this file provides, `MDT_DEPEND` entries what it needs, `MDT_MODULE`
//! entries are registered (`module_register`).

use core::ffi::{c_char, c_int, c_void, CStr};
use sys_bindings::kern::module::{
    mod_depend, mod_metadata, mod_version, module_t, moduledata, MDT_DEPEND, MDT_MODULE,
    MDT_STRUCT_VERSION, MDT_VERSION, MOD_LOAD, MOD_QUIESCE, MOD_SHUTDOWN, MOD_UNLOAD,
};

use super::linker_set::SetEntry;

/// `EOPNOTSUPP` (FreeBSD 14.2 sys/sys/errno.h, b66633d79ade): what an event
/// handler returns for events it does not handle; `module_quiesce` treats it
/// as success.
pub const EOPNOTSUPP: c_int = 45;

/// What the module does on each event.  Errors are errno values.
///
/// On `MOD_LOAD` failure the kernel (kern_module.c `module_register_init`)
/// sends `MOD_UNLOAD` right away, so `unload` must cope with a partial or
/// absent load.  A nonzero `quiesce` result refuses a non-forced unload.
pub trait ModuleEvents {
    /// `MOD_LOAD`: runs once, from the module's SYSINIT, may sleep.
    fn load() -> Result<(), c_int>;
    /// `MOD_UNLOAD`: nonzero refuses the unload (kldunload reports it).
    fn unload() -> Result<(), c_int>;
    /// `MOD_QUIESCE`: asked before a non-forced unload.
    fn quiesce() -> Result<(), c_int> {
        Ok(())
    }
    /// `MOD_SHUTDOWN`: system shutdown.
    fn shutdown() {}
}

/// The `modeventhand_t` for `M`: dispatches on the event type.
pub extern "C" fn modevent<M: ModuleEvents>(
    _module: module_t,
    event: c_int,
    _arg: *mut c_void,
) -> c_int {
    let result = match event {
        MOD_LOAD => M::load(),
        MOD_UNLOAD => M::unload(),
        MOD_QUIESCE => M::quiesce(),
        MOD_SHUTDOWN => {
            M::shutdown();
            Ok(())
        }
        _ => Err(EOPNOTSUPP),
    };
    match result {
        Ok(()) => 0,
        Err(errno) => errno,
    }
}

/// A `moduledata_t` (read-only for the kernel).
#[repr(transparent)]
pub struct ModuleData(moduledata);

// SAFETY: the record holds pointers to a `'static` C string and a function;
// neither Rust nor the kernel writes it after construction.
unsafe impl Sync for ModuleData {}

impl ModuleData {
    /// `{ name, evhand, NULL }`.
    pub const fn new(
        name: &'static CStr,
        evhand: extern "C" fn(module_t, c_int, *mut c_void) -> c_int,
    ) -> Self {
        Self(moduledata {
            name: name.as_ptr(),
            evhand: Some(evhand),
            priv_: core::ptr::null_mut(),
        })
    }

    /// The raw record (for tests).
    pub const fn raw(&self) -> &moduledata {
        &self.0
    }
}

/// A `struct mod_depend`.
#[repr(transparent)]
pub struct ModDepend(mod_depend);

impl ModDepend {
    /// `{ vmin, vpref, vmax }`.
    pub const fn new(min: c_int, preferred: c_int, max: c_int) -> Self {
        Self(mod_depend {
            md_ver_minimum: min,
            md_ver_preferred: preferred,
            md_ver_maximum: max,
        })
    }

    /// The raw record.
    pub const fn raw(&self) -> &mod_depend {
        &self.0
    }
}

/// A `struct mod_version`.
#[repr(transparent)]
pub struct ModVersion(mod_version);

impl ModVersion {
    /// `{ version }`.
    pub const fn new(version: c_int) -> Self {
        Self(mod_version {
            mv_version: version,
        })
    }
}

/// A `struct mod_metadata` (read-only for the kernel).
#[repr(transparent)]
pub struct ModMetadata(mod_metadata);

// SAFETY: the record holds pointers to `'static` read-only data (records
// above and C strings); nothing writes it after construction.
unsafe impl Sync for ModMetadata {}

impl ModMetadata {
    const fn with(md_type: c_int, data: *const c_void, name: &'static CStr) -> Self {
        Self(mod_metadata {
            md_version: MDT_STRUCT_VERSION,
            md_type,
            md_data: data,
            md_cval: name.as_ptr(),
        })
    }

    /// `MODULE_DEPEND(<this>, name, ...)`'s metadata entry.
    pub const fn depend(name: &'static CStr, depend: &'static ModDepend) -> Self {
        Self::with(MDT_DEPEND, core::ptr::from_ref(depend).cast(), name)
    }

    /// `MODULE_VERSION(name, ...)`'s metadata entry.
    pub const fn version(name: &'static CStr, version: &'static ModVersion) -> Self {
        Self::with(MDT_VERSION, core::ptr::from_ref(version).cast(), name)
    }

    /// `DECLARE_MODULE`'s `MDT_MODULE` entry.
    pub const fn module(name: &'static CStr, data: &'static ModuleData) -> Self {
        Self::with(MDT_MODULE, core::ptr::from_ref(data).cast(), name)
    }

    /// The linker-set slot pointing at this record.
    pub const fn set_entry(record: &'static ModMetadata) -> SetEntry {
        SetEntry::new(record)
    }

    /// The raw record (for tests).
    pub const fn raw(&self) -> &mod_metadata {
        &self.0
    }

    /// `md_cval` (for tests).
    pub const fn name_ptr(&self) -> *const c_char {
        self.0.md_cval
    }
}

/// `module_register_init`, as a `sysinit_cfunc_t`.
pub const MODULE_REGISTER_INIT: sys_bindings::kern::sysinit::sysinit_cfunc_t =
    sys_bindings::kern::module::module_register_init;

/// Defines the module's `moduledata_t` static for the event type `$events`
/// (`static moduledata_t <symbol> = { name, modevent::<$events>, NULL }`).
///
/// On the kernel target the record gets the global symbol `$symbol`: it is
/// the `--gc-sections` root of the `ld -r` link (kmod/link/), which
/// requires a defined root symbol; the link localizes it afterwards like
/// every other definition (EXPORT_SYMS=NO).
#[macro_export]
macro_rules! declare_moduledata {
    ($(#[$meta:meta])* $vis:vis $name:ident, symbol = $symbol:literal, name = $modname:expr, events = $events:ty $(,)?) => {
        $(#[$meta])*
        #[allow(unsafe_code)]
        // SAFETY (export_name): the symbol is defined once in the module
        // and never declared elsewhere with another type.
        #[cfg_attr(target_os = "none", export_name = $symbol)]
        $vis static $name: $crate::kpi::module_meta::ModuleData =
            $crate::kpi::module_meta::ModuleData::new(
                $modname,
                $crate::kpi::module_meta::modevent::<$events>,
            );
    };
}

/// The running kernel's `__FreeBSD_version` (`osreldate`, sys/sys/systm.h).
pub fn running_osreldate() -> c_int {
    // SAFETY: a constant of the kernel image, readable any time.
    unsafe { core::ptr::read_volatile(&raw const sys_bindings::kern::module::osreldate) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use core::sync::atomic::{AtomicI32, Ordering};

    static LAST: AtomicI32 = AtomicI32::new(-1);

    struct Events;
    impl ModuleEvents for Events {
        fn load() -> Result<(), c_int> {
            LAST.store(MOD_LOAD, Ordering::SeqCst);
            Err(12)
        }
        fn unload() -> Result<(), c_int> {
            LAST.store(MOD_UNLOAD, Ordering::SeqCst);
            Ok(())
        }
    }

    fn send(event: c_int) -> c_int {
        modevent::<Events>(core::ptr::null_mut(), event, core::ptr::null_mut())
    }

    /// mirrors sys/kern/kern_module.c: MOD_LOAD's errno reaches
    /// module_register_init; MOD_QUIESCE/MOD_SHUTDOWN default to success;
    /// unknown events get EOPNOTSUPP (module_quiesce treats it as 0).
    #[test]
    fn events_dispatch_and_errnos() {
        assert_eq!(send(MOD_LOAD), 12);
        assert_eq!(LAST.load(Ordering::SeqCst), MOD_LOAD);
        assert_eq!(send(MOD_UNLOAD), 0);
        assert_eq!(LAST.load(Ordering::SeqCst), MOD_UNLOAD);
        assert_eq!(send(MOD_QUIESCE), 0);
        assert_eq!(send(MOD_SHUTDOWN), 0);
        assert_eq!(send(99), EOPNOTSUPP);
    }

    /// mirrors sys/sys/module.h MODULE_METADATA: MDT_STRUCT_VERSION, type,
    /// data, name.
    #[test]
    fn metadata_records() {
        static DEP: ModDepend = ModDepend::new(1, 2, 3);
        static MD: ModMetadata = ModMetadata::depend(c"ipsec", &DEP);
        assert_eq!(MD.raw().md_version, MDT_STRUCT_VERSION);
        assert_eq!(MD.raw().md_type, MDT_DEPEND);
        assert_eq!(MD.raw().md_data, core::ptr::from_ref(&DEP).cast());
        assert_eq!(MD.name_ptr(), c"ipsec".as_ptr());
    }
}
