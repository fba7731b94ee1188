//! The module's linker sets, decoded by following the relocations of each
//! pointer slot (sys/kern/link_elf_obj.c link_elf_lookup_set), compared
//! with what the C macros would emit (FreeBSD 14.2 sys/sys/module.h,
//! sys/sys/kernel.h, sys/sys/malloc.h; b66633d79ade).

use ko_check::sets::{self, Metadata, ModuleData, SysInit, Udata};
use ko_check::with_ko;

// sys/sys/kernel.h enum sysinit_sub_id / sysinit_elem_order
const SI_SUB_KMEM: u32 = 0x180_0000;
const SI_SUB_PROTO_DOMAIN: u32 = 0x880_0000;
const SI_SUB_PROTO_IFATTACHDOMAIN: u32 = 0x880_8000;
const SI_ORDER_SECOND: u32 = 0x1;
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

/// The event handler: `kpi::module_meta::modevent` for the module's
/// event type (kmod/src/module.rs).
const EVHAND: &str =
    "if_ipsec_kmod::kpi::module_meta::modevent::<if_ipsec_kmod::module::IfIpsecModule>";

/// mirrors sys/sys/module.h DECLARE_MODULE (MDT_DEPEND on kernel with the
/// __FreeBSD_version range, MDT_MODULE), MODULE_VERSION(if_ipsec, 1),
/// MODULE_DEPEND(if_ipsec, ipsec, 1, 1, 1): exactly these four entries.
#[test]
fn modmetadata_set_is_declare_module_version_and_depends() -> Result<(), String> {
    with_ko(|f| {
        let got = sets::modmetadata(f)?;
        let mut want = vec![
            Metadata::Depend {
                name: "kernel".into(),
                min: 1_402_000,
                preferred: 1_402_000,
                max: 1_402_499,
            },
            Metadata::Module {
                name: "if_ipsec".into(),
                data: module_data(EVHAND),
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

/// A SYSINIT/SYSUNINIT record as the module writes them.
fn rec(subsystem: u32, order: u32, func: &str, udata: Udata) -> SysInit {
    SysInit {
        subsystem,
        order,
        next_null: true,
        writable: true,
        func: func.into(),
        udata,
    }
}

/// `struct vnet_sysinit` of a VNET_SYSINIT/VNET_SYSUNINIT with arg NULL.
fn vnet(subsystem: u32, order: u32, func: &str) -> Udata {
    Udata::VnetSysinit {
        subsystem,
        order,
        func: func.into(),
        arg_null: true,
        link_null: true,
        writable: true,
    }
}

// The glue's records (kmod/src/glue/): update these when it adds, removes
// or moves a SYSINIT, SYSUNINIT, VNET_SYSINIT or VNET_SYSUNINIT.
//
// kmod/src/glue/vnet.rs:
//   VNET_SYSINIT(VNET_INIT, SI_SUB_PROTO_IFATTACHDOMAIN, SI_ORDER_ANY, vnet_init)
//   VNET_SYSUNINIT(VNET_UNINIT_HOOKS, SI_SUB_PROTO_IFATTACHDOMAIN, SI_ORDER_ANY, vnet_uninit_hooks)
//   VNET_SYSUNINIT(VNET_UNINIT, SI_SUB_PROTO_DOMAIN, SI_ORDER_SECOND, vnet_uninit)
//   SYSUNINIT(SI_SUB_PROTO_DOMAIN, SI_ORDER_FIRST, lock_uninit, NULL)
const VNET_INIT: &str = "if_ipsec_kmod::glue::vnet::vnet_init";
const VNET_UNINIT: &str = "if_ipsec_kmod::glue::vnet::vnet_uninit";
const VNET_UNINIT_HOOKS: &str = "if_ipsec_kmod::glue::vnet::vnet_uninit_hooks";
const LOCK_UNINIT: &str = "if_ipsec_kmod::glue::vnet::lock_uninit";
const SI_ORDER_FIRST: u32 = 0;

fn glue_sysinits() -> Vec<SysInit> {
    let (sub, order) = (SI_SUB_PROTO_IFATTACHDOMAIN, SI_ORDER_ANY);
    let (dsub, dorder) = (SI_SUB_PROTO_DOMAIN, SI_ORDER_SECOND);
    vec![
        rec(
            sub,
            order,
            "vnet_register_sysinit",
            vnet(sub, order, VNET_INIT),
        ),
        rec(
            sub,
            order,
            "vnet_register_sysuninit",
            vnet(sub, order, VNET_UNINIT_HOOKS),
        ),
        rec(
            dsub,
            dorder,
            "vnet_register_sysuninit",
            vnet(dsub, dorder, VNET_UNINIT),
        ),
    ]
}

fn glue_sysuninits() -> Vec<SysInit> {
    let (sub, order) = (SI_SUB_PROTO_IFATTACHDOMAIN, SI_ORDER_ANY);
    let (dsub, dorder) = (SI_SUB_PROTO_DOMAIN, SI_ORDER_SECOND);
    vec![
        rec(dsub, SI_ORDER_FIRST, LOCK_UNINIT, Udata::Null),
        rec(
            sub,
            order,
            "vnet_deregister_sysinit",
            vnet(sub, order, VNET_INIT),
        ),
        rec(
            sub,
            order,
            "vnet_deregister_sysuninit",
            vnet(sub, order, VNET_UNINIT_HOOKS),
        ),
        rec(
            dsub,
            dorder,
            "vnet_deregister_sysuninit",
            vnet(dsub, dorder, VNET_UNINIT),
        ),
    ]
}

fn malloc_type() -> Udata {
    Udata::MallocType {
        shortdesc: "if_ipsec".into(),
        version: M_VERSION,
        pristine: true,
        writable: true,
    }
}

/// mirrors DECLARE_MODULE's SYSINIT(module_register_init, &data),
/// MALLOC_DEFINE's SYSINIT(SI_SUB_KMEM, SI_ORDER_THIRD, malloc_init) and
/// sys/net/vnet.h VNET_SYSINIT/VNET_SYSUNINIT's SYSINITs
/// (vnet_register_sysinit/sysuninit with a `struct vnet_sysinit`): records
/// in writable memory with `next` NULL (the kernel links them).
#[test]
fn sysinit_set_is_module_registration_and_malloc_init() -> Result<(), String> {
    with_ko(|f| {
        let got = sets::sysinits(f, "set_sysinit_set")?;
        let mut want = vec![
            SysInit {
                subsystem: SI_SUB_PROTO_IFATTACHDOMAIN,
                order: SI_ORDER_ANY,
                next_null: true,
                writable: true,
                func: "module_register_init".into(),
                udata: Udata::ModuleData(module_data(EVHAND)),
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
        want.extend(glue_sysinits());
        want.sort();
        if got == want {
            Ok(())
        } else {
            Err(format!("set_sysinit_set:\n got {got:#?}\nwant {want:#?}"))
        }
    })
}

/// mirrors MALLOC_DEFINE's SYSUNINIT(SI_SUB_KMEM, SI_ORDER_ANY,
/// malloc_uninit) and the VNET_SYSINIT/VNET_SYSUNINIT SYSUNINITs
/// (vnet_deregister_sysinit/sysuninit) plus the glue's own SYSUNINIT.
#[test]
fn sysuninit_set_is_malloc_uninit() -> Result<(), String> {
    with_ko(|f| {
        let got = sets::sysinits(f, "set_sysuninit_set")?;
        let mut want = vec![rec(
            SI_SUB_KMEM,
            SI_ORDER_ANY,
            "malloc_uninit",
            malloc_type(),
        )];
        want.extend(glue_sysuninits());
        want.sort();
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

/// mirrors sys/kern/kern_linker.c linker_file_sysinit/sysuninit, which
/// sort the sysinit sets in place (swapping slots) after link_elf_obj.c
/// link_elf_protect has made read-only sections read-only: those two sets
/// must be writable, as C's DATA_WSET makes them.
#[test]
fn sysinit_sets_are_writable() -> Result<(), String> {
    with_ko(|f| {
        for name in ["set_sysinit_set", "set_sysuninit_set"] {
            let idx = sets::single_section(f, name)?;
            if !sets::section_writable(f, idx) {
                return Err(format!(
                    "{name} is not SHF_WRITE: the kernel's in-place sort would fault"
                ));
            }
        }
        Ok(())
    })
}
