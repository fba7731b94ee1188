//! Issue 10: the module refuses, at MOD_LOAD, every kernel whose
//! `osreldate` is outside the ranges it was built and checked for
//! (`if_ipsec::kernel::SUPPORTED`), with a console line, before anything
//! is registered; kern_linker.c then unloads the file (MOD_UNLOAD and the
//! SYSUNINITs) and kldload fails with ENOEXEC.
mod glue_common;
use glue_common::*;
use if_ipsec_kmod::glue::vnet as gv;
use if_ipsec_kmod::kpi::vnet_sysinit as vs;
use kpi_model::Model;

const ENOEXEC: i32 = 8;

fn refused(m: &Model, osreldate: i32) {
    kpi_model::kern::set_osreldate(osreldate);
    m.module(|| {
        assert_eq!(if_ipsec_kmod::on_load(), Err(ENOEXEC), "{osreldate}");
        // The module's VNET_SYSINIT (same SYSINIT keys as DECLARE_MODULE:
        // it may run on either side of MOD_LOAD).
        vs::run_register_sysinit(&gv::VNET_INIT);
        vs::run_register_sysuninit(&gv::VNET_UNINIT);
        vs::run_register_sysuninit(&gv::VNET_UNINIT_HOOKS);
    });
    let v0 = kpi_model::vnet::vnet0_ptr();
    assert_eq!(kpi_model::hhook::hooks_in(v0, 2), 0, "no input hook");
    assert_eq!(kpi_model::hhook::hooks_in(v0, 28), 0);
    assert!(kpi_model::clone::create("ipsec0", 0).is_err(), "no cloner");
    assert!(m.spd_ifnet().is_empty());
    let said = kpi_model::console::lines();
    assert!(
        said.iter().any(|l| l.contains("supports FreeBSD 14.2")
            && l.contains(&osreldate.to_string())
            && l.contains("not loading")),
        "{said:?}"
    );
    // kern_linker.c linker_load_file: every module of the file failed,
    // linker_file_unload: MOD_UNLOAD (module_register_init sent it) and
    // the SYSUNINITs.
    unload(m);
}

#[test]
fn refuses_kernels_it_was_not_checked_for() {
    for v in [
        1_400_000, 1_401_000, 1_402_500, 1_403_000, 1_500_030, 1_399_999,
    ] {
        let m = Model::start();
        refused(&m, v);
        kpi_model::kern::set_osreldate(1_402_000);
        m.assert_clean();
    }
}

#[test]
fn loads_on_the_checked_kernel() {
    let m = Model::start();
    kpi_model::kern::set_osreldate(1_402_000);
    load(&m);
    assert!(kpi_model::clone::create("ipsec0", 0).is_ok());
    unload(&m);
    m.assert_clean();
}
