//! Scenarios: the module loaded on the KPI model, driven the way ifconfig
//! and the kernel drive it (FreeBSD 14.2 sys/net/if_ipsec.c,
//! b66633d79ade, is what each test mirrors).
use if_ipsec_kmod::glue::vnet as gv;
use if_ipsec_kmod::kpi::vnet_sysinit as vs;
use kpi_model::Model;
use sys_bindings::net::ioctl::SIOCSIFPHYADDR;
use sys_bindings::net::{in_addr, in_aliasreq, sockaddr_in, AF_INET};

/// kldload: MOD_LOAD, then the VNET_SYSINIT/SYSUNINIT registrations the
/// kernel linker runs from our sysinit set.
fn load(m: &Model) {
    m.module(|| {
        assert_eq!(if_ipsec_kmod::on_load(), Ok(()));
        vs::run_register_sysinit(&gv::VNET_INIT);
        vs::run_register_sysuninit(&gv::VNET_UNINIT);
    });
}

/// kldunload: MOD_UNLOAD, then the SYSUNINITs in reverse order.
fn unload(m: &Model) {
    m.module(|| {
        assert_eq!(if_ipsec_kmod::on_unload(), Ok(()));
        vs::run_deregister_sysuninit(&gv::VNET_UNINIT);
        vs::run_deregister_sysinit(&gv::VNET_INIT);
        gv::destroy_lock();
    });
}

fn v0() -> usize {
    kpi_model::vnet::vnet0_ptr() as usize
}

fn sin(a: [u8; 4]) -> sockaddr_in {
    sockaddr_in {
        sin_len: 16,
        sin_family: AF_INET,
        sin_addr: in_addr { s_addr: a },
        ..Default::default()
    }
}

fn set_tunnel(ifp: usize, src: [u8; 4], dst: [u8; 4]) -> i32 {
    let mut r = in_aliasreq {
        ifra_addr: sin(src),
        ifra_dstaddr: sin(dst),
        ..Default::default()
    };
    r.ifra_name[..6].copy_from_slice(b"ipsec0");
    // SAFETY: a plain C struct read as bytes (as ioctl(2) copies it).
    let mut b = unsafe {
        std::slice::from_raw_parts(
            (&r as *const in_aliasreq).cast::<u8>(),
            std::mem::size_of::<in_aliasreq>(),
        )
    }
    .to_vec();
    kpi_model::ifnet::call_ioctl(ifp, SIOCSIFPHYADDR as _, &mut b)
}

/// mirrors if_ipsec.c ipsec_clone_create / ipsec_clone_destroy: by name,
/// auto unit, name taken; driver name is our cloner, group "ipsec".
#[test]
fn create_destroy_by_name_and_auto_unit() {
    let m = Model::start();
    load(&m);
    assert_eq!(kpi_model::clone::create("ipsec3", 0), Ok("ipsec3".into()));
    let i = kpi_model::ifnet::by_name(v0(), "ipsec3").expect("ipsec3 exists");
    assert_eq!(i.dname, "ipsecrs");
    assert_eq!(i.mtu, 1400);
    assert!(
        i.groups.iter().any(|g| g == "ipsec"),
        "groups {:?}",
        i.groups
    );
    assert_eq!(kpi_model::clone::create("ipsec3", 0).err(), Some(17)); // EEXIST
    assert!(kpi_model::clone::create("ipsec", 0).is_ok());
    assert!(
        kpi_model::ifnet::by_name(v0(), "ipsec0").is_some(),
        "auto unit is the lowest free"
    );
    assert_eq!(kpi_model::clone::destroy("ipsec3"), 0);
    assert_eq!(kpi_model::clone::destroy("ipsec0"), 0);
    assert!(kpi_model::ifnet::by_name(v0(), "ipsec3").is_none());
    unload(&m);
    m.assert_clean();
}

/// mirrors if_ipsec.c ipsec_set_tunnel + ipsec_newpolicies: four
/// ifnet-scope policies, priority = if_index, reqid auto; destroy with a
/// tunnel releases them (kldunload with an interface alive too).
#[test]
fn tunnel_policies_and_unload_with_interface() {
    let m = Model::start();
    load(&m);
    assert!(kpi_model::clone::create("ipsec0", 0).is_ok());
    let i = kpi_model::ifnet::by_name(v0(), "ipsec0").expect("ipsec0");
    assert_eq!(set_tunnel(i.addr, [192, 0, 2, 1], [198, 51, 100, 7]), 0);
    let spd = m.spd_ifnet();
    assert_eq!(spd.len(), 4, "{spd:#?}");
    assert!(spd
        .iter()
        .all(|p| p.priority == i.index && p.reqid > 0x3fff && p.proto == 50 && p.mode == 2));
    unload(&m);
    assert!(m.spd_ifnet().is_empty());
    m.assert_clean();
}
