//! Link state that follows the SAs (issue 11; C if_ipsec leaves it
//! LINK_STATE_UNKNOWN).
//!
//! Per VNET, a PF_KEY socket ([`KeyWatch`]) receives what the key layer
//! broadcasts (SADB_ADD/UPDATE/DELETE/FLUSH, and SADB_EXPIRE once
//! registered); its task, on taskqueue_thread, takes the config lock,
//! feeds each message to the VNET's [`SaBook`] and re-evaluates only the
//! interface owning the reqid the message names (O(1): the reqid space
//! maps reqid -> interface), or all of them after a flush or resync.  A
//! change goes through if_link_state_change (RTM_IFINFO, devd LINK_UP /
//! LINK_DOWN, routing daemons).  Configuration changes (tunnel, reqid,
//! flags) re-evaluate their interface under the same lock.
//!
//! Resynchronisation: SADB_DUMP at start (SAs that predate the module)
//! and whenever the socket reports an overflow (messages were lost).
//!
//! Where the watch cannot be opened (a VNET whose creator's credential is
//! of another VNET: jails created after load, see kpi::keysock), the VNET
//! has no tracking and its interfaces keep C's behaviour.
use alloc::vec::Vec;
use core::ffi::c_int;
use core::sync::atomic::{AtomicBool, AtomicU32, Ordering};

use spin::Mutex;

use super::state::{locked, VnetState, CONFIG};
use crate::kpi::epoch::Sleepable;
use crate::kpi::ifnet::{IfFlags, Ifnet};
use crate::kpi::keysock::{KeyHandler, KeyPort, KeyWatch, Recv};
use crate::kpi::sx::ConfigGuard;
use crate::kpi::vnet::{with_vnet, CurVnet, VnetHandle};
use if_ipsec::reqid::Reqid;
use if_ipsec::sabook::{Link, SaBook, Touched};
use if_ipsec::sadb;
use if_ipsec::tables::{IfHandle, MapSlots};
use sys_bindings::errno::ENOMEM;
use sys_bindings::ifnet::{LINK_STATE_DOWN, LINK_STATE_UNKNOWN, LINK_STATE_UP};
use sys_bindings::net::pfkeyv2::{SADB_DUMP, SADB_REGISTER, SADB_SATYPE_ESP};

/// Largest message read (key.c builds replies in one cluster or less;
/// SADB_DUMP entries with keys and NAT-T stay well under this).
const MSG_MAX: usize = 4096;
/// Messages handled per task run before yielding the lock and the
/// taskqueue thread (the task queues itself again).
const BATCH: usize = 256;
/// Dumps that overflowed the socket in a row before tracking gives up
/// in this VNET (the SAD is larger than the receive buffer holds).
const RESYNC_TRIES: u32 = 3;

/// One VNET's link-state tracking.
pub struct LinkState {
    /// The SAs the key layer announced (config lock).
    pub book: Mutex<SaBook>,
    /// The socket and its task.
    pub watch: Mutex<Option<KeyWatch<Watcher>>>,
    /// Tracked here: set before the watch opens (its first run may come
    /// before it is stored), cleared when it fails or goes.
    tracked: AtomicBool,
}

impl LinkState {
    /// Nothing known, no socket yet.
    pub fn new(seed: u64) -> Result<LinkState, c_int> {
        Ok(LinkState {
            book: Mutex::new(SaBook::new(seed).map_err(|e| e.get())?),
            watch: Mutex::new(None),
            tracked: AtomicBool::new(false),
        })
    }

    /// Is this VNET tracked?
    pub fn tracked(&self) -> bool {
        self.tracked.load(Ordering::Acquire)
    }

    /// Stop tracking; the watch to drop (without the config lock: its
    /// task takes it).
    pub fn take(&self) -> Option<KeyWatch<Watcher>> {
        self.tracked.store(false, Ordering::Release);
        self.watch.lock().take()
    }
}

/// The task's state.
pub struct Watcher {
    buf: Mutex<Vec<u8>>,
    registered: AtomicBool,
    seq: AtomicU32,
    /// Dumps in a row that overflowed.
    failed: AtomicU32,
    /// Interfaces re-evaluated (the O(1) claim's evidence: [`evaluated`]).
    evaluated: AtomicU32,
}

impl Watcher {
    fn new() -> Result<Watcher, c_int> {
        let mut v = Vec::new();
        v.try_reserve_exact(MSG_MAX).map_err(|_| ENOMEM)?;
        v.resize(MSG_MAX, 0);
        Ok(Watcher {
            buf: Mutex::new(v),
            registered: AtomicBool::new(false),
            seq: AtomicU32::new(1),
            failed: AtomicU32::new(0),
            evaluated: AtomicU32::new(0),
        })
    }

    /// SADB_REGISTER for ESP (SADB_EXPIRE goes to registered sockets
    /// only: keysock.c KEY_SENDUP_REGISTERED), then the first dump.
    fn start(&self, port: &KeyPort<'_>, book: &mut SaBook) {
        if self.registered.swap(true, Ordering::Relaxed) {
            return;
        }
        let seq = self.seq.fetch_add(1, Ordering::Relaxed);
        if let Err(e) = port.send(&sadb::request(SADB_REGISTER, SADB_SATYPE_ESP, seq)) {
            crate::kprintln!(
                "if_ipsec: PF_KEY register failed (errno {}): no SA expiry events",
                e
            );
        }
        self.resync(port, book);
    }

    /// Ask for every SA; the replies replace the book.
    fn resync(&self, port: &KeyPort<'_>, book: &mut SaBook) {
        book.resync_requested();
        let seq = self.seq.fetch_add(1, Ordering::Relaxed);
        if let Err(e) = port.send(&sadb::request(SADB_DUMP, SADB_SATYPE_ESP, seq)) {
            crate::kprintln!("if_ipsec: PF_KEY dump failed (errno {})", e);
        }
    }
}

impl KeyHandler for Watcher {
    fn ready(&self, port: &KeyPort<'_>, cv: &CurVnet, s: &mut Sleepable) {
        let g = CONFIG.lock(s);
        let Some(st) = locked(cv, &g) else {
            return;
        };
        let mut book = st.link.book.lock();
        self.start(port, &mut book);
        let mut buf = self.buf.lock();
        // One reqid is evaluated at once; "all" once, at the end.
        let mut all = false;
        let mut drained = false;
        for _ in 0..BATCH {
            let Some(t) = self.read_one(st, port, &mut book, &mut buf) else {
                drained = true;
                break;
            };
            match t {
                Touched::All => all = true,
                Touched::Reqid(_) if !all => touch(st, t, &book, &g, &self.evaluated),
                _ => {}
            }
        }
        if all {
            touch(st, Touched::All, &book, &g, &self.evaluated);
        }
        if !drained {
            // More may be waiting: let others in, then go on.
            st.link.watch.lock().iter().for_each(|w| w.kick());
        }
    }
}

impl Watcher {
    /// Read and learn one message; None when nothing is waiting.
    fn read_one(
        &self,
        st: &VnetState,
        port: &KeyPort<'_>,
        book: &mut SaBook,
        buf: &mut [u8],
    ) -> Option<Touched> {
        Some(match port.recv(buf) {
            Recv::Msg(n) => {
                let was = book.resyncing();
                match buf.get(..n).and_then(sadb::parse).map(|m| book.apply(&m)) {
                    Some(Ok(t)) => {
                        if was && !book.resyncing() {
                            self.failed.store(0, Ordering::Relaxed);
                        }
                        t
                    }
                    Some(Err(_)) => {
                        self.resync(port, book);
                        Touched::Nothing
                    }
                    None => Touched::Nothing,
                }
            }
            Recv::Overflow => self.overflowed(st, port, book),
            Recv::TooLong => Touched::Nothing,
            Recv::Empty | Recv::Failed(_) => return None,
        })
    }

    /// Messages were lost: resync; if dumps themselves keep overflowing
    /// (a SAD larger than the buffer: SADB_DUMP replies all at once,
    /// key.c key_dump), stop tracking here rather than report links
    /// down that may be up: every interface goes UNKNOWN, as C.
    fn overflowed(&self, st: &VnetState, port: &KeyPort<'_>, book: &mut SaBook) -> Touched {
        if book.resyncing() && self.failed.fetch_add(1, Ordering::Relaxed) + 1 >= RESYNC_TRIES {
            crate::kprintln!(
                "if_ipsec: the SAD does not fit a PF_KEY dump ({} SAs read): link state not tracked in this VNET",
                book.len()
            );
            st.link.tracked.store(false, Ordering::Release);
            return Touched::All;
        }
        self.resync(port, book);
        Touched::Nothing
    }
}

/// Re-evaluate what `t` names.
fn touch(st: &VnetState, t: Touched, book: &SaBook, g: &ConfigGuard<'_>, n: &AtomicU32) {
    let core = st.core.lock();
    let one = |h: IfHandle| {
        n.fetch_add(1, Ordering::Relaxed);
        apply_one(st, &core, h, book, g);
    };
    match t {
        Touched::Nothing => {}
        Touched::Reqid(r) => {
            if let Some(h) = Reqid::new(r).and_then(|r| core.reqids().owner(r)) {
                one(h);
            }
        }
        Touched::All => core.iter().map(|s| s.handle).for_each(one),
    }
}

fn apply_one(
    st: &VnetState,
    core: &if_ipsec::vnet::Vnet,
    h: IfHandle,
    book: &SaBook,
    g: &ConfigGuard<'_>,
) {
    let ifs = st.tables.ifs.locked(g);
    let Some(o) = ifs.lookup(&h) else {
        return;
    };
    let ifp = o.get_locked(g);
    if ifp.flags().contains(IfFlags::LINK2) {
        st.df_copy_seen.store(true, Ordering::Relaxed);
    }
    let s = core.state(h);
    let link = link_of(ifp, s, book, st.link.tracked());
    set(ifp, link);
    // The outbound SA's transform sizes PMTU feedback (issue 12).
    let xf = s
        .and_then(|s| Some((s.tunnel?, s.reqid?)))
        .and_then(|(t, r)| book.transform(r.get(), t.src(), t.dst()));
    if let Some(sc) = o.softc_locked(g) {
        sc.path.set_transform(xf);
    }
}

/// What the interface's state should be.
fn link_of(
    ifp: &Ifnet,
    s: Option<&if_ipsec::iface::IfState>,
    book: &SaBook,
    tracked: bool,
) -> Link {
    if !tracked || ifp.flags().contains(IfFlags::LINK0) {
        return Link::Unknown;
    }
    match s {
        Some(s) => book.link(s.tunnel, s.reqid),
        None => Link::Down,
    }
}

fn set(ifp: &Ifnet, l: Link) {
    ifp.link_state_change(match l {
        Link::Unknown => LINK_STATE_UNKNOWN,
        Link::Down => LINK_STATE_DOWN,
        Link::Up => LINK_STATE_UP,
    });
}

/// After a configuration change of `h` (tunnel, reqid, flags, create,
/// arrival from another VNET): its state from the book.
pub fn refresh(st: &VnetState, h: IfHandle, g: &ConfigGuard<'_>) {
    let core = st.core.lock();
    let book = st.link.book.lock();
    apply_one(st, &core, h, &book, g);
}

/// SIOCGIFMEDIA: `Some(up)` when tracked (and not opted out), else None
/// (EINVAL, as C).
pub fn media(st: &VnetState, ifp: &Ifnet, h: IfHandle, _g: &ConfigGuard<'_>) -> Option<bool> {
    let core = st.core.lock();
    let book = st.link.book.lock();
    match link_of(ifp, core.state(h), &book, st.link.tracked()) {
        Link::Unknown => None,
        l => Some(l == Link::Up),
    }
}

/// Open this VNET's watch (VNET init).  EXDEV (a VNET whose creator is
/// elsewhere) leaves it untracked quietly.
pub fn open(st: &VnetState, cv: &CurVnet, s: &mut Sleepable) {
    st.link.tracked.store(true, Ordering::Release);
    let w = Watcher::new().and_then(|w| KeyWatch::open(w, cv, s));
    if w.is_err() {
        st.link.tracked.store(false, Ordering::Release);
    }
    match w {
        Ok(w) => *st.link.watch.lock() = Some(w),
        Err(sys_bindings::errno::EXDEV) => {}
        Err(e) => crate::kprintln!(
            "if_ipsec: PF_KEY socket failed (errno {}): link state not tracked here",
            e
        ),
    }
}

/// Interfaces the task of VNET `v` has re-evaluated (tests, benchmarks).
pub fn evaluated(v: usize) -> u32 {
    let (Some(vh), Some(mut s)) = (VnetHandle::from_addr(v), Sleepable::here()) else {
        return 0;
    };
    with_vnet(vh, |cv| {
        let g = CONFIG.lock(&mut s);
        let st = locked(cv, &g);
        let w = st.map(|st| st.link.watch.lock());
        let n = w
            .as_ref()
            .and_then(|w| w.as_ref())
            .map_or(0, |w| w.handler().evaluated.load(Ordering::Relaxed));
        drop(w);
        n
    })
}
