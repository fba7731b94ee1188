//! Scenarios: the module loaded on the KPI model, driven the way ifconfig
//! and the kernel drive it (FreeBSD 14.2 sys/net/if_ipsec.c,
//! b66633d79ade, is what each test mirrors).
mod glue_common;
use glue_common::*;
use kpi_model::Model;

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
    // EEXIST for a taken name.
    assert_eq!(kpi_model::clone::create("ipsec3", 0).err(), Some(17));
    // if_clone.c if_clone_create copies if_name(ifp) back: "ipsec0".
    assert_eq!(kpi_model::clone::create("ipsec", 0), Ok("ipsec0".into()));
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
    assert_eq!(tunnel(i.addr, ip("192.0.2.1"), ip("198.51.100.7")), 0);
    let spd = m.spd_ifnet();
    assert_eq!(spd.len(), 4, "{spd:#?}");
    assert!(spd
        .iter()
        .all(|p| p.priority == i.index && p.reqid > 0x3fff && p.proto == 50 && p.mode == 2));
    unload(&m);
    assert!(m.spd_ifnet().is_empty());
    m.assert_clean();
}

/// mirrors if_clone.c ifc_find_cloner_match (our cloner, attached after
/// the stock one, is asked first) and ipsec_clone_create's unit choice:
/// an automatic unit skips a stock ipsec0; an explicit taken one is EEXIST.
#[test]
fn units_do_not_collide_with_stock_interfaces() {
    let m = Model::start();
    let stock = kpi_model::clone::add_stock("ipsec");
    assert_ne!(stock, 0);
    assert_eq!(kpi_model::clone::create("ipsec0", 0), Ok("ipsec0".into()));
    assert_eq!(
        kpi_model::ifnet::by_name(v0(), "ipsec0").map(|i| i.dname),
        Some("ipsec".into())
    );
    load(&m);
    assert_eq!(kpi_model::clone::create("ipsec0", 0).err(), Some(17));
    assert!(kpi_model::clone::create("ipsec", 0).is_ok());
    let ours = kpi_model::ifnet::by_name(v0(), "ipsec1").expect("auto unit 1");
    assert_eq!(ours.dname, "ipsecrs");
    assert_eq!(kpi_model::clone::destroy("ipsec1"), 0);
    assert_eq!(
        kpi_model::clone::destroy("ipsec0"),
        0,
        "the stock one goes to the stock cloner"
    );
    unload(&m);
    m.take_violations();
    let p = m.problems();
    assert!(p.iter().all(|v| !v.what.contains("if_ipsec")), "{p:#?}");
}

/// mirrors if_ipsec.c vnet_ipsec_init/vnet_ipsec_uninit: a VNET created
/// after the load gets our cloner and hooks; destroying it with
/// interfaces (and tunnels) alive releases everything.
#[test]
fn vnet_create_destroy_with_interfaces_alive() {
    let m = Model::start();
    load(&m);
    let v = kpi_model::vnet::create();
    kpi_model::vnet::with_vnet(v, || {
        assert_eq!(kpi_model::hhook::hooks_in(v, 2), 1);
        assert_eq!(kpi_model::hhook::hooks_in(v, 28), 1);
        let a = create("ipsec0");
        assert_eq!(tunnel(a, ip("192.0.2.1"), ip("198.51.100.7")), 0);
        let b = create("ipsec1");
        assert_eq!(tunnel(b, ip("2001:db8::1"), ip("2001:db8::2")), 0);
    });
    assert!(!m.spd_ifnet().is_empty());
    kpi_model::vnet::destroy(v);
    assert!(m.spd_ifnet().is_empty());
    unload(&m);
    m.assert_clean();
}

/// mirrors if_ipsec.c ipsec_reassign (if.c if_vmove), improved: the
/// tunnel is deleted as in C (its policies lived in the old VNET's SPD),
/// and the interface's record leaves the old VNET (its reqid is free
/// there again) and is configurable in the new one.
#[test]
fn vnet_move_takes_the_interface_along() {
    let m = Model::start();
    load(&m);
    let i = create("ipsec0");
    assert_eq!(set_reqid(&m, i, 77), 0);
    assert_eq!(tunnel(i, ip("192.0.2.1"), ip("198.51.100.7")), 0);
    let v = kpi_model::vnet::create();
    assert_eq!(kpi_model::ifnet::vmove(i, v), 0);
    assert!(m.spd_ifnet().is_empty(), "tunnel deleted by the move");
    let j = create("ipsec1");
    assert_eq!(set_reqid(&m, j, 77), 0, "reqid 77 is free again in vnet0");
    kpi_model::vnet::with_vnet(v, || {
        assert_eq!(get_reqid(&m, i), (0, 77), "reqid kept in the new VNET");
        assert_eq!(tunnel(i, ip("192.0.2.1"), ip("203.0.113.9")), 0);
        assert_eq!(get_addr4(i, false), (0, [203, 0, 113, 9]));
    });
    assert_eq!(m.spd_ifnet().len(), 4);
    // `ifconfig ipsec0 -vnet`: back home before the vnet goes (the
    // model's vnet::destroy would also return it, as if.c vnet_if_return).
    assert_eq!(kpi_model::ifnet::vmove(i, kpi_model::vnet::vnet0_ptr()), 0);
    assert!(m.spd_ifnet().is_empty());
    assert_eq!(get_reqid(&m, i), (0, 0), "77 is ipsec1's in vnet0: dropped");
    kpi_model::vnet::destroy(v);
    unload(&m);
    m.assert_clean();
}

/// Improvement over ipsec_clone_create + ipsec_set_tunnel (which wait
/// for the epoch on every tunnel change): retired table pieces of up to
/// 64 changes share one epoch_wait_preempt, so creating and configuring
/// many interfaces does not pay a grace period each.
#[test]
fn many_creates_share_epoch_waits() {
    let m = Model::start();
    load(&m);
    let (w0, _) = m.epoch_counts();
    for k in 0..256 {
        let i = create(&format!("ipsec{k}"));
        assert_eq!(
            tunnel(
                i,
                ip("192.0.2.1"),
                ip(&format!("10.0.{}.{}", k / 256, k % 256))
            ),
            0
        );
    }
    let (w1, _) = m.epoch_counts();
    assert!(
        w1 - w0 <= 512 / 64 + 1,
        "{} epoch waits for 256 creates",
        w1 - w0
    );
    unload(&m);
    m.assert_clean();
}
