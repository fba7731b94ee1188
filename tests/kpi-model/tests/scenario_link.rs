//! Scenarios: the link state follows the SAs (issue 11).  C's if_ipsec
//! never sets a link state (LINK_STATE_UNKNOWN) and answers SIOCGIFMEDIA
//! with EINVAL (sys/net/if_ipsec.c ipsec_ioctl's default case,
//! b66633d79ade): that is what `link0` and untracked VNETs keep.
mod glue_common;
use glue_common::*;
use kpi_model::keysock::{self as ks, Sa};
use kpi_model::Model;
use sys_bindings::ifnet::{LINK_STATE_DOWN, LINK_STATE_UNKNOWN, LINK_STATE_UP};
use sys_bindings::net::ioctl as req;

const A: &str = "192.0.2.1";
const B: &str = "198.51.100.7";
const EINVAL: i32 = 22;
const IFF_LINK0: i32 = 0x1000;

fn link(i: usize) -> i32 {
    kpi_model::ifnet::view(i).map_or(-1, |v| v.link_state)
}

/// Load, run the listener's first task (register + dump), one tunnel.
fn setup(m: &Model, reqid: u32) -> usize {
    load(m);
    ks::run_tasks();
    let i = create("ipsec0");
    assert_eq!(tunnel(i, ip(A), ip(B)), 0);
    assert_eq!(set_reqid(m, i, reqid), 0);
    i
}

fn both(reqid: u32) {
    ks::add(Sa::tunnel(0x100, A, B, reqid));
    ks::add(Sa::tunnel(0x200, B, A, reqid));
    ks::run_tasks();
}

/// SIOCGIFMEDIA: (errno, ifm_status, ifm_active).
fn media(i: usize) -> (i32, i32, i32) {
    let mut d = vec![0u8; 48];
    let e = kpi_model::ifnet::call_ioctl(i, req::SIOCGIFMEDIA as _, &mut d);
    let int = |o: usize| i32::from_ne_bytes([d[o], d[o + 1], d[o + 2], d[o + 3]]);
    (e, int(24), int(28))
}

#[test]
fn registers_and_dumps_at_start() {
    let m = Model::start();
    load(&m);
    ks::run_tasks();
    let sent = ks::take_sent();
    let kinds: Vec<(u8, u8)> = sent.iter().map(|x| (x[1], x[3])).collect();
    assert_eq!(
        kinds,
        vec![(7, 3), (10, 3)],
        "SADB_REGISTER then SADB_DUMP, ESP"
    );
    assert_eq!(ks::open_sockets(), 1);
    unload(&m);
    assert_eq!(ks::open_sockets(), 0);
    m.assert_clean();
}

#[test]
fn no_tunnel_is_down_and_media_says_so() {
    let m = Model::start();
    load(&m);
    ks::run_tasks();
    let i = create("ipsec0");
    assert_eq!(link(i), LINK_STATE_DOWN);
    assert_eq!(media(i), (0, 0x1, 0x20), "IFM_AVALID, Ethernet autoselect");
    unload(&m);
    m.assert_clean();
}

#[test]
fn add_delete_readd_expire_flush() {
    let m = Model::start();
    let i = setup(&m, 100);
    assert_eq!(link(i), LINK_STATE_DOWN);
    ks::add(Sa::tunnel(0x100, A, B, 100));
    ks::run_tasks();
    assert_eq!(link(i), LINK_STATE_DOWN, "one direction only");
    ks::add(Sa::tunnel(0x200, B, A, 100));
    ks::run_tasks();
    assert_eq!(link(i), LINK_STATE_UP);
    assert_eq!(media(i), (0, 0x3, 0x20), "IFM_AVALID | IFM_ACTIVE");
    ks::delete(m.vnet0(), 0x200, B, A); // no reqid in the message
    ks::run_tasks();
    assert_eq!(link(i), LINK_STATE_DOWN);
    ks::add(Sa::tunnel(0x201, B, A, 100));
    ks::run_tasks();
    assert_eq!(link(i), LINK_STATE_UP);
    ks::expire(m.vnet0(), 0x201, A, false);
    ks::run_tasks();
    assert_eq!(link(i), LINK_STATE_UP, "soft expiry: DYING is still usable");
    ks::expire(m.vnet0(), 0x201, A, true);
    ks::run_tasks();
    assert_eq!(link(i), LINK_STATE_DOWN, "hard expiry");
    ks::add(Sa::tunnel(0x202, B, A, 100));
    ks::run_tasks();
    assert_eq!(link(i), LINK_STATE_UP);
    ks::flush(m.vnet0());
    ks::run_tasks();
    assert_eq!(link(i), LINK_STATE_DOWN, "setkey -F");
    unload(&m);
    m.assert_clean();
}

#[test]
fn rekey_keeps_it_up_and_delete_all_takes_it_down() {
    let m = Model::start();
    let i = setup(&m, 100);
    both(100);
    // IKE rekey: new pair first (GETSPI + UPDATE), then the old deleted.
    ks::update(Sa::tunnel(0x300, A, B, 100));
    ks::update(Sa::tunnel(0x400, B, A, 100));
    ks::delete(m.vnet0(), 0x100, A, B);
    ks::delete(m.vnet0(), 0x200, B, A);
    ks::run_tasks();
    assert_eq!(link(i), LINK_STATE_UP);
    ks::delete_all(m.vnet0(), A, B);
    ks::run_tasks();
    assert_eq!(link(i), LINK_STATE_DOWN);
    unload(&m);
    m.assert_clean();
}

/// Both SAs of the tunnel (reqid 100), each changed by `f`, after a flush.
fn both_as(m: &Model, f: impl Fn(Sa) -> Sa) {
    ks::flush(m.vnet0());
    ks::add(f(Sa::tunnel(0x100, A, B, 100)));
    ks::add(f(Sa::tunnel(0x200, B, A, 100)));
    ks::run_tasks();
}

#[test]
fn natt_ports_reqid_and_mode_matter_as_key_c_says() {
    let m = Model::start();
    let i = setup(&m, 100);
    let natt = |sa: Sa| Sa {
        sport: 4500,
        dport: 4500,
        ..sa
    };
    both_as(&m, natt);
    let why = "ports ignored (key_sockaddrcmp(.., 0))";
    assert_eq!(link(i), LINK_STATE_UP, "{why}");
    both_as(&m, |sa| Sa { reqid: 101, ..sa });
    assert_eq!(link(i), LINK_STATE_DOWN, "another reqid's SAs");
    both_as(&m, |sa| Sa { mode: 1, ..sa });
    assert_eq!(link(i), LINK_STATE_DOWN, "transport-mode SAs");
    both_as(&m, |sa| Sa { mode: 0, ..sa });
    assert_eq!(link(i), LINK_STATE_UP, "mode any");
    unload(&m);
    m.assert_clean();
}

#[test]
fn reqid_and_tunnel_changes_reevaluate() {
    let m = Model::start();
    let i = setup(&m, 100);
    both(100);
    assert_eq!(link(i), LINK_STATE_UP);
    assert_eq!(set_reqid(&m, i, 101), 0);
    assert_eq!(link(i), LINK_STATE_DOWN);
    assert_eq!(set_reqid(&m, i, 100), 0);
    assert_eq!(link(i), LINK_STATE_UP);
    assert_eq!(tunnel(i, ip(A), ip("203.0.113.9")), 0);
    assert_eq!(link(i), LINK_STATE_DOWN);
    assert_eq!(tunnel(i, ip(A), ip(B)), 0);
    assert_eq!(link(i), LINK_STATE_UP);
    assert_eq!(untunnel(i), 0);
    assert_eq!(link(i), LINK_STATE_DOWN);
    unload(&m);
    m.assert_clean();
}

/// `ifconfig ipsec0 link0`: C's behaviour (UNKNOWN, SIOCGIFMEDIA EINVAL).
#[test]
fn link0_opts_out() {
    let m = Model::start();
    let i = setup(&m, 100);
    both(100);
    assert_eq!(link(i), LINK_STATE_UP);
    assert_eq!(m.ifconfig_flags("ipsec0", IFF_LINK0, 0), 0);
    assert_eq!(link(i), LINK_STATE_UNKNOWN);
    assert_eq!(media(i).0, EINVAL);
    ks::delete(m.vnet0(), 0x200, B, A);
    ks::run_tasks();
    assert_eq!(link(i), LINK_STATE_UNKNOWN);
    assert_eq!(m.ifconfig_flags("ipsec0", 0, IFF_LINK0), 0);
    assert_eq!(link(i), LINK_STATE_DOWN);
    unload(&m);
    m.assert_clean();
}

/// SAs installed before kldload are found by the first SADB_DUMP.
#[test]
fn sas_from_before_load() {
    let m = Model::start();
    ks::preload(Sa::tunnel(0x100, A, B, 100));
    ks::preload(Sa::tunnel(0x200, B, A, 100));
    let i = setup(&m, 100);
    assert_eq!(link(i), LINK_STATE_UP);
    unload(&m);
    m.assert_clean();
}

/// A full receive buffer loses messages; SO_RERROR reports it and the
/// listener resynchronises with SADB_DUMP.
#[test]
fn overflow_resynchronises() {
    let m = Model::start();
    let i = setup(&m, 100);
    ks::take_sent();
    // Churn: 2 x 6,000 messages (1 MiB holds about 10,900 of them), the
    // SAD itself stays small.
    for n in 0..6_000u32 {
        ks::add(Sa::tunnel(0x1000 + n, "10.9.0.1", "10.9.0.2", 7));
        ks::delete(m.vnet0(), 0x1000 + n, "10.9.0.1", "10.9.0.2");
    }
    ks::add(Sa::tunnel(0x100, A, B, 100));
    ks::add(Sa::tunnel(0x200, B, A, 100));
    assert!(ks::overflows() > 0);
    ks::run_tasks();
    let dumps = ks::take_sent().iter().filter(|x| x[1] == 10).count();
    assert_eq!(dumps, 1, "one resync");
    assert_eq!(
        link(i),
        LINK_STATE_UP,
        "the lost ADDs came back in the dump"
    );
    unload(&m);
    m.assert_clean();
}

/// A SAD too large for one dump: three tries, then C's behaviour
/// (UNKNOWN) rather than links reported down that may be up.
#[test]
fn sad_too_large_gives_up_tracking() {
    let m = Model::start();
    for n in 0..12_000u32 {
        ks::preload(Sa::tunnel(0x1000 + n, "10.9.0.1", "10.9.0.2", 7));
    }
    let i = setup(&m, 100);
    ks::run_tasks();
    let dumps = ks::take_sent().iter().filter(|x| x[1] == 10).count();
    assert_eq!(dumps, 3);
    assert_eq!(link(i), LINK_STATE_UNKNOWN);
    assert_eq!(media(i).0, EINVAL);
    unload(&m);
    m.assert_clean();
}

/// A VNET whose creator's credential is vnet0's (a jail created after
/// load) cannot have a socket of its own: untracked, C's behaviour; an
/// interface moved there turns UNKNOWN; back home it is DOWN (the move
/// deleted its tunnel, as C's ipsec_reassign does) until given one.
#[test]
fn vnet_move_and_untracked_jail() {
    let m = Model::start();
    let i = setup(&m, 100);
    both(100);
    let j = m.vnet_create();
    assert_eq!(ks::open_sockets(), 1, "no socket for the jail (EXDEV)");
    assert_eq!(kpi_model::ifnet::vmove(i, j as _), 0);
    assert_eq!(link(i), LINK_STATE_UNKNOWN);
    assert_eq!(kpi_model::ifnet::vmove_home(i, m.vnet0() as _), 0);
    assert_eq!(link(i), LINK_STATE_DOWN);
    assert_eq!(tunnel(i, ip(A), ip(B)), 0);
    assert_eq!(link(i), LINK_STATE_UP);
    m.vnet_destroy(j);
    unload(&m);
    m.assert_clean();
}

/// One SA event among 10,000 interfaces re-evaluates one interface.
#[test]
fn ten_thousand_interfaces_one_event_is_o1() {
    let m = Model::start();
    load(&m);
    ks::run_tasks();
    let mut last = 0;
    for n in 0..10_000u32 {
        let name = format!("ipsec{n}");
        let i = create(&name);
        let a = format!("10.{}.{}.1", n / 256, n % 256);
        assert_eq!(tunnel(i, ip(&a), ip("192.0.2.99")), 0);
        assert_eq!(set_reqid(&m, i, n + 1), 0);
        last = i;
    }
    let before = if_ipsec_kmod::glue::linkstate::evaluated(m.vnet0());
    ks::add(Sa::tunnel(0x100, "10.39.15.1", "192.0.2.99", 10_000));
    ks::add(Sa::tunnel(0x200, "192.0.2.99", "10.39.15.1", 10_000));
    ks::run_tasks();
    let after = if_ipsec_kmod::glue::linkstate::evaluated(m.vnet0());
    assert_eq!(after - before, 2, "two events, one interface each");
    assert_eq!(link(last), LINK_STATE_UP);
    unload(&m);
    m.assert_clean();
}
