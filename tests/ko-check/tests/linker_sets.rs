//! The module's linker sets, decoded by following the relocations of each
//! pointer slot (sys/kern/link_elf_obj.c link_elf_lookup_set), compared
//! with what the C macros would emit (FreeBSD 14.2 sys/sys/module.h,
//! sys/sys/kernel.h, sys/sys/malloc.h; b66633d79ade).

use ko_check::sets::{self, Metadata, ModuleData, SysInit, Udata};
use ko_check::with_ko;

// sys/sys/kernel.h enum sysinit_sub_id / sysinit_elem_order
const SI_SUB_KMEM: u32 = 0x180_0000;
const SI_SUB_PROTO_IFATTACHDOMAIN: u32 = 0x880_8000;
const SI_ORDER_THIRD: u32 = 0x2;
const SI_ORDER_ANY: u32 = 0xfff_ffff;
// sys/sys/malloc.h
const M_VERSION: u64 = 2_020_110_501;

fn module_data(evhand: &str) -> ModuleData {
    ModuleData {
        name: "if_ipsec".into(),
        evhand: evhand.into(),
        priv_null: true,
    }
}

/// The event handler's symbol, whatever its mangled name.
fn evhand_of(entries: &[Metadata]) -> Result<String, String> {
    entries
        .iter()
        .find_map(|m| match m {
            Metadata::Module { data, .. } if data.evhand.contains("modevent") => {
                Some(data.evhand.clone())
            }
            _ => None,
        })
        .ok_or_else(|| format!("no MDT_MODULE entry with a modevent handler in {entries:#?}"))
}

/// mirrors sys/sys/module.h DECLARE_MODULE (MDT_DEPEND on kernel with the
/// __FreeBSD_version range, MDT_MODULE), MODULE_VERSION(if_ipsec, 1),
/// MODULE_DEPEND(if_ipsec, ipsec, 1, 1, 1): exactly these four entries.
#[test]
fn modmetadata_set_is_declare_module_version_and_depends() -> Result<(), String> {
    with_ko(|f| {
        let got = sets::modmetadata(f)?;
        let evhand = evhand_of(&got)?;
        let mut want = vec![
            Metadata::Depend {
                name: "kernel".into(),
                min: 1_400_000,
                preferred: 1_402_000,
                max: 1_499_999,
            },
            Metadata::Module {
                name: "if_ipsec".into(),
                data: module_data(&evhand),
            },
            Metadata::Version {
                name: "if_ipsec".into(),
                version: 1,
            },
            Metadata::Depend {
                name: "ipsec".into(),
                min: 1,
                preferred: 1,
                max: 1,
            },
        ];
        want.sort();
        if got == want {
            Ok(())
        } else {
            Err(format!(
                "set_modmetadata_set:\n got {got:#?}\nwant {want:#?}"
            ))
        }
    })
}

fn malloc_type() -> Udata {
    Udata::MallocType {
        shortdesc: "if_ipsec".into(),
        version: M_VERSION,
        pristine: true,
        writable: true,
    }
}

/// mirrors DECLARE_MODULE's SYSINIT(module_register_init, &data) and
/// MALLOC_DEFINE's SYSINIT(SI_SUB_KMEM, SI_ORDER_THIRD, malloc_init):
/// records in writable memory with `next` NULL (the kernel links them).
#[test]
fn sysinit_set_is_module_registration_and_malloc_init() -> Result<(), String> {
    with_ko(|f| {
        let evhand = evhand_of(&sets::modmetadata(f)?)?;
        let got = sets::sysinits(f, "set_sysinit_set")?;
        let mut want = vec![
            SysInit {
                subsystem: SI_SUB_PROTO_IFATTACHDOMAIN,
                order: SI_ORDER_ANY,
                next_null: true,
                writable: true,
                func: "module_register_init".into(),
                udata: Udata::ModuleData(module_data(&evhand)),
            },
            SysInit {
                subsystem: SI_SUB_KMEM,
                order: SI_ORDER_THIRD,
                next_null: true,
                writable: true,
                func: "malloc_init".into(),
                udata: malloc_type(),
            },
        ];
        want.sort();
        if got == want {
            Ok(())
        } else {
            Err(format!("set_sysinit_set:\n got {got:#?}\nwant {want:#?}"))
        }
    })
}

/// mirrors MALLOC_DEFINE's SYSUNINIT(SI_SUB_KMEM, SI_ORDER_ANY,
/// malloc_uninit).
#[test]
fn sysuninit_set_is_malloc_uninit() -> Result<(), String> {
    with_ko(|f| {
        let got = sets::sysinits(f, "set_sysuninit_set")?;
        let want = vec![SysInit {
            subsystem: SI_SUB_KMEM,
            order: SI_ORDER_ANY,
            next_null: true,
            writable: true,
            func: "malloc_uninit".into(),
            udata: malloc_type(),
        }];
        if got == want {
            Ok(())
        } else {
            Err(format!("set_sysuninit_set:\n got {got:#?}\nwant {want:#?}"))
        }
    })
}

/// mirrors link_elf_lookup_set: only the first section of a name counts,
/// so each set must be exactly one section.
#[test]
fn each_linker_set_is_one_section() -> Result<(), String> {
    with_ko(|f| {
        for name in [
            "set_modmetadata_set",
            "set_sysinit_set",
            "set_sysuninit_set",
        ] {
            sets::single_section(f, name)?;
        }
        Ok(())
    })
}
