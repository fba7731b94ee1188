//! Cloner, ifnet, bpf, input hook, srcaddr and VNET wrappers of the kmod
//! crate, driven through the model the way the kernel drives them.
use if_ipsec::addr::{Addr, Family};
use if_ipsec_kmod::kpi::clone::{CloneParams, Cloner, ClonerReg, Owned};
use if_ipsec_kmod::kpi::encap::{SrcaddrHandler, SrcaddrReg};
use if_ipsec_kmod::kpi::epoch::{InEpoch, Sleepable};
use if_ipsec_kmod::kpi::hhook::{InPacket, InputHook, IpsecInput};
use if_ipsec_kmod::kpi::if_handler::{IfHandler, IoctlData, OurIfnet};
use if_ipsec_kmod::kpi::ifnet::{Counter, DrvFlags, IfFlags, IfnetOwner};
use if_ipsec_kmod::kpi::mbuf::Mbuf;
use if_ipsec_kmod::kpi::sx::ConfigLock;
use if_ipsec_kmod::kpi::vnet::{with_vnet, CurVnet, VnetHandle, VnetVar};
use kpi_model::ipsec::{InputOutcome, SaSpec};
use kpi_model::Model;
use std::ffi::{c_int, c_ulong, CStr};
use std::sync::atomic::{AtomicU32, AtomicUsize, Ordering};
use std::sync::Mutex;

struct Toy;
struct ToySoftc {
    reqid: u32,
}

/// _IOW('i', 34, struct ifreq): SIOCSIFMTU (sys/sys/sockio.h).
const SIOCSIFMTU: c_ulong = 0x8020_6922;

impl IfHandler for Toy {
    type Softc = ToySoftc;
    fn ioctl(
        ifp: OurIfnet<'_, ToySoftc>,
        cmd: c_ulong,
        data: IoctlData,
        _s: &mut Sleepable,
    ) -> Result<(), c_int> {
        match cmd {
            SIOCSIFMTU => {
                let b = data.bytes();
                let mtu = b
                    .get(16..20)
                    .map_or(0, |x| u32::from_ne_bytes([x[0], x[1], x[2], x[3]]));
                ifp.set_mtu(mtu);
                Ok(())
            }
            _ => Err(22),
        }
    }
    fn transmit(ifp: OurIfnet<'_, ToySoftc>, m: Mbuf, e: &InEpoch) -> Result<(), c_int> {
        if ifp.softc(e).is_none() {
            return Err(6);
        }
        if_ipsec_kmod::kpi::bpf::tap_af(&ifp, 2, &m);
        ifp.inc_counter(Counter::OPackets, 1);
        ifp.inc_counter(Counter::OBytes, u64::from(m.pkt_len()));
        drop(m);
        Ok(())
    }
}

static LOCK: ConfigLock = ConfigLock::new(c"toy config");
static CREATED: Mutex<Vec<usize>> = Mutex::new(Vec::new());

impl Cloner for Toy {
    type If = Toy;
    fn matches(name: &CStr) -> bool {
        name.to_bytes().starts_with(b"toy")
    }
    fn create(
        name: &CStr,
        params: CloneParams<'_>,
        s: &mut Sleepable,
    ) -> Result<Owned<Toy>, c_int> {
        let unit: i32 = std::str::from_utf8(&name.to_bytes()[3..])
            .ok()
            .and_then(|u| u.parse().ok())
            .unwrap_or(0);
        let reqid = if params.has_params() {
            u32::from_ne_bytes(params.copyin::<4>(s)?)
        } else {
            0
        };
        let mut o = IfnetOwner::new::<Toy>(s, 0x83, c"toy", unit, Box::new(ToySoftc { reqid }))?;
        o.set_flag_bits(IfFlags::POINTOPOINT | IfFlags::MULTICAST, IfFlags::empty());
        o.set_mtu(1400);
        o.attach(s);
        if_ipsec_kmod::kpi::bpf::attach_dlt_null(&o, s);
        // test bookkeeping, not module memory
        kpi_model::malloc::untracked(|| {
            CREATED
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push(o.as_ptr() as usize)
        });
        Ok(o)
    }
    fn destroy(ifp: Owned<Toy>, _flags: u32, s: &mut Sleepable) -> Result<(), (Owned<Toy>, c_int)> {
        let g = LOCK.lock(s);
        let sc = ifp.destroy(g, s);
        assert!(sc.reqid < 1000);
        Ok(())
    }
}

fn sleepable() -> Sleepable {
    Sleepable::here().unwrap_or_else(|| unreachable!())
}

/// The toy cloner, attached as module code.
fn attach_toy(m: &Model, s: &mut Sleepable) -> ClonerReg<Toy> {
    m.module(|| ClonerReg::<Toy>::attach(c"toy", s))
        .unwrap_or_else(|_| unreachable!())
}

/// if_clone.c: create by name, EEXIST when taken, destroy by if_dname,
/// group = cloner name, ifc_detach_cloner destroys what is left.
#[test]
fn cloner_create_destroy_and_detach() {
    let m = Model::start();
    LOCK.init();
    let mut s = sleepable();
    let reg = attach_toy(&m, &mut s);
    assert_eq!(
        m.module(|| ClonerReg::<Toy>::attach(c"toy", &mut s)).err(),
        Some(17)
    );
    let ua = m.user_alloc(&42u32.to_ne_bytes());
    assert_eq!(m.ifconfig_create("toy0", ua), Ok("toy0".to_owned()));
    assert_eq!(m.ifconfig_create("toy0", 0), Err(17));
    assert_eq!(m.ifconfig_create("toy1", 0), Ok("toy1".to_owned()));
    let i = m.ifnet("toy0").unwrap_or_else(|| unreachable!());
    assert_eq!(
        (i.dname.as_str(), i.mtu, i.groups.clone(), i.bpf),
        (
            "toy",
            1400,
            vec!["all".to_owned(), "toy".to_owned()],
            Some((0, 4))
        )
    );
    assert_eq!(i.flags & 0x8010, 0x8010);
    assert_eq!(m.ifconfig_destroy("toy0"), 0);
    assert!(m.ifnet("toy0").is_none());
    assert_eq!(m.ifconfig_destroy("toy0"), 6);
    reg.detach(&mut s); // destroys toy1
    assert!(m.ifnets().is_empty());
    LOCK.destroy();
    m.assert_clean();
}

/// Our cloner, attached after a stock one, is found first (LIST_INSERT_HEAD).
#[test]
fn newest_cloner_matches_first() {
    let m = Model::start();
    LOCK.init();
    let mut s = sleepable();
    m.add_stock_cloner("toy");
    // same name refused (if_clone_attach EEXIST) ...
    assert!(m
        .module(|| ClonerReg::<Toy>::attach(c"toy", &mut s))
        .is_err());
    // ... so a distinct name whose match claims toyN
    let reg = m
        .module(|| ClonerReg::<Toy>::attach(c"toyrs", &mut s))
        .unwrap_or_else(|_| unreachable!());
    assert_eq!(m.cloners(), vec!["toyrs".to_owned(), "toy".to_owned()]);
    CREATED.lock().unwrap_or_else(|e| e.into_inner()).clear();
    assert_eq!(m.ifconfig_create("toy3", 0), Ok("toy3".to_owned()));
    assert_eq!(
        CREATED.lock().unwrap_or_else(|e| e.into_inner()).len(),
        1,
        "ours created it"
    );
    drop(reg);
    LOCK.destroy();
    m.assert_clean();
}

/// if_ioctl and if_transmit trampolines; BPF DLT_NULL tap; counters.
#[test]
fn ioctl_transmit_bpf_counters() {
    let m = Model::start();
    LOCK.init();
    let mut s = sleepable();
    let reg = attach_toy(&m, &mut s);
    assert!(m.ifconfig_create("toy0", 0).is_ok());
    let mut ifr = [0u8; 32];
    ifr[16..20].copy_from_slice(&1300u32.to_ne_bytes());
    assert_eq!(m.ioctl("toy0", SIOCSIFMTU, &mut ifr), 0);
    assert_eq!(m.ifnet("toy0").map(|i| i.mtu), Some(1300));
    assert_eq!(m.ioctl("toy0", 0xc020_69ff, &mut ifr), 22);
    // ifhwioctl SIOCSIFMTU / SIOCSIFFLAGS semantics
    assert_eq!(m.ifconfig_mtu("toy0", 71), 22);
    assert_eq!(m.ifconfig_mtu("toy0", 1280), 0);
    assert_eq!(m.ifnet("toy0").map(|i| i.mtu), Some(1280));
    m.deny_priv(kpi_model::ifnet::PRIV_NET_SETIFMTU);
    assert_eq!(m.ifconfig_mtu("toy0", 1300), 1);
    assert_eq!(m.ifconfig_flags("toy0", 0x1, 0), 0);
    assert_eq!(m.ifnet("toy0").map(|i| i.flags & 0x8011), Some(0x8011));
    assert_eq!(
        m.ifconfig_flags("toy0", 0, 0x8010),
        0,
        "IFF_CANTCHANGE bits stay"
    );
    assert_eq!(m.ifnet("toy0").map(|i| i.flags & 0x8011), Some(0x8011));
    m.bpf_listen("toy0", true);
    assert_eq!(m.transmit("toy0", &[0x45, 0, 0, 5, 9]), 0);
    let taps = m.bpf_taps("toy0");
    assert_eq!(
        taps,
        vec![(2u32.to_ne_bytes().to_vec(), vec![0x45, 0, 0, 5, 9])]
    );
    let c = m.ifnet("toy0").map(|i| i.counters).unwrap_or_default();
    assert_eq!((c[2], c[6]), (1, 5));
    let (_, allocs_in_epoch) = m.epoch_counts();
    assert_eq!(allocs_in_epoch, 0, "no allocation on the packet path");
    drop(reg);
    LOCK.destroy();
    m.assert_clean();
}

struct Claim;
static CLAIM_IFP: AtomicUsize = AtomicUsize::new(0);
impl IpsecInput for Claim {
    fn input(mut pkt: InPacket<'_>, _e: &InEpoch) {
        let Some((50, 2, reqid)) = pkt.sa_kind() else {
            return;
        };
        match reqid {
            7 => {
                let ifp = CLAIM_IFP.load(Ordering::SeqCst);
                // SAFETY: a live test ifnet (kpi-model tests may use unsafe).
                let ifp = unsafe { if_ipsec_kmod::kpi::ifnet::Ifnet::from_ptr(ifp as *mut _) };
                pkt.claim(ifp);
            }
            8 => pkt.consume(),
            _ => {}
        }
    }
}

/// ipsec_run_hhooks(IPSEC_IN, IPSEC_ENC_AFTER): claim (rcvif + fib +
/// protoflags), consume (*mp = NULL), or leave untouched.
#[test]
fn input_hook_claims_consumes_or_passes() {
    let m = Model::start();
    LOCK.init();
    let mut s = sleepable();
    let reg = attach_toy(&m, &mut s);
    assert!(m.ifconfig_create("toy0", 0).is_ok());
    let ifp = m.ifnet("toy0").map_or(0, |i| i.addr);
    CLAIM_IFP.store(ifp, Ordering::SeqCst);
    let cv = CurVnet::current().unwrap_or_else(|| unreachable!());
    let h4 = m
        .module(|| InputHook::add::<Claim>(Family::Inet, &cv, &mut s))
        .unwrap_or_else(|_| unreachable!());
    let a = "192.0.2.1".parse().unwrap_or_else(|_| unreachable!());
    let b = "198.51.100.7".parse().unwrap_or_else(|_| unreachable!());
    match m.ipsec_input(4, &[0x45, 1], &SaSpec::esp_tunnel(a, b, 7)) {
        InputOutcome::Delivered(d) => assert_eq!((d.rcvif, d.bytes), (ifp, vec![0x45, 1])),
        o => panic!("{o:?}"),
    }
    assert_eq!(
        m.ipsec_input(4, &[0x45, 2], &SaSpec::esp_tunnel(a, b, 8)),
        InputOutcome::Consumed
    );
    match m.ipsec_input(4, &[0x45, 3], &SaSpec::esp_tunnel(a, b, 9)) {
        InputOutcome::Delivered(d) => assert_eq!(d.rcvif, 0),
        o => panic!("{o:?}"),
    }
    // v6 inner: no hook on that head
    assert!(
        matches!(m.ipsec_input(6, &[0x60], &SaSpec::esp_tunnel(a, b, 7)), InputOutcome::Delivered(ref d) if d.rcvif == 0)
    );
    drop(h4);
    drop(reg);
    LOCK.destroy();
    m.assert_clean();
}

struct Src;
static SEEN: Mutex<Vec<(Addr, bool, bool)>> = Mutex::new(Vec::new());
impl SrcaddrHandler for Src {
    fn event(addr: Addr, added: bool, e: &InEpoch) {
        let local = if_ipsec_kmod::kpi::inet::is_local(&addr, e);
        kpi_model::malloc::untracked(|| {
            SEEN.lock()
                .unwrap_or_else(|x| x.into_inner())
                .push((addr, added, local))
        });
    }
}

/// ip_encap_register_srcaddr: callbacks inside the epoch on address
/// add/delete; in_localip follows; unregister on drop.
#[test]
fn srcaddr_events() {
    let m = Model::start();
    let mut s = sleepable();
    let r4 = m
        .module(|| SrcaddrReg::register::<Src>(false, &mut s))
        .unwrap_or_else(|_| unreachable!());
    let r6 = m
        .module(|| SrcaddrReg::register::<Src>(true, &mut s))
        .unwrap_or_else(|_| unreachable!());
    SEEN.lock().unwrap_or_else(|x| x.into_inner()).clear();
    m.addr_add("192.0.2.1".parse().unwrap_or_else(|_| unreachable!()));
    m.addr_del("192.0.2.1".parse().unwrap_or_else(|_| unreachable!()));
    m.addr_add("2001:db8::1".parse().unwrap_or_else(|_| unreachable!()));
    let seen = SEEN.lock().unwrap_or_else(|x| x.into_inner()).clone();
    assert_eq!(seen.len(), 3);
    assert_eq!(seen[0], (Addr::V4([192, 0, 2, 1]), true, true));
    assert_eq!(seen[1], (Addr::V4([192, 0, 2, 1]), false, false));
    assert!(seen[2].1 && seen[2].2);
    drop(r4);
    drop(r6);
    m.assert_clean();
}

if_ipsec_kmod::vnet_define! {
    static PER_VNET: AtomicU32 = AtomicU32::new(5);
}

/// VNET_DEFINE + CURVNET_SET: each vnet has its own copy, initialised from
/// the master image.
#[test]
fn vnet_variables_are_per_vnet() {
    let m = Model::start();
    let v1 = m.vnet_create();
    let v0 = VnetHandle::from_test(m.vnet0());
    let v1h = VnetHandle::from_test(v1);
    with_vnet(v0, |cv| PER_VNET.get(cv).store(10, Ordering::SeqCst));
    with_vnet(v1h, |cv| {
        assert_eq!(PER_VNET.get(cv).load(Ordering::SeqCst), 5)
    });
    with_vnet(v1h, |cv| PER_VNET.get(cv).store(11, Ordering::SeqCst));
    with_vnet(v0, |cv| {
        assert_eq!(PER_VNET.get(cv).load(Ordering::SeqCst), 10)
    });
    assert_eq!(CurVnet::current().map(|c| c.vnet().addr()), Some(m.vnet0()));
    m.set_numfibs(4);
    with_vnet(v0, |cv| {
        assert_eq!(if_ipsec_kmod::kpi::vnet::rt_numfibs(cv), 4)
    });
    with_vnet(v1h, |cv| {
        assert_eq!(if_ipsec_kmod::kpi::vnet::rt_numfibs(cv), 1)
    });
    m.vnet_destroy(v1);
    m.assert_clean();
}

#[allow(dead_code)]
fn _unused(_: VnetVar<AtomicU32>, _: DrvFlags) {}

/// if.c if_vmove_loan / if_vmove / vnet_if_return: a moved interface lives
/// in the target vnet (groups restored), EEXIST for the same vnet, and
/// comes home when that vnet is destroyed.
#[test]
fn vmove_and_return_home() {
    let m = Model::start();
    m.add_stock_cloner("stk");
    assert_eq!(m.ifconfig_create("stk", 0), Ok("stk0".to_owned()));
    let v1 = m.vnet_create();
    assert_eq!(m.if_vmove("stk0", m.vnet0()), 17);
    assert_eq!(m.if_vmove("stk0", v1), 0);
    assert!(m.ifnet("stk0").is_none());
    let moved = m.in_vnet(v1, || m.ifnet("stk0")).unwrap_or_default();
    assert_eq!(
        (moved.groups.clone(), moved.home_vnet),
        (vec!["all".to_owned(), "stk".to_owned()], m.vnet0())
    );
    m.vnet_destroy(v1);
    assert!(m.ifnet("stk0").is_some(), "returned home by vnet_if_return");
    assert_eq!(m.ifconfig_destroy("stk0"), 0);
    m.assert_clean();
}
