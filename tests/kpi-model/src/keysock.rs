//! PF_KEY sockets (keysock.c), the SAD messages key.c sends them, the
//! receive-buffer mutex and taskqueue_thread.
//!
//! FreeBSD 14.2 (b66633d79ade):
//! - uipc_socket.c socreate: the socket's VNET is CRED_TO_VNET(cred) (the
//!   model: [`set_cred_vnet`], default vnet0, as root on the host);
//!   soupcall_set/clear assert the buffer's lock (SOCK_BUF_LOCK_ASSERT);
//!   soreceive(MSG_DONTWAIT): the queued records, then a pending
//!   so_rerror (returned once), then EWOULDBLOCK; with mp0 the record's chain is handed
//!   over.
//! - keysock.c key_sendup0: append if it fits (key_recvspace 8192 unless
//!   soreserve'd), else drop, and with SO_RERROR set so_rerror = ENOBUFS
//!   (uipc_sockbuf.c soroverflow_locked); then the upcall, with the
//!   buffer's mutex held.  KEY_SENDUP_ALL / REGISTERED as key_sendup_mbuf.
//! - key.c: ADD/UPDATE echo SA, X_SA2, addresses (ALL); DELETE: SA +
//!   addresses, no X_SA2 (ALL); key_delete_all: addresses only; FLUSH:
//!   the header; EXPIRE (REGISTERED): SA with the state, X_SA2, hard or
//!   soft lifetime, addresses, sent after a hard-expired SA is unlinked;
//!   DUMP (to the asker): every LARVAL/MATURE/DYING SA, seq counting down
//!   to 0, or an ENOENT error reply when there is none; REGISTER replies
//!   to the registering socket.
//! - subr_taskqueue.c: taskqueue_enqueue of a queued task bumps
//!   ta_pending; taskqueue_drain waits for it.  The model's queue runs
//!   when a test calls [`run_tasks`] (the taskqueue thread); drain runs
//!   the drained task in the caller (same outcome as waiting for it), so
//!   a caller holding a lock the task takes is caught by the sx model.
//!   A task still queued at the end of a test is reported (its code and
//!   context may be gone: the kernel would run freed memory).
use crate::check::{violation, ViolationKind};
use crate::malloc::untracked;
use std::collections::{HashMap, VecDeque};
use std::ffi::{c_char, c_int, c_void};
use std::net::IpAddr;
use std::sync::Mutex;
use sys_bindings::mbuf::mbuf;
use sys_bindings::net::pfkeyv2::*;
use sys_bindings::socket::{
    socket, sockopt, task, taskqueue, uio, MSG_DONTWAIT, MTX_LOCK_OFFSET, SIZEOF_SOCKET,
    SO_RCV_MTX_OFFSET, SO_RERROR, SO_VNET_OFFSET,
};

const EWOULDBLOCK: c_int = 35;
const ENOBUFS: c_int = 55;
const ENOENT: u8 = 2;
const KEY_RECVSPACE: usize = 8192;

/// One SA of the model's SAD.
#[derive(Clone, Debug)]
pub struct Sa {
    pub spi: u32,
    pub src: IpAddr,
    pub dst: IpAddr,
    /// Outer ports (NAT-T), 0 without.
    pub sport: u16,
    pub dport: u16,
    pub reqid: u32,
    pub mode: u8,
    pub state: u8,
    pub vnet: usize,
    /// `sadb_sa_encrypt` / `sadb_sa_auth` as the IKE daemon set them
    /// (key.c echoes the request's SA extension).
    pub enc: u8,
    pub auth: u8,
}

impl Sa {
    /// ESP, tunnel mode, MATURE, in vnet0.
    pub fn tunnel(spi: u32, src: &str, dst: &str, reqid: u32) -> Sa {
        Sa {
            spi,
            src: src.parse().unwrap_or(IpAddr::from([0, 0, 0, 0])),
            dst: dst.parse().unwrap_or(IpAddr::from([0, 0, 0, 0])),
            sport: 0,
            dport: 0,
            reqid,
            mode: 2,
            state: 1,
            vnet: crate::vnet::vnet0_ptr() as usize,
            enc: 12, // SADB_X_EALG_AESCBC
            auth: 5, // SADB_X_AALG_SHA2_256
        }
    }
}

struct Sock {
    vnet: usize,
    rcv: VecDeque<Vec<u8>>,
    bytes: usize,
    space: usize,
    rerror_opt: bool,
    rerror: c_int,
    upcall: Option<(usize, usize)>,
    registered: bool,
    mem: Box<[u64]>,
}

#[derive(Default)]
struct World {
    socks: HashMap<usize, Sock>,
    sad: Vec<Sa>,
    queue: VecDeque<usize>,
    locks: HashMap<usize, u64>,
    cred_vnet: Option<usize>,
    sent: Vec<Vec<u8>>,
    overflows: usize,
}

static W: Mutex<Option<World>> = Mutex::new(None);

fn with<R>(f: impl FnOnce(&mut World) -> R) -> R {
    untracked(|| {
        let mut g = W.lock().unwrap_or_else(|e| e.into_inner());
        f(g.get_or_insert_with(World::default))
    })
}

/// Reset (Model::start).
pub fn reset() {
    untracked(|| *W.lock().unwrap_or_else(|e| e.into_inner()) = None);
}

/// The VNET of the credential socreate gets (CRED_TO_VNET(cred)); None:
/// vnet0.
pub fn set_cred_vnet(v: Option<usize>) {
    with(|w| w.cred_vnet = v);
}

/// Open sockets (for leak checks and tests).
pub fn open_sockets() -> usize {
    with(|w| w.socks.len())
}

/// Messages the module sent (SADB_REGISTER, SADB_DUMP ...).
pub fn take_sent() -> Vec<Vec<u8>> {
    with(|w| std::mem::take(&mut w.sent))
}

/// Messages dropped on a full buffer.
pub fn overflows() -> usize {
    with(|w| w.overflows)
}

/// Leak check: sockets never closed, tasks left queued.
pub fn leaks() -> Vec<crate::Violation> {
    let (s, q) = with(|w| (w.socks.len(), w.queue.len()));
    let mut v = Vec::new();
    if s > 0 {
        v.push(crate::Violation {
            kind: ViolationKind::Malloc,
            what: format!("{s} PF_KEY socket(s) never closed"),
        });
    }
    if q > 0 {
        v.push(crate::Violation {
            kind: ViolationKind::BadArgument,
            what: format!("{q} task(s) still queued on taskqueue_thread"),
        });
    }
    v
}

// ---- messages (key.c) ----

fn ext_sa(sa: &Sa) -> Vec<u8> {
    let e = sadb_sa {
        sadb_sa_len: 2,
        sadb_sa_exttype: SADB_EXT_SA,
        sadb_sa_spi: sa.spi.to_be(),
        sadb_sa_state: sa.state,
        sadb_sa_encrypt: sa.enc,
        sadb_sa_auth: sa.auth,
        ..Default::default()
    };
    zerocopy::IntoBytes::as_bytes(&e).to_vec()
}

fn ext_sa2(sa: &Sa) -> Vec<u8> {
    let e = sadb_x_sa2 {
        sadb_x_sa2_len: 2,
        sadb_x_sa2_exttype: SADB_X_EXT_SA2,
        sadb_x_sa2_mode: sa.mode,
        sadb_x_sa2_reqid: sa.reqid,
        ..Default::default()
    };
    zerocopy::IntoBytes::as_bytes(&e).to_vec()
}

fn ext_addr(kind: u16, a: IpAddr, port: u16) -> Vec<u8> {
    let mut sa = match a {
        IpAddr::V4(v) => {
            let mut b = vec![0u8; 16];
            b[0] = 16;
            b[1] = 2;
            b[4..8].copy_from_slice(&v.octets());
            b
        }
        IpAddr::V6(v) => {
            let mut b = vec![0u8; 32];
            b[0] = 28;
            b[1] = 28;
            b[8..24].copy_from_slice(&v.octets());
            b
        }
    };
    sa[2..4].copy_from_slice(&port.to_be_bytes());
    let mut out = Vec::new();
    let h = sadb_address {
        sadb_address_len: ((8 + sa.len()) / 8) as u16,
        sadb_address_exttype: kind,
        ..Default::default()
    };
    out.extend_from_slice(zerocopy::IntoBytes::as_bytes(&h));
    out.extend_from_slice(&sa);
    out
}

fn ext_lifetime(kind: u16) -> Vec<u8> {
    let mut v = vec![0u8; 32];
    v[0..2].copy_from_slice(&4u16.to_ne_bytes());
    v[2..4].copy_from_slice(&kind.to_ne_bytes());
    v
}

/// A whole message.
pub fn message(kind: u8, satype: u8, errno: u8, seq: u32, exts: &[Vec<u8>]) -> Vec<u8> {
    let body: Vec<u8> = exts.concat();
    let h = sadb_msg {
        sadb_msg_version: PF_KEY_V2,
        sadb_msg_type: kind,
        sadb_msg_errno: errno,
        sadb_msg_satype: satype,
        sadb_msg_len: ((16 + body.len()) / 8) as u16,
        sadb_msg_seq: seq,
        ..Default::default()
    };
    let mut v = zerocopy::IntoBytes::as_bytes(&h).to_vec();
    v.extend_from_slice(&body);
    v
}

fn addrs(sa: &Sa) -> [Vec<u8>; 2] {
    [
        ext_addr(SADB_EXT_ADDRESS_SRC, sa.src, sa.sport),
        ext_addr(SADB_EXT_ADDRESS_DST, sa.dst, sa.dport),
    ]
}

fn echo(kind: u8, sa: &Sa) -> Vec<u8> {
    let [s, d] = addrs(sa);
    let mut exts = vec![ext_sa(sa), ext_sa2(sa), s, d];
    if sa.sport != 0 {
        // SADB_X_EXT_NAT_T_TYPE (struct sadb_x_nat_t_type: len 1 unit,
        // UDP_ENCAP_ESPINUDP = 2), as key.c echoes a NAT-T SA.
        let mut t = vec![0u8; 8];
        t[0..2].copy_from_slice(&1u16.to_ne_bytes());
        t[2..4].copy_from_slice(&20u16.to_ne_bytes());
        t[4] = 2;
        exts.push(t);
    }
    message(kind, SADB_SATYPE_ESP, 0, 0, &exts)
}

// ---- the SAD operations a test (setkey, an IKE daemon) performs ----

/// SADB_ADD (setkey `add`): the SA becomes MATURE; the echo goes to all.
pub fn add(sa: Sa) {
    let v = sa.vnet;
    let msg = echo(
        SADB_ADD,
        &Sa {
            state: 1,
            ..sa.clone()
        },
    );
    with(|w| w.sad.push(Sa { state: 1, ..sa }));
    sendup(v, &msg, Dest::All);
}

/// SADB_UPDATE of a LARVAL SA (GETSPI + UPDATE, as IKE daemons do).
pub fn update(sa: Sa) {
    let v = sa.vnet;
    let msg = echo(SADB_UPDATE, &sa);
    with(|w| {
        w.sad.retain(|x| !(x.spi == sa.spi && x.dst == sa.dst));
        w.sad.push(Sa { state: 1, ..sa });
    });
    sendup(v, &msg, Dest::All);
}

/// SADB_DELETE with an SA extension: no X_SA2 in the broadcast.
pub fn delete(v: usize, spi: u32, src: &str, dst: &str) {
    let sa = Sa {
        vnet: v,
        ..Sa::tunnel(spi, src, dst, 0)
    };
    with(|w| {
        w.sad
            .retain(|x| !(x.spi == spi && x.dst == sa.dst && x.vnet == v))
    });
    let [s, d] = addrs(&sa);
    let msg = message(SADB_DELETE, SADB_SATYPE_ESP, 0, 0, &[ext_sa(&sa), s, d]);
    sendup(v, &msg, Dest::All);
}

/// SADB_DELETE without SA extension (key_delete_all).
pub fn delete_all(v: usize, src: &str, dst: &str) {
    let sa = Sa {
        vnet: v,
        ..Sa::tunnel(0, src, dst, 0)
    };
    with(|w| {
        w.sad
            .retain(|x| !(x.src == sa.src && x.dst == sa.dst && x.vnet == v))
    });
    let [s, d] = addrs(&sa);
    sendup(
        v,
        &message(SADB_DELETE, SADB_SATYPE_ESP, 0, 0, &[s, d]),
        Dest::All,
    );
}

/// A lifetime runs out (key_flush_sad -> key_expire): soft makes the SA
/// DYING, hard unlinks it (DEAD) and then tells the registered sockets.
pub fn expire(v: usize, spi: u32, dst: &str, hard: bool) {
    let d: IpAddr = dst.parse().unwrap_or(IpAddr::from([0, 0, 0, 0]));
    let found = with(|w| {
        let i = w
            .sad
            .iter()
            .position(|x| x.spi == spi && x.dst == d && x.vnet == v)?;
        if hard {
            Some(Sa {
                state: 3,
                ..w.sad.remove(i)
            })
        } else {
            let x = w.sad.get_mut(i)?;
            x.state = 2;
            Some(x.clone())
        }
    });
    let Some(sa) = found else { return };
    let life = if hard {
        SADB_EXT_LIFETIME_HARD
    } else {
        SADB_EXT_LIFETIME_SOFT
    };
    let [s, dd] = addrs(&sa);
    let exts = [
        ext_sa(&sa),
        ext_sa2(&sa),
        ext_lifetime(2),
        ext_lifetime(life),
        s,
        dd,
    ];
    sendup(
        v,
        &message(SADB_EXPIRE, SADB_SATYPE_ESP, 0, sa.spi, &exts),
        Dest::Registered,
    );
}

/// SADB_FLUSH (setkey -F).
pub fn flush(v: usize) {
    with(|w| w.sad.retain(|x| x.vnet != v));
    sendup(
        v,
        &message(SADB_FLUSH, SADB_SATYPE_UNSPEC, 0, 0, &[]),
        Dest::All,
    );
}

/// An SA appears without a message (an SA present before the module
/// loaded, as far as the module's socket is concerned).
pub fn preload(sa: Sa) {
    with(|w| w.sad.push(sa));
}

enum Dest {
    All,
    Registered,
    One(usize),
}

/// keysock.c key_sendup_mbuf + key_sendup0.
fn sendup(v: usize, msg: &[u8], dest: Dest) {
    let targets: Vec<usize> = with(|w| {
        w.socks
            .iter()
            .filter(|(a, s)| {
                s.vnet == v
                    && match dest {
                        Dest::All => true,
                        Dest::Registered => s.registered,
                        Dest::One(x) => **a == x,
                    }
            })
            .map(|(a, _)| *a)
            .collect()
    });
    for so in targets {
        let up = with(|w| {
            let s = w.socks.get_mut(&so)?;
            if s.bytes + msg.len() > s.space {
                w.overflows += 1;
                if s.rerror_opt {
                    s.rerror = ENOBUFS;
                }
                return None;
            }
            s.bytes += msg.len();
            s.rcv.push_back(msg.to_vec());
            s.upcall
        });
        if let Some((f, arg)) = up {
            // sorwakeup_locked: the upcall runs with the buffer's mutex held.
            let m = rcv_mtx(so);
            lock(m, "sowakeup");
            // SAFETY: an upcall the module registered with this signature.
            let f: sys_bindings::socket::so_upcall_t = unsafe { std::mem::transmute(f) };
            // SAFETY: module callback with its own argument.
            crate::malloc::in_module(|| unsafe { f(so as *mut socket, arg as *mut c_void, 0) });
            unlock(m, "sowakeup");
        }
    }
}

fn rcv_mtx(so: usize) -> usize {
    so + SO_RCV_MTX_OFFSET + MTX_LOCK_OFFSET
}

fn lock(m: usize, what: &str) {
    let me = crate::thread::key();
    let bad = with(|w| match w.locks.get(&m) {
        Some(o) if *o == me => true,
        _ => {
            w.locks.insert(m, me);
            false
        }
    });
    if bad {
        violation(
            ViolationKind::LockMisuse,
            format!("{what}: recursed on a non-recursive mutex"),
        );
    }
}

fn unlock(m: usize, what: &str) {
    let me = crate::thread::key();
    let ok = with(|w| w.locks.remove(&m) == Some(me));
    if !ok {
        violation(
            ViolationKind::LockMisuse,
            format!("{what}: unlock of a mutex not held"),
        );
    }
}

fn held(m: usize) -> bool {
    let me = crate::thread::key();
    with(|w| w.locks.get(&m) == Some(&me))
}

// ---- KPIs ----

#[no_mangle]
pub extern "C" fn socreate(
    dom: c_int,
    aso: *mut *mut socket,
    ty: c_int,
    proto: c_int,
    _cred: *mut c_void,
    td: *mut c_void,
) -> c_int {
    let _model = crate::malloc::Internal::enter();
    if dom != PF_KEY || ty != SOCK_RAW || proto != c_int::from(PF_KEY_V2) || aso.is_null() {
        violation(
            ViolationKind::BadArgument,
            "socreate: not a PF_KEY raw socket",
        );
        return 43; // EPROTONOSUPPORT
    }
    if td.is_null() {
        violation(
            ViolationKind::NullDeref,
            "socreate: td NULL (CAP_TRACING(td))",
        );
        return 22;
    }
    let e = crate::thread::priv_check(td, 252); // PRIV_NET_RAW (key_attach)
    if e != 0 {
        return e;
    }
    let v0 = crate::vnet::vnet0_ptr() as usize;
    let so = with(|w| {
        let vnet = w.cred_vnet.unwrap_or(v0);
        let mut mem = vec![0u64; SIZEOF_SOCKET / 8].into_boxed_slice();
        let a = mem.as_mut_ptr() as usize;
        if let Some(x) = mem.get_mut(SO_VNET_OFFSET / 8) {
            *x = vnet as u64;
        }
        w.socks.insert(
            a,
            Sock {
                vnet,
                rcv: VecDeque::new(),
                bytes: 0,
                space: KEY_RECVSPACE,
                rerror_opt: false,
                rerror: 0,
                upcall: None,
                registered: false,
                mem,
            },
        );
        a
    });
    // SAFETY: caller's out pointer.
    unsafe { *aso = so as *mut socket };
    0
}

fn known(so: *mut socket, kpi: &str) -> bool {
    let ok = with(|w| w.socks.contains_key(&(so as usize)));
    if !ok {
        violation(
            ViolationKind::BadArgument,
            format!("{kpi}: not a live socket"),
        );
    }
    ok
}

#[no_mangle]
pub extern "C" fn soclose(so: *mut socket) -> c_int {
    let _model = crate::malloc::Internal::enter();
    if !known(so, "soclose") {
        return 22;
    }
    let s = with(|w| w.socks.remove(&(so as usize)));
    if let Some(s) = s {
        drop(s.mem);
    }
    45 // EOPNOTSUPP from PF_KEY's disconnect; the socket is gone all the same
}

#[no_mangle]
pub extern "C" fn soreserve(so: *mut socket, _snd: u64, rcv: u64) -> c_int {
    let _model = crate::malloc::Internal::enter();
    if !known(so, "soreserve") {
        return 22;
    }
    // BUF_MAX_ADJ(sb_max) with sb_max 2 MiB.
    if rcv > 2 * 1024 * 1024 * 2048 / (256 + 2048) {
        return ENOBUFS;
    }
    with(|w| {
        if let Some(s) = w.socks.get_mut(&(so as usize)) {
            s.space = rcv as usize;
        }
    });
    0
}

#[no_mangle]
pub extern "C" fn sosetopt(so: *mut socket, sopt: *mut sockopt) -> c_int {
    let _model = crate::malloc::Internal::enter();
    if !known(so, "sosetopt") || sopt.is_null() {
        return 22;
    }
    // SAFETY: caller's sockopt.
    let o = unsafe { &*sopt };
    if !o.sopt_td.is_null() {
        violation(
            ViolationKind::BadArgument,
            "sosetopt: a user td with a kernel value",
        );
    }
    if o.sopt_name == SO_RERROR && o.sopt_valsize == 4 && !o.sopt_val.is_null() {
        // SAFETY: a c_int, per valsize.
        let on = unsafe { *(o.sopt_val as *const c_int) } != 0;
        with(|w| {
            if let Some(s) = w.socks.get_mut(&(so as usize)) {
                s.rerror_opt = on;
            }
        });
    }
    0
}

#[no_mangle]
pub extern "C" fn soupcall_set(
    so: *mut socket,
    _which: c_int,
    f: sys_bindings::socket::so_upcall_t,
    arg: *mut c_void,
) {
    let _model = crate::malloc::Internal::enter();
    if !held(rcv_mtx(so as usize)) {
        violation(
            ViolationKind::LockMisuse,
            "soupcall_set without SOCK_RECVBUF_LOCK",
        );
    }
    with(|w| {
        if let Some(s) = w.socks.get_mut(&(so as usize)) {
            s.upcall = Some((f as usize, arg as usize));
        }
    });
}

#[no_mangle]
pub extern "C" fn soupcall_clear(so: *mut socket, _which: c_int) {
    let _model = crate::malloc::Internal::enter();
    if !held(rcv_mtx(so as usize)) {
        violation(
            ViolationKind::LockMisuse,
            "soupcall_clear without SOCK_RECVBUF_LOCK",
        );
    }
    let had = with(|w| {
        w.socks
            .get_mut(&(so as usize))
            .and_then(|s| s.upcall.take())
    });
    if had.is_none() {
        violation(ViolationKind::BadArgument, "soupcall_clear: no upcall set");
    }
}

#[no_mangle]
pub extern "C" fn soreceive(
    so: *mut socket,
    _psa: *mut *mut c_void,
    uio: *mut uio,
    mp0: *mut *mut mbuf,
    _controlp: *mut *mut mbuf,
    flagsp: *mut c_int,
) -> c_int {
    let _model = crate::malloc::Internal::enter();
    if !known(so, "soreceive") || mp0.is_null() || uio.is_null() {
        return 22;
    }
    // SAFETY: caller's flags.
    let dontwait = !flagsp.is_null() && unsafe { *flagsp } & MSG_DONTWAIT != 0;
    if !dontwait {
        violation(
            ViolationKind::BadArgument,
            "soreceive would sleep (no MSG_DONTWAIT)",
        );
    }
    let r = with(|w| {
        let s = w.socks.get_mut(&(so as usize))?;
        // soreceive_generic reports so_rerror only once the buffer is
        // empty ("if (m != NULL) goto dontblock").
        if s.rcv.is_empty() && s.rerror != 0 {
            return Some(Err(std::mem::take(&mut s.rerror)));
        }
        let m = s.rcv.pop_front()?;
        s.bytes -= m.len();
        Some(Ok(m))
    });
    match r {
        None => EWOULDBLOCK,
        Some(Err(e)) => e,
        Some(Ok(bytes)) => {
            // SAFETY: caller's out pointer.
            unsafe { *mp0 = crate::mbuf::packet(&[&bytes]) };
            0
        }
    }
}

#[no_mangle]
pub extern "C" fn sosend(
    so: *mut socket,
    _addr: *mut c_void,
    _uio: *mut uio,
    top: *mut mbuf,
    _control: *mut mbuf,
    _flags: c_int,
    _td: *mut c_void,
) -> c_int {
    let _model = crate::malloc::Internal::enter();
    if !known(so, "sosend") {
        return 22;
    }
    let Some(bytes) = crate::mbuf::bytes(top) else {
        return 22;
    };
    crate::mbuf::free_chain(top, "sosend");
    with(|w| w.sent.push(bytes.clone()));
    key_parse(so as usize, &bytes);
    0
}

/// key.c key_parse for the two requests the module makes.
fn key_parse(so: usize, msg: &[u8]) {
    let (Some(&kind), Some(&satype)) = (msg.get(1), msg.get(3)) else {
        return;
    };
    let v = with(|w| w.socks.get(&so).map_or(0, |s| s.vnet));
    match kind {
        SADB_REGISTER => {
            with(|w| {
                if let Some(s) = w.socks.get_mut(&so) {
                    s.registered = true;
                }
            });
            sendup(v, &message(SADB_REGISTER, satype, 0, 0, &[]), Dest::One(so));
        }
        SADB_DUMP => {
            let sas: Vec<Sa> = with(|w| w.sad.iter().filter(|x| x.vnet == v).cloned().collect());
            if sas.is_empty() {
                sendup(
                    v,
                    &message(SADB_DUMP, satype, ENOENT, 0, &[]),
                    Dest::One(so),
                );
            }
            let n = sas.len() as u32;
            for (i, sa) in sas.iter().enumerate() {
                let [s, d] = addrs(sa);
                let m = message(
                    SADB_DUMP,
                    SADB_SATYPE_ESP,
                    0,
                    n - 1 - i as u32,
                    &[ext_sa(sa), ext_sa2(sa), s, d],
                );
                sendup(v, &m, Dest::One(so));
            }
        }
        _ => {}
    }
}

#[no_mangle]
pub extern "C" fn m_devget(
    buf: *const c_char,
    len: c_int,
    off: c_int,
    _ifp: *mut c_void,
    _copy: *const c_void,
) -> *mut mbuf {
    let _model = crate::malloc::Internal::enter();
    if buf.is_null() || len < 0 || off != 0 {
        violation(ViolationKind::BadArgument, "m_devget arguments");
        return std::ptr::null_mut();
    }
    // SAFETY: caller's buffer of `len` bytes.
    let b = unsafe { std::slice::from_raw_parts(buf.cast::<u8>(), len as usize) };
    crate::mbuf::packet(&[b])
}

#[no_mangle]
pub extern "C" fn __mtx_lock_flags(c: *mut usize, _o: c_int, _f: *const c_char, _l: c_int) {
    let _model = crate::malloc::Internal::enter();
    lock(c as usize, "mtx_lock");
}

#[no_mangle]
pub extern "C" fn __mtx_unlock_flags(c: *mut usize, _o: c_int, _f: *const c_char, _l: c_int) {
    let _model = crate::malloc::Internal::enter();
    unlock(c as usize, "mtx_unlock");
}

/// `taskqueue_thread`: an address the model recognises.
#[no_mangle]
pub static mut taskqueue_thread: *mut taskqueue = 0x7a5c_0000 as *mut taskqueue;

#[no_mangle]
pub extern "C" fn taskqueue_enqueue(_q: *mut taskqueue, t: *mut task) -> c_int {
    let _model = crate::malloc::Internal::enter();
    // SAFETY: the caller's task.
    let tk = unsafe { &mut *t };
    if tk.ta_pending > 0 {
        tk.ta_pending = tk.ta_pending.saturating_add(1);
        return 0;
    }
    tk.ta_pending = 1;
    with(|w| w.queue.push_back(t as usize));
    0
}

#[no_mangle]
pub extern "C" fn taskqueue_drain(_q: *mut taskqueue, t: *mut task) {
    let _model = crate::malloc::Internal::enter();
    let queued = with(|w| {
        let before = w.queue.len();
        w.queue.retain(|x| *x != t as usize);
        before != w.queue.len()
    });
    if queued {
        run_one(t as usize);
    }
}

fn run_one(t: usize) {
    let t = t as *mut task;
    // SAFETY: a task the module queued and has not freed (drain first).
    let (f, ctx, pending) = unsafe {
        let tk = &mut *t;
        let p = std::mem::take(&mut tk.ta_pending);
        (tk.ta_func, tk.ta_context, p)
    };
    if let Some(f) = f {
        // SAFETY: the module's task function with its own context.
        crate::malloc::in_module(|| unsafe { f(ctx, c_int::from(pending)) });
    }
}

/// The taskqueue thread: run queued tasks until none is left (bounded).
pub fn run_tasks() -> usize {
    let mut n = 0;
    while n < 100_000 {
        let Some(t) = with(|w| w.queue.pop_front()) else {
            break;
        };
        run_one(t);
        n += 1;
    }
    n
}
