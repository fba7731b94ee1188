//! The kmod crate's KPI wrappers, run against the model.
use if_ipsec::addr::{Addr, Family};
use if_ipsec::policy::{Dir, PolicyTemplate};
use if_ipsec_kmod::kpi::epoch::{epoch_wait, net_epoch, Sleepable};
use if_ipsec_kmod::kpi::epoch_slot::{Slot, Waited};
use if_ipsec_kmod::kpi::mbuf::Mbuf;
use if_ipsec_kmod::kpi::secpolicy::{process_packet, Registered, SpRef};
use if_ipsec_kmod::kpi::sx::{ConfigLock, SxLock};
use kpi_model::Model;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

fn pkt(bytes: &[u8]) -> Mbuf {
    // SAFETY: a fresh model packet we own.
    unsafe { Mbuf::from_raw(kpi_model::mbuf::packet(&[bytes])) }.unwrap_or_else(|| unreachable!())
}

#[test]
fn mbuf_drop_frees_exactly_once() {
    let m = Model::start();
    let p = pkt(&[0x45, 0, 0, 20]);
    let raw = p.as_ptr();
    drop(p);
    assert!(!kpi_model::mbuf::is_live(raw));
    m.assert_clean();
}

#[test]
fn mbuf_into_raw_hands_ownership_on() {
    let m = Model::start();
    let raw = pkt(&[0x60]).into_raw();
    assert!(kpi_model::mbuf::is_live(raw));
    kpi_model::mbuf::m_freem(raw);
    m.assert_clean();
}

/// if_ipsec.c ipsec_transmit reads the IP version from the first nibble;
/// mbuf.h m_clrprotoflags, M_SETFIB, m_tag_find.
#[test]
fn mbuf_accessors() {
    let m = Model::start();
    let raw = kpi_model::mbuf::packet(&[&[], &[0x62, 1, 2]]);
    // SAFETY: fresh packet.
    unsafe { (*raw).set_m_flags((*raw).m_flags() | sys_bindings::mbuf::M_PROTO1) };
    kpi_model::mbuf::add_tag(raw, 0, sys_bindings::mbuf::PACKET_TAG_IPSEC_OUT_DONE);
    // SAFETY: ours.
    let mut p = unsafe { Mbuf::from_raw(raw) }.unwrap_or_else(|| unreachable!());
    assert_eq!(
        (p.first_byte(), p.ip_version(), p.pkt_len()),
        (Some(0x62), Some(6), 3)
    );
    assert!(p.has_tag(sys_bindings::mbuf::PACKET_TAG_IPSEC_OUT_DONE));
    assert!(!p.has_tag(sys_bindings::mbuf::PACKET_TAG_IPSEC_IN_DONE));
    p.set_fib(3);
    p.clear_proto_flags();
    // SAFETY: still ours.
    assert_eq!(
        unsafe { (*raw).m_flags() } & sys_bindings::mbuf::M_PROTOFLAGS,
        0
    );
    assert_eq!(p.fib(), 3);
    drop(p);
    let empty = kpi_model::mbuf::packet(&[]);
    // SAFETY: fresh packet.
    let e = unsafe { Mbuf::from_raw(empty) }.unwrap_or_else(|| unreachable!());
    assert_eq!(e.first_byte(), None);
    drop(e);
    m.assert_clean();
}

fn tunnel() -> if_ipsec::endpoint::Tunnel {
    if_ipsec::endpoint::Tunnel::new(Addr::V4([192, 0, 2, 1]), Addr::V4([198, 51, 100, 7]))
        .unwrap_or_else(|_| unreachable!())
}

fn specs() -> if_ipsec::policy::PolicySet {
    let reqid = if_ipsec::reqid::Reqid::new(100).unwrap_or_else(|| unreachable!());
    PolicyTemplate::ROUTE_BASED.instantiate(&tunnel(), reqid, 7)
}

/// key.c key_addref/key_freesp balance through SpRef clone/drop.
#[test]
fn spref_clone_and_drop_balance() {
    let m = Model::start();
    let set = specs();
    let sp = SpRef::build(&set.specs[0]).unwrap_or_else(|_| unreachable!());
    let c = sp.clone();
    assert_eq!(sp.get().refcnt, 2);
    drop(c);
    assert_eq!(sp.get().refcnt, 1);
    drop(sp);
    m.assert_clean();
}

/// if_ipsec.c ipsec_newpolicies + key_register_ifnet: what setkey -DP shows.
#[test]
fn registered_policies_as_setkey_shows_them() {
    let m = Model::start();
    let set = specs();
    let sps = set
        .specs
        .map(|s| SpRef::build(&s).unwrap_or_else(|_| unreachable!()));
    let reg = Registered::register(sps).unwrap_or_else(|_| unreachable!());
    let spd = m.spd_ifnet();
    assert_eq!(spd.len(), 4);
    let inb: Vec<_> = spd.iter().filter(|v| v.dir == 1).collect();
    assert_eq!(inb.len(), 2);
    for v in &spd {
        assert_eq!(
            (v.scope, v.priority, v.policy, v.level, v.proto, v.mode, v.reqid, v.ul_proto),
            ("ifnet", 7, 2, 3, 50, 2, 100, 255)
        );
        assert_eq!((v.prefs, v.prefd), (0, 0));
    }
    let v4in = spd
        .iter()
        .find(|v| v.dir == 1 && v.family == 2)
        .unwrap_or_else(|| unreachable!());
    assert_eq!(
        v4in.sa_src,
        Some("198.51.100.7".parse().unwrap_or_else(|_| unreachable!()))
    );
    assert_eq!(
        v4in.sa_dst,
        Some("192.0.2.1".parse().unwrap_or_else(|_| unreachable!()))
    );
    let v6out = spd
        .iter()
        .find(|v| v.dir == 2 && v.family == 28)
        .unwrap_or_else(|| unreachable!());
    assert_eq!(
        (v6out.sa_len, v6out.sa_src),
        (
            28,
            Some("192.0.2.1".parse().unwrap_or_else(|_| unreachable!()))
        )
    );
    reg.withdraw();
    assert!(m.spd_ifnet().is_empty());
    m.assert_clean();
}

/// key_register_ifnet EAGAIN: the references are released.
#[test]
fn register_failure_releases_references() {
    let m = Model::start();
    kpi_model::ipsec::fail_register(Some(kpi_model::ipsec::EAGAIN));
    let sps = specs()
        .specs
        .map(|s| SpRef::build(&s).unwrap_or_else(|_| unreachable!()));
    assert_eq!(
        Registered::register(sps).err(),
        Some(kpi_model::ipsec::EAGAIN)
    );
    m.assert_clean();
}

/// key_newsp / ipsec_newisr failing (M_NOWAIT): ENOMEM, nothing leaked.
#[test]
fn spref_build_every_allocation_failing_once() {
    let m = Model::start();
    let spec = specs().specs[1];
    for n in 0..2 {
        m.fail_alloc_nth(n);
        assert_eq!(SpRef::build(&spec).err(), Some(12));
        m.fail_alloc_none();
        m.assert_clean();
    }
}

/// ipsec_output.c ipsec4/6_process_packet consume the mbuf and the
/// reference on every path, errors included.
#[test]
fn process_packet_consumes_both() {
    let m = Model::start();
    let set = specs();
    let sps = set
        .specs
        .map(|s| SpRef::build(&s).unwrap_or_else(|_| unreachable!()));
    let reg = Registered::register(sps).unwrap_or_else(|_| unreachable!());
    let mut s = Sleepable::here().unwrap_or_else(|| unreachable!());
    kpi_model::ipsec::queue_output_error(55);
    net_epoch(&mut s, |e| {
        let i = set.slot(Dir::Out, Family::Inet).unwrap_or(0);
        let sp = reg.get(i).unwrap_or_else(|| unreachable!()).clone();
        assert_eq!(
            process_packet(pkt(&[0x45, 1]), sp, Family::Inet, e),
            Err(55)
        );
        let j = set.slot(Dir::Out, Family::Inet6).unwrap_or(0);
        let sp = reg.get(j).unwrap_or_else(|| unreachable!()).clone();
        assert_eq!(
            process_packet(pkt(&[0x60, 2]), sp, Family::Inet6, e),
            Ok(())
        );
    });
    let sent = m.take_sent();
    assert_eq!(
        sent.iter()
            .map(|x| (x.ipv, x.policy.dir, x.policy.family, x.error))
            .collect::<Vec<_>>(),
        vec![(4, 2, 2, 55), (6, 2, 28, 0)]
    );
    drop(reg);
    m.assert_clean();
}

/// The epoch token: Sleepable is unavailable inside a section.
#[test]
fn no_sleepable_inside_the_epoch() {
    let m = Model::start();
    let mut s = Sleepable::here().unwrap_or_else(|| unreachable!());
    net_epoch(&mut s, |_| assert!(Sleepable::here().is_none()));
    assert!(Sleepable::here().is_some());
    epoch_wait(&mut s);
    m.assert_clean();
}

static LOCK: ConfigLock = ConfigLock::new(c"if_ipsec test config");
static SX: SxLock = SxLock::new(c"if_ipsec test sx");

/// The guard is the proof of holding; dropping it unlocks.
#[test]
fn config_lock_guard() {
    let m = Model::start();
    LOCK.init();
    let mut s = Sleepable::here().unwrap_or_else(|| unreachable!());
    {
        let _g = LOCK.lock(&mut s);
        assert!(LOCK.is_held());
        let t = std::thread::spawn(|| LOCK.is_held()).join().unwrap_or(true);
        assert!(!t, "another thread does not hold it");
    }
    assert!(!LOCK.is_held());
    LOCK.destroy();
    SX.init();
    drop(SX.xlock(&mut s));
    SX.destroy();
    m.assert_clean();
}

struct Counted(Arc<AtomicUsize>);
impl Drop for Counted {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

static RCU_LOCK: ConfigLock = ConfigLock::new(c"rcu test");

/// The old value is freed only after every reader section that could see
/// it has ended (epoch_wait_preempt).
#[test]
fn epoch_slot_frees_old_only_after_wait() {
    let m = Model::start();
    RCU_LOCK.init();
    let freed = Arc::new(AtomicUsize::new(0));
    let p: Arc<Slot<Counted>> = Arc::new(Slot::default());
    let mut s = Sleepable::here().unwrap_or_else(|| unreachable!());
    {
        let g = RCU_LOCK.lock(&mut s);
        assert!(p
            .publish(Some(Box::new(Counted(freed.clone()))), &g)
            .is_empty());
    }
    let (entered_tx, entered_rx) = std::sync::mpsc::channel();
    let (go_tx, go_rx) = std::sync::mpsc::channel::<()>();
    let reader = {
        let (p, freed) = (p.clone(), freed.clone());
        std::thread::spawn(move || {
            let mut s = Sleepable::here().unwrap_or_else(|| unreachable!());
            net_epoch(&mut s, |e| {
                let v = p.get(e).map(|c| Arc::as_ptr(&c.0));
                entered_tx.send(()).ok();
                go_rx.recv().ok();
                // still readable: not freed while we are inside
                assert_eq!(freed.load(Ordering::SeqCst), 0);
                v.is_some()
            })
        })
    };
    entered_rx.recv().ok();
    let writer = {
        let p = p.clone();
        std::thread::spawn(move || {
            let mut s = Sleepable::here().unwrap_or_else(|| unreachable!());
            let mut g = RCU_LOCK.lock(&mut s);
            let old = p.publish(None, &g);
            let w = Waited::wait(&mut s);
            assert!(old.free(&w, &mut g).is_ok());
        })
    };
    std::thread::sleep(std::time::Duration::from_millis(50));
    assert_eq!(
        freed.load(Ordering::SeqCst),
        0,
        "freed while a reader was inside"
    );
    go_tx.send(()).ok();
    assert!(reader.join().unwrap_or(false));
    writer.join().ok();
    assert_eq!(freed.load(Ordering::SeqCst), 1);
    assert!(m.epoch_counts().0 >= 1);
    RCU_LOCK.destroy();
    m.assert_clean();
}

/// A batch wait protects only values retired before it started.
#[test]
fn epoch_slot_waited_is_ordered() {
    let m = Model::start();
    RCU_LOCK.init();
    let freed = Arc::new(AtomicUsize::new(0));
    let p: Slot<Counted> = Slot::default();
    let mut s = Sleepable::here().unwrap_or_else(|| unreachable!());
    let mut g = RCU_LOCK.lock(&mut s);
    let _ = p.publish(Some(Box::new(Counted(freed.clone()))), &g);
    let early = Waited::wait(&mut s);
    let old = p.publish(None, &g);
    let old = old
        .free(&early, &mut g)
        .err()
        .unwrap_or_else(|| unreachable!());
    let late = Waited::wait(&mut s);
    assert!(old.free(&late, &mut g).is_ok());
    drop(g);
    assert_eq!(freed.load(Ordering::SeqCst), 1);
    RCU_LOCK.destroy();
    m.assert_clean();
}
