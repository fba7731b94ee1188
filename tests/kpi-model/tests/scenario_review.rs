//! Issue 8: the hang and panic paths a kernel review found, on a model
//! that behaves as the kernel does there (FreeBSD 14.2, b66633d79ade):
//! if_clone.c if_clone_detach retries a refused forced destroy forever,
//! VNETs are torn down newest first (vnet.c), if_detach / if_vmove_loan /
//! vnet_destroy take ifnet_detach_sxlock (if.c, vnet.c) under WITNESS,
//! enc(4)'s hook runs after ours and dereferences the packet
//! (if_enc.c enc_hhook), and ipsec.ko's ipsec_if_input drops a dead SA's
//! tunnel packet after the hooks.
mod glue_common;
use glue_common::*;
use kpi_model::ipsec::{input, InputOutcome, SaSpec};
use kpi_model::{Model, ViolationKind};

const SRC: &str = "192.0.2.1";
const DST: &str = "198.51.100.7";

fn kinds(m: &Model) -> Vec<ViolationKind> {
    m.violations().into_iter().map(|v| v.kind).collect()
}

/// if_clone.c if_clone_detach + vnet.c teardown order: kldunload with an
/// interface of vnet0's cloner on loan to a (newer) vnet, configured
/// there.  The old module refused the forced destroy (ENXIO: the jail's
/// share was gone): kldunload hung.
#[test]
fn unload_with_an_interface_on_loan() {
    let m = Model::start();
    load(&m);
    let i = create("ipsec0");
    let _other = create("ipsec1");
    let v = kpi_model::vnet::create();
    assert_eq!(kpi_model::ifnet::vmove(i, v), 0);
    kpi_model::vnet::with_vnet(v, || {
        assert_eq!(tunnel(i, ip("198.51.100.1"), ip("198.51.100.2")), 0);
    });
    assert_eq!(m.spd_ifnet().len(), 4, "the loaned interface's policies");
    unload(&m);
    assert!(
        !kinds(&m).contains(&ViolationKind::Hang),
        "{:#?}",
        m.violations()
    );
    assert!(m.spd_ifnet().is_empty(), "policies withdrawn in the jail");
    assert!(kpi_model::ifnet::by_name(v as usize, "ipsec0").is_none());
    kpi_model::vnet::destroy(v);
    m.assert_clean();
}

/// if.c vnet_if_return: jail removal sends a loaned interface home
/// without if_vmove_loan's name check; with a new ipsec0 made there
/// meanwhile its arrival fails, and it must still be destroyable (and
/// kldunload must not hang on it).
#[test]
fn interface_sent_home_under_a_taken_name_stays_destroyable() {
    let m = Model::start();
    load(&m);
    let i = create("ipsec0");
    let v = kpi_model::vnet::create();
    assert_eq!(kpi_model::ifnet::vmove(i, v), 0);
    kpi_model::vnet::with_vnet(v, || {
        assert_eq!(tunnel(i, ip("198.51.100.1"), ip("198.51.100.2")), 0);
    });
    let j = create("ipsec0");
    assert_eq!(set_reqid(&m, j, 401), 0);
    kpi_model::vnet::destroy(v);
    assert!(m.spd_ifnet().is_empty(), "the jail's policies went with it");
    // Two interfaces called ipsec0 in vnet0 now; both go.
    assert_eq!(kpi_model::clone::destroy("ipsec0"), 0);
    assert_eq!(kpi_model::clone::destroy("ipsec0"), 0);
    assert_eq!(kpi_model::clone::destroy("ipsec0"), 6, "ENXIO: none left");
    unload(&m);
    assert!(!kinds(&m).contains(&ViolationKind::Hang));
    m.assert_clean();
}

/// The same, left to kldunload: the homeless interface is destroyed by
/// the forced cloner detach.
#[test]
fn unload_with_an_interface_that_failed_to_arrive() {
    let m = Model::start();
    load(&m);
    let i = create("ipsec0");
    let v = kpi_model::vnet::create();
    assert_eq!(kpi_model::ifnet::vmove(i, v), 0);
    let _j = create("ipsec0");
    kpi_model::vnet::destroy(v);
    unload(&m);
    assert!(
        !kinds(&m).contains(&ViolationKind::Hang),
        "{:#?}",
        m.violations()
    );
    m.assert_clean();
}

/// if.c if_detach takes ifnet_detach_sxlock; if_vmove_loan holds it
/// while calling our if_reassign, which takes the configuration lock.
/// Destroy must not take them the other way round (the old module
/// called if_detach with the configuration lock held: WITNESS reversal,
/// a deadlock when `ifconfig ipsecN destroy` races `ifconfig ipsecM vnet
/// J` or jail -r).
#[test]
fn destroy_and_vnet_move_take_locks_in_one_order() {
    let m = Model::start();
    load(&m);
    let moved = create("ipsec1");
    let v = kpi_model::vnet::create();
    assert_eq!(kpi_model::ifnet::vmove(moved, v), 0);
    let i = create("ipsec0");
    assert_eq!(tunnel(i, ip(SRC), ip(DST)), 0);
    assert_eq!(kpi_model::clone::destroy("ipsec0"), 0);
    kpi_model::vnet::destroy(v);
    unload(&m);
    assert!(
        !kinds(&m).contains(&ViolationKind::LockOrder),
        "{:#?}",
        m.violations()
    );
    m.assert_clean();
}

/// The model's WITNESS itself: the old destroy order (configuration lock,
/// then if_detach's ifnet_detach_sxlock) after a move is reported.
#[test]
fn witness_reports_the_old_destroy_order() {
    let m = Model::start();
    kpi_model::witness::acquire(kpi_model::witness::IFNET_DETACH);
    kpi_model::witness::acquire("if_ipsec config");
    kpi_model::witness::release("if_ipsec config");
    kpi_model::witness::release(kpi_model::witness::IFNET_DETACH);
    kpi_model::witness::acquire("if_ipsec config");
    kpi_model::witness::with_detach_lock(|| {});
    kpi_model::witness::release("if_ipsec config");
    assert_eq!(kinds(&m), vec![ViolationKind::LockOrder]);
    m.take_violations();
}

fn ready(name: &str) -> (usize, u32, Model) {
    let m = Model::start();
    load(&m);
    kpi_model::netinet::addr_event(ip(SRC), true);
    let i = create(name);
    assert_eq!(up(i), 0);
    assert_eq!(tunnel(i, ip(SRC), ip(DST)), 0);
    let (_, r) = get_reqid(&m, i);
    (i, r, m)
}

/// if_enc.c enc_hhook after ours (kldload if_enc after if_ipsec, masks
/// with "after"): packets we drop (interface down, MONITOR) never reach
/// it as a NULL packet; it still sees every packet we deliver.  The old
/// module left `*ctx->mp = NULL` with the family set: Fatal trap 12.
#[test]
fn enc_after_us_never_sees_a_null_packet() {
    let (i, r, m) = ready("ipsec0");
    kpi_model::hhook::add_enc(kpi_model::vnet::vnet0_ptr(), 2);
    let sa = SaSpec::esp_tunnel(ip(DST), ip(SRC), r);
    assert!(matches!(
        input(4, &ip_packet(4, 40), &sa, 0),
        InputOutcome::Delivered(_)
    ));
    assert_eq!(kpi_model::hhook::take_enc_taps(), 1);
    kpi_model::ifnet::if_setflagbits(i as *mut _, 0, 1); // down
    assert_eq!(input(4, &ip_packet(4, 40), &sa, 0), InputOutcome::Consumed);
    kpi_model::ifnet::if_setflagbits(i as *mut _, 1 | 0x40000, 0); // up monitor
    assert_eq!(input(4, &ip_packet(4, 40), &sa, 0), InputOutcome::Consumed);
    assert_eq!(counter(i, IQDROPS), 2, "both drops counted");
    assert!(
        !kinds(&m).contains(&ViolationKind::NullDeref),
        "{:#?}",
        m.violations()
    );
    unload(&m);
    m.assert_clean();
}

/// ipsec_input.c calls ipsec_if_input only for tunnel-mode SAs, after
/// the hooks; a transport-mode (or AH) packet whose SA died during the
/// crypto is not ours: left untouched for netipsec (delivered), and a
/// dead tunnel-mode ESP SA's packet is left to ipsec.ko's own
/// ipsec_if_input, which drops it as C does, so later hooks see it.
#[test]
fn dead_sa_packets_are_not_ours_to_drop() {
    let (_i, r, m) = ready("ipsec0");
    kpi_model::hhook::add_enc(kpi_model::vnet::vnet0_ptr(), 2);
    let transport = SaSpec {
        mode: 1,
        state: 3,
        ..SaSpec::esp_tunnel(ip(DST), ip(SRC), r)
    };
    assert!(matches!(
        input(4, &ip_packet(4, 40), &transport, 0x1234),
        InputOutcome::Delivered(_)
    ));
    let dead = SaSpec {
        state: 3,
        ..SaSpec::esp_tunnel(ip(DST), ip(SRC), r)
    };
    assert_eq!(
        input(4, &ip_packet(4, 40), &dead, 0),
        InputOutcome::Consumed
    );
    assert_eq!(kpi_model::hhook::take_enc_taps(), 2, "enc saw both");
    unload(&m);
    m.assert_clean();
}

/// C ipsec_newpolicies: `created = time_second` (setkey -DP showed our
/// policies as created in 1970).
#[test]
fn policies_carry_their_creation_time() {
    let (_i, _r, m) = ready("ipsec0");
    let sps = m.spd_ifnet();
    assert_eq!(sps.len(), 4);
    assert!(sps
        .iter()
        .all(|p| p.created == kpi_model::time::MODEL_TIME_SECOND));
    unload(&m);
    m.assert_clean();
}

/// A forced destroy never fails: memory shortage while withdrawing the
/// tables is waited out (pause, retry), as M_WAITOK would.
#[test]
fn forced_destroy_waits_out_memory_shortage() {
    let m = Model::start();
    load(&m);
    for k in 0..8 {
        let i = create(&format!("ipsec{k}"));
        assert_eq!(tunnel(i, ip(SRC), ip(&format!("198.51.100.{}", k + 1))), 0);
    }
    kpi_model::malloc::fail_nth(0);
    unload(&m);
    kpi_model::malloc::fail_none();
    assert!(!kinds(&m).contains(&ViolationKind::Hang));
    assert!(m.spd_ifnet().is_empty());
    m.assert_clean();
}
