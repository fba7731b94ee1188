//! Module metadata and events.
//!
//! Source: FreeBSD 14.2 sys/sys/module.h (b66633d79ade) unless an item says
//! otherwise.

use core::ffi::{c_char, c_int, c_void};
use core::mem::{offset_of, size_of};
use static_assertions::const_assert_eq;

/// `__FreeBSD_version` of the tree these declarations were read from.
/// FreeBSD 14.2 sys/sys/param.h (b66633d79ade).
pub const FREEBSD_VERSION_14_2: c_int = 1_402_000;

/// `__FreeBSD_version` of 14.0-RELEASE, the first release of the stable/14
/// branch whose KBI (kernel binary interface) these layouts follow.
/// FreeBSD 14.2 sys/sys/param.h (b66633d79ade) explains the numbering:
/// major * 100000 + minor * 1000 + patch.
pub const FREEBSD_VERSION_14_0: c_int = 1_400_000;

extern "C" {
    /// `const int osreldate` (sys/sys/systm.h; defined in the kernel's
    /// generated vers.c, sys/conf/newvers.sh): the running kernel's
    /// `__FreeBSD_version`, what `MODULE_VERSION(kernel, ...)` declares.
    pub static osreldate: c_int;
}

/// `MODULE_KERNEL_MAXVER`: `roundup(__FreeBSD_version, 100000) - 1`, the last
/// `__FreeBSD_version` of the same major branch.  Computed the same way.
pub const fn module_kernel_maxver(freebsd_version: c_int) -> c_int {
    let step = 100_000;
    let rounded = if freebsd_version % step == 0 {
        freebsd_version
    } else {
        (freebsd_version / step + 1) * step
    };
    rounded - 1
}

/// `MDT_DEPEND`: metadata argument is a module name this one depends on.
pub const MDT_DEPEND: c_int = 1;
/// `MDT_MODULE`: module declaration.
pub const MDT_MODULE: c_int = 2;
/// `MDT_VERSION`: module version.
pub const MDT_VERSION: c_int = 3;
/// `MDT_PNP_INFO`: plug-and-play hints record.
pub const MDT_PNP_INFO: c_int = 4;
/// `MDT_STRUCT_VERSION`: version of `struct mod_metadata`.
pub const MDT_STRUCT_VERSION: c_int = 1;
/// `MDT_SETNAME`: the linker set holding `struct mod_metadata *` entries;
/// the ELF section is `set_` followed by this name (sys/sys/linker_set.h).
pub const MDT_SETNAME: &str = "modmetadata_set";

/// `enum modeventtype` values (`modeventtype_t`).
pub const MOD_LOAD: c_int = 0;
/// See [`MOD_LOAD`].
pub const MOD_UNLOAD: c_int = 1;
/// See [`MOD_LOAD`].
pub const MOD_SHUTDOWN: c_int = 2;
/// See [`MOD_LOAD`].
pub const MOD_QUIESCE: c_int = 3;

/// `struct module`: opaque, private to sys/kern/kern_module.c.
#[repr(C)]
pub struct module {
    _opaque: [u8; 0],
}

/// `module_t`.
pub type module_t = *mut module;

/// `modeventhand_t`: `int (*)(module_t, int, void *)`.
pub type modeventhand_t = Option<unsafe extern "C" fn(module_t, c_int, *mut c_void) -> c_int>;

/// `moduledata_t` (`struct moduledata`).
#[repr(C)]
pub struct moduledata {
    /// `name`: module name.
    pub name: *const c_char,
    /// `evhand`: event handler.
    pub evhand: modeventhand_t,
    /// `priv`: extra data passed to the handler.
    pub priv_: *mut c_void,
}
/// `moduledata_t`.
pub type moduledata_t = moduledata;
const_assert_eq!(size_of::<moduledata>(), 24);
const_assert_eq!(offset_of!(moduledata, name), 0);
const_assert_eq!(offset_of!(moduledata, evhand), 8);
const_assert_eq!(offset_of!(moduledata, priv_), 16);

/// `struct mod_depend`: acceptable version range of a dependency.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct mod_depend {
    /// `md_ver_minimum`.
    pub md_ver_minimum: c_int,
    /// `md_ver_preferred`.
    pub md_ver_preferred: c_int,
    /// `md_ver_maximum`.
    pub md_ver_maximum: c_int,
}
const_assert_eq!(size_of::<mod_depend>(), 12);
const_assert_eq!(offset_of!(mod_depend, md_ver_minimum), 0);
const_assert_eq!(offset_of!(mod_depend, md_ver_preferred), 4);
const_assert_eq!(offset_of!(mod_depend, md_ver_maximum), 8);

/// `struct mod_version`.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct mod_version {
    /// `mv_version`.
    pub mv_version: c_int,
}
const_assert_eq!(size_of::<mod_version>(), 4);

/// `struct mod_metadata`: one entry of the `modmetadata_set` linker set.
#[repr(C)]
pub struct mod_metadata {
    /// `md_version`: [`MDT_STRUCT_VERSION`].
    pub md_version: c_int,
    /// `md_type`: `MDT_*`.
    pub md_type: c_int,
    /// `md_data`: type-specific data (`moduledata_t`, `mod_depend`,
    /// `mod_version`).
    pub md_data: *const c_void,
    /// `md_cval`: module name the entry is about.
    pub md_cval: *const c_char,
}
const_assert_eq!(size_of::<mod_metadata>(), 24);
const_assert_eq!(offset_of!(mod_metadata, md_version), 0);
const_assert_eq!(offset_of!(mod_metadata, md_type), 4);
const_assert_eq!(offset_of!(mod_metadata, md_data), 8);
const_assert_eq!(offset_of!(mod_metadata, md_cval), 16);

extern "C" {
    /// `void module_register_init(const void *)`: the SYSINIT function
    /// `DECLARE_MODULE` registers; defined in sys/kern/kern_module.c.
    pub fn module_register_init(arg: *const c_void);
}

#[cfg(test)]
mod tests {
    use super::*;

    /// mirrors sys/sys/module.h MODULE_KERNEL_MAXVER
    #[test]
    fn kernel_maxver_rounds_up_to_the_branch_end() {
        assert_eq!(module_kernel_maxver(FREEBSD_VERSION_14_2), 1_499_999);
        // C's roundup() leaves an exact multiple unchanged, so a tree at
        // exactly 1400000 would get an empty range: the caller must feed the
        // version of the headers read (1402000), not the branch base.
        assert_eq!(module_kernel_maxver(FREEBSD_VERSION_14_0), 1_399_999);
        assert_eq!(module_kernel_maxver(1_400_001), 1_499_999);
    }
}
