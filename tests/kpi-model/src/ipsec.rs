//! Security policies (key.c) and IPsec output (ipsec_output.c).
//!
//! FreeBSD 14.2 (b66633d79ade) sys/netipsec/key.c: `key_newsp` (M_NOWAIT |
//! M_ZERO from M_IPSEC_SP, refcount 1), `ipsec_newisr` (M_NOWAIT | M_ZERO
//! from M_IPSEC_SR), `key_addref`, `key_freesp` (IPSEC_ASSERT non-NULL; the
//! last reference frees the requests and the policy and NULLs `*spp`),
//! `key_register_ifnet` (ids, TAILQ_INSERT_TAIL into V_sptree_ifnet[dir],
//! state IFNET; EAGAIN when no id), `key_unregister_ifnet` (only IFNET
//! ones, state DEAD).  The model adds what INVARIANTS would catch: a
//! reference taken on or dropped from a freed policy, a policy freed while
//! still registered, and (at the end of a test) policies never released.
//!
//! sys/netipsec/ipsec_output.c `ipsec4_process_packet` /
//! `ipsec6_process_packet`: consume the mbuf and the reference on every
//! path (for level-UNIQUE policies; the EJUSTRETURN "no IPsec required"
//! path that keeps the mbuf only exists for level USE).  The model records
//! what it got, then frees both, and returns an injectable error.
use crate::check::{violation, ViolationKind};
use crate::malloc::{kfree, kmalloc, M_NOWAIT, M_ZERO};
use std::collections::{HashMap, VecDeque};
use std::ffi::{c_int, c_uint};
use std::net::IpAddr;
use std::sync::Mutex;
use sys_bindings::ipsec::{ipsecrequest, secpolicy, sockaddr_union};
use sys_bindings::ipsec_consts::{
    IPSEC_DIR_INBOUND, IPSEC_DIR_OUTBOUND, IPSEC_SPSTATE_DEAD, IPSEC_SPSTATE_IFNET,
};
use sys_bindings::mbuf::mbuf;

/// malloc types of key.c.
pub const M_IPSEC_SP: &str = "ipsecpolicy";
pub const M_IPSEC_SR: &str = "ipsecrequest";
/// sys/sys/errno.h.
pub const EAGAIN: c_int = 35;

/// A policy as `setkey -DP` would print it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SpView {
    /// Policy id (`spid=`).
    pub id: u32,
    /// 1 = in, 2 = out.
    pub dir: u8,
    /// Selector family (2 / 28).
    pub family: u8,
    /// Selector sa_len.
    pub sa_len: u8,
    /// Selector addresses and prefix lengths.
    pub src: Option<IpAddr>,
    pub dst: Option<IpAddr>,
    pub prefs: u8,
    pub prefd: u8,
    /// Upper-layer protocol (255 = any).
    pub ul_proto: u8,
    /// `sp->policy` (2 = ipsec).
    pub policy: u32,
    /// `sp->priority` (the if_index for ifnet-scope policies).
    pub priority: u32,
    /// "ifnet" for key_register_ifnet'ed policies.
    pub scope: &'static str,
    /// First request: level (3 = unique), proto (50 = esp), mode (2 =
    /// tunnel), reqid, SA src/dst.
    pub level: u32,
    pub proto: u8,
    pub mode: u8,
    pub reqid: u32,
    pub sa_src: Option<IpAddr>,
    pub sa_dst: Option<IpAddr>,
    /// Number of requests.
    pub tcount: u32,
    /// `sp->created` (what setkey -DP prints as "created").
    pub created: i64,
}

/// What ipsec4/6_process_packet received.
#[derive(Clone, Debug)]
pub struct Sent {
    /// 4 or 6 (which function was called).
    pub ipv: u8,
    pub bytes: Vec<u8>,
    pub fib: u16,
    pub policy: SpView,
    /// The error returned.
    pub error: c_int,
}

#[derive(Default)]
struct Spd {
    /// live policies (address → registered?)
    live: HashMap<usize, bool>,
    /// ifnet-scope list per direction (insertion order).
    ifnet: Vec<usize>,
    next_id: u32,
    register_error: Option<c_int>,
    output_errors: VecDeque<c_int>,
    sent: Vec<Sent>,
}

static SPD: Mutex<Option<Spd>> = Mutex::new(None);

fn with<R>(f: impl FnOnce(&mut Spd) -> R) -> R {
    crate::malloc::untracked(|| {
        f(SPD
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get_or_insert_with(Spd::default))
    })
}

pub(crate) fn reset() {
    with(|s| {
        *s = Spd {
            next_id: 1,
            ..Spd::default()
        }
    });
}

fn ip_of(u: &sockaddr_union) -> Option<IpAddr> {
    // SAFETY: sockaddr_union is plain bytes; the family says which view.
    unsafe {
        match u.sa.sa_family {
            2 => Some(IpAddr::from(u.sin.sin_addr.s_addr)),
            28 => Some(IpAddr::from(u.sin6.sin6_addr.s6_addr)),
            _ => None,
        }
    }
}

/// The view of a live policy.
pub fn view(sp: *const secpolicy) -> SpView {
    // SAFETY: callers pass live model policies.
    let p = unsafe { &*sp };
    // SAFETY: reading the request if present.
    let r = p
        .req
        .first()
        .copied()
        .filter(|r| !r.is_null())
        .map(|r| unsafe { &*r });
    SpView {
        id: p.id,
        dir: p.spidx.dir,
        // SAFETY: union of plain bytes.
        family: unsafe { p.spidx.src.sa.sa_family },
        // SAFETY: as above.
        sa_len: unsafe { p.spidx.src.sa.sa_len },
        src: ip_of(&p.spidx.src),
        dst: ip_of(&p.spidx.dst),
        prefs: p.spidx.prefs,
        prefd: p.spidx.prefd,
        ul_proto: p.spidx.ul_proto,
        policy: p.policy,
        priority: p.priority,
        created: p.created,
        scope: if p.state == c_uint::from(IPSEC_SPSTATE_IFNET) {
            "ifnet"
        } else {
            "none"
        },
        level: r.map_or(0, |r| r.level),
        proto: r.map_or(0, |r| r.saidx.proto),
        mode: r.map_or(0, |r| r.saidx.mode),
        reqid: r.map_or(0, |r| r.saidx.reqid),
        sa_src: r.and_then(|r| ip_of(&r.saidx.src)),
        sa_dst: r.and_then(|r| ip_of(&r.saidx.dst)),
        tcount: p.tcount,
    }
}

/// The ifnet-scope SPD: inbound then outbound, in registration order (as
/// key_spddump walks V_sptree_ifnet[dir]).
pub fn spd_ifnet() -> Vec<SpView> {
    let list = with(|s| s.ifnet.clone());
    let mut v: Vec<SpView> = list.iter().map(|&p| view(p as *const secpolicy)).collect();
    v.sort_by_key(|x| x.dir);
    v
}

/// Make the next key_register_ifnet fail with `e` (e.g. EAGAIN: no spid).
pub fn fail_register(e: Option<c_int>) {
    with(|s| s.register_error = e);
}

/// Queue errors for the next ipsec4/6_process_packet calls.
pub fn queue_output_error(e: c_int) {
    with(|s| s.output_errors.push_back(e));
}

/// Everything IPsec output received so far (taken).
pub fn take_sent() -> Vec<Sent> {
    with(|s| std::mem::take(&mut s.sent))
}

/// Live policies (any state).
pub fn live_policies() -> usize {
    with(|s| s.live.len())
}

pub(crate) fn leaks() -> Vec<crate::Violation> {
    let live = with(|s| s.live.keys().copied().collect::<Vec<_>>());
    live.into_iter()
        .map(|p| {
            // SAFETY: live policy.
            let rc = unsafe { (*(p as *const secpolicy)).refcnt };
            crate::Violation {
                kind: ViolationKind::RefcountLeak,
                what: format!(
                    "policy {p:#x} ({:?}) still has {rc} reference(s)",
                    view(p as *const secpolicy)
                ),
            }
        })
        .collect()
}

fn check_sp(sp: *const secpolicy, what: &str) -> bool {
    if sp.is_null() {
        violation(
            ViolationKind::BadArgument,
            format!("{what}: NULL policy (IPSEC_ASSERT null sp)"),
        );
        return false;
    }
    if !with(|s| s.live.contains_key(&(sp as usize))) {
        violation(
            ViolationKind::RefcountUnderflow,
            format!("{what}: policy {sp:p} already freed"),
        );
        return false;
    }
    true
}

/// key.c `key_newsp`.
#[no_mangle]
pub extern "C" fn key_newsp() -> *mut secpolicy {
    let _model = crate::malloc::Internal::enter();
    let Some(p) = kmalloc(
        std::mem::size_of::<secpolicy>(),
        M_IPSEC_SP,
        M_NOWAIT | M_ZERO,
    ) else {
        return std::ptr::null_mut();
    };
    let sp = p.cast::<secpolicy>();
    // SAFETY: fresh zeroed block of the right size (SP_INITREF).
    unsafe { (*sp).refcnt = 1 };
    with(|s| s.live.insert(sp as usize, false));
    sp
}

/// key.c `ipsec_newisr`.
#[no_mangle]
pub extern "C" fn ipsec_newisr() -> *mut ipsecrequest {
    let _model = crate::malloc::Internal::enter();
    kmalloc(
        std::mem::size_of::<ipsecrequest>(),
        M_IPSEC_SR,
        M_NOWAIT | M_ZERO,
    )
    .map_or(std::ptr::null_mut(), |p| p.cast())
}

/// key.c `ipsec_delisr`.
#[no_mangle]
pub extern "C" fn ipsec_delisr(isr: *mut ipsecrequest) {
    let _model = crate::malloc::Internal::enter();
    kfree(isr.cast(), M_IPSEC_SR);
}

/// key.c `key_addref` (SP_ADDREF = refcount_acquire).
#[no_mangle]
pub extern "C" fn key_addref(sp: *mut secpolicy) {
    let _model = crate::malloc::Internal::enter();
    if !check_sp(sp, "key_addref") {
        return;
    }
    // SAFETY: live policy; the real one is an atomic increment (the model
    // serialises through its registry lock's callers; a plain RMW here is
    // what refcount(9) does atomically).
    unsafe {
        let rc = std::ptr::addr_of_mut!((*sp).refcnt);
        let a = &*rc.cast::<std::sync::atomic::AtomicU32>();
        a.fetch_add(1, std::sync::atomic::Ordering::AcqRel);
    }
}

/// key.c `key_freesp`.
#[no_mangle]
pub extern "C" fn key_freesp(spp: *mut *mut secpolicy) {
    let _model = crate::malloc::Internal::enter();
    if spp.is_null() {
        violation(ViolationKind::BadArgument, "key_freesp(NULL)");
        return;
    }
    // SAFETY: caller passes a valid pointer to its policy pointer.
    let sp = unsafe { *spp };
    if !check_sp(sp, "key_freesp") {
        return;
    }
    // SAFETY: live policy; refcount_release.
    let last = unsafe {
        let a = &*std::ptr::addr_of_mut!((*sp).refcnt).cast::<std::sync::atomic::AtomicU32>();
        let old = a.fetch_sub(1, std::sync::atomic::Ordering::AcqRel);
        if old == 0 {
            violation(
                ViolationKind::RefcountUnderflow,
                format!("key_freesp: {sp:p} refcount underflow"),
            );
            a.store(0, std::sync::atomic::Ordering::Relaxed);
            return;
        }
        old == 1
    };
    if !last {
        return;
    }
    let registered = with(|s| s.live.get(&(sp as usize)).copied().unwrap_or(false));
    if registered {
        violation(ViolationKind::RefcountUnderflow, format!("key_freesp: last reference to {sp:p} dropped while still registered in the ifnet SPD"));
        with(|s| s.ifnet.retain(|&x| x != sp as usize));
    }
    with(|s| s.live.remove(&(sp as usize)));
    // SAFETY: last reference: free the requests and the policy.
    unsafe {
        *spp = std::ptr::null_mut();
        let p = &mut *sp;
        while p.tcount > 0 {
            p.tcount -= 1;
            if let Some(r) = p.req.get(p.tcount as usize) {
                ipsec_delisr(*r);
            }
        }
    }
    kfree(sp.cast(), M_IPSEC_SP);
}

/// key.c `key_register_ifnet`.
#[no_mangle]
pub extern "C" fn key_register_ifnet(spp: *mut *mut secpolicy, count: c_uint) -> c_int {
    let _model = crate::malloc::Internal::enter();
    // SAFETY: caller: array of `count` policy pointers.
    let sps: Vec<*mut secpolicy> = (0..count as usize)
        .map(|i| unsafe { *spp.add(i) })
        .collect();
    for &sp in &sps {
        if !check_sp(sp, "key_register_ifnet") {
            return EAGAIN;
        }
        // SAFETY: live.
        let d = unsafe { (*sp).spidx.dir };
        if d != IPSEC_DIR_INBOUND && d != IPSEC_DIR_OUTBOUND {
            violation(
                ViolationKind::BadArgument,
                format!("key_register_ifnet: invalid direction {d}"),
            );
        }
        if with(|s| s.live.get(&(sp as usize)).copied().unwrap_or(false)) {
            violation(
                ViolationKind::BadArgument,
                format!("key_register_ifnet: {sp:p} registered twice"),
            );
        }
    }
    if let Some(e) = with(|s| s.register_error.take()) {
        return e;
    }
    for &sp in &sps {
        let id = with(|s| {
            let id = s.next_id;
            s.next_id += 1;
            s.ifnet.push(sp as usize);
            s.live.insert(sp as usize, true);
            id
        });
        // SAFETY: live policy.
        unsafe {
            (*sp).id = id;
            (*sp).state = c_uint::from(IPSEC_SPSTATE_IFNET);
        }
    }
    0
}

/// key.c `key_unregister_ifnet`.
#[no_mangle]
pub extern "C" fn key_unregister_ifnet(spp: *mut *mut secpolicy, count: c_uint) {
    let _model = crate::malloc::Internal::enter();
    if crate::vnet::spd_destroyed(crate::vnet::curvnet() as usize) {
        violation(
            ViolationKind::BadArgument,
            "key_unregister_ifnet after key_vnet_destroy: the vnet's SPD is gone",
        );
    }
    for i in 0..count as usize {
        // SAFETY: caller: array of `count` policy pointers.
        let sp = unsafe { *spp.add(i) };
        if !check_sp(sp, "key_unregister_ifnet") {
            continue;
        }
        // SAFETY: live.
        if unsafe { (*sp).state } != c_uint::from(IPSEC_SPSTATE_IFNET) {
            continue;
        }
        // SAFETY: live.
        unsafe { (*sp).state = c_uint::from(IPSEC_SPSTATE_DEAD) };
        with(|s| {
            s.ifnet.retain(|&x| x != sp as usize);
            s.live.insert(sp as usize, false);
        });
    }
}

fn process(ipv: u8, m: *mut mbuf, sp: *mut secpolicy, kpi: &'static str) -> c_int {
    crate::epoch::assert_in(kpi);
    let sp_ok = check_sp(sp, kpi);
    let m_ok = crate::mbuf::check_live(m, kpi);
    let error = with(|s| s.output_errors.pop_front()).unwrap_or(0);
    if sp_ok && m_ok {
        let bytes = crate::mbuf::bytes(m).unwrap_or_default();
        // SAFETY: live packet.
        let fib = unsafe { (*m).m_pkthdr.fibnum };
        let policy = view(sp);
        with(|s| {
            s.sent.push(Sent {
                ipv,
                bytes,
                fib,
                policy,
                error,
            })
        });
    }
    if m_ok {
        crate::mbuf::free_chain(m, kpi);
    }
    if sp_ok {
        let mut p = sp;
        key_freesp(&mut p);
    }
    error
}

/// ipsec_output.c `ipsec4_process_packet`.
#[no_mangle]
pub extern "C" fn ipsec4_process_packet(
    m: *mut mbuf,
    sp: *mut secpolicy,
    _inp: *mut std::ffi::c_void,
) -> c_int {
    let _model = crate::malloc::Internal::enter();
    let _model = crate::malloc::Internal::enter();
    process(4, m, sp, "ipsec4_process_packet")
}

/// ipsec_output.c `ipsec6_process_packet`.
#[no_mangle]
pub extern "C" fn ipsec6_process_packet(
    m: *mut mbuf,
    sp: *mut secpolicy,
    _inp: *mut std::ffi::c_void,
) -> c_int {
    let _model = crate::malloc::Internal::enter();
    let _model = crate::malloc::Internal::enter();
    process(6, m, sp, "ipsec6_process_packet")
}

/// The SA an inbound packet was decrypted with (what the model puts in
/// `struct secasvar` / `secashead.saidx`).
#[derive(Clone, Debug)]
pub struct SaSpec {
    /// Outer source / destination (saidx.src / saidx.dst).
    pub src: IpAddr,
    pub dst: IpAddr,
    /// UDP encapsulation ports (NAT-T) stored in the sockaddrs, 0 if none.
    pub sport: u16,
    pub dport: u16,
    /// saidx.proto (50 = ESP), saidx.mode (2 = tunnel), saidx.reqid.
    pub proto: u8,
    pub mode: u8,
    pub reqid: u32,
    /// sav->state (1 = MATURE, 2 = DYING, 0 = LARVAL, 3 = DEAD).
    pub state: u8,
}

impl SaSpec {
    /// A mature tunnel-mode ESP SA.
    pub fn esp_tunnel(src: IpAddr, dst: IpAddr, reqid: u32) -> SaSpec {
        SaSpec {
            src,
            dst,
            sport: 0,
            dport: 0,
            proto: 50,
            mode: 2,
            reqid,
            state: 1,
        }
    }
}

/// What became of a decrypted packet.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum InputOutcome {
    /// A hook consumed it (`*ctx->mp = NULL`: ipsec_run_hhooks returns
    /// EACCES and netipsec stops).
    Consumed,
    /// netisr_queue_src got it (the stock path continues).
    Delivered(Delivered),
}

/// The packet as netisr received it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Delivered {
    pub bytes: Vec<u8>,
    /// m_pkthdr.rcvif (an ifnet address; 0 = unchanged/none).
    pub rcvif: usize,
    pub fib: u16,
    pub flags: u32,
}

fn put(u: &mut sockaddr_union, a: IpAddr, port: u16) {
    let b = crate::netinet::sockaddr_of(a);
    // SAFETY: sockaddr_union is 28 bytes (sockaddr_in6 size) of plain data.
    unsafe {
        std::ptr::copy_nonoverlapping(
            b.as_ptr(),
            (u as *mut sockaddr_union).cast::<u8>(),
            b.len().min(std::mem::size_of::<sockaddr_union>()),
        );
        // sin_port / sin6_port are at offset 2 in both (network order).
        (u as *mut sockaddr_union)
            .cast::<u8>()
            .add(2)
            .cast::<[u8; 2]>()
            .write(port.to_be_bytes());
    }
}

/// Run the IPSEC `ty` hooks of the current vnet's head for family `af`
/// (ipsec_run_hhooks) on `*m` with an SA built from `sa`, in an epoch
/// section, as netipsec does (IPSEC_ENC_AFTER).
fn run_hooks_with_sa(ty: i32, af: u8, m: &mut *mut mbuf, sa: &SaSpec) {
    use sys_bindings::ipsec::{ipsec_ctx_data, secashead, secasvar, IPSEC_ENC_AFTER};
    // SAFETY: zeroed plain C structs, filled below; live for this call.
    let mut sah: Box<secashead> =
        crate::malloc::untracked(|| Box::new(unsafe { std::mem::zeroed() }));
    put(&mut sah.saidx.src, sa.src, sa.sport);
    put(&mut sah.saidx.dst, sa.dst, sa.dport);
    sah.saidx.proto = sa.proto;
    sah.saidx.mode = sa.mode;
    sah.saidx.reqid = sa.reqid;
    // SAFETY: as above.
    let mut sav: Box<secasvar> =
        crate::malloc::untracked(|| Box::new(unsafe { std::mem::zeroed() }));
    sav.sah = &mut *sah;
    sav.state = sa.state;
    sav.refcnt = 1;
    let mut ctx = ipsec_ctx_data {
        mp: m,
        sav: &mut *sav,
        inp: std::ptr::null_mut(),
        af,
        enc: IPSEC_ENC_AFTER,
    };
    crate::epoch::with_section(|| {
        crate::hhook::run_ipsec(ty, i32::from(af), (&raw mut ctx).cast());
    });
}

/// netipsec's inbound path after ESP decryption (ipsec_input.c
/// ipsec4_common_input_cb / ipsec6_common_input_cb): inside the net epoch,
/// run the IPSEC_IN hooks for the inner family with IPSEC_ENC_AFTER; if a
/// hook consumed the packet stop; else the stock ipsec_if_input (a dead
/// tunnel-mode SA's packet is dropped; no stock interface in the model:
/// otherwise passes) and netisr_queue_src, which takes it.
pub fn input(inner: u8, bytes: &[u8], sa: &SaSpec, rcvif: usize) -> InputOutcome {
    let af: u8 = if inner == 6 { 28 } else { 2 };
    let mut m = crate::mbuf::packet(&[bytes]);
    // SAFETY: fresh packet.
    unsafe { (*m).m_pkthdr.rcvif = rcvif as *mut _ };
    run_hooks_with_sa(sys_bindings::hhook::HHOOK_TYPE_IPSEC_IN, af, &mut m, sa);
    if m.is_null() {
        return InputOutcome::Consumed;
    }
    // ipsec.ko's own ipsec_if_input (if_ipsec.c), called for every
    // tunnel-mode SA after the hooks: a dead SA's packet is freed
    // (ENETDOWN) before any interface lookup; no stock interface exists
    // in the model, so otherwise it passes.
    if sa.mode == 2 && sa.state != 1 && sa.state != 2 {
        crate::mbuf::free_chain(m, "ipsec_if_input");
        return InputOutcome::Consumed;
    }
    if !crate::mbuf::check_live(m, "netisr_queue_src") {
        return InputOutcome::Consumed;
    }
    // SAFETY: live packet.
    let d = unsafe {
        Delivered {
            bytes: crate::mbuf::bytes(m).unwrap_or_default(),
            rcvif: (*m).m_pkthdr.rcvif as usize,
            fib: (*m).m_pkthdr.fibnum,
            flags: (*m).m_flags(),
        }
    };
    crate::mbuf::free_chain(m, "netisr_queue_src");
    InputOutcome::Delivered(d)
}

/// ipsec4/6_perform_request's IPSEC_OUT hooks after ipsec_encap
/// (IPSEC_ENC_AFTER, sys/netipsec/ipsec_output.c): `outer` is the packet
/// with its new outer header (as ipsec_encap built it from the global
/// dfbit), run through the hooks on the head of the OUTER family (the
/// SA's destination); returns the bytes ESP would then transform.
pub fn output_after(outer: &[u8], sa: &SaSpec) -> Vec<u8> {
    let af: u8 = if sa.dst.is_ipv6() { 28 } else { 2 };
    let mut m = crate::mbuf::packet(&[outer]);
    run_hooks_with_sa(sys_bindings::hhook::HHOOK_TYPE_IPSEC_OUT, af, &mut m, sa);
    if m.is_null() || !crate::mbuf::check_live(m, "xf_output") {
        return Vec::new();
    }
    let b = crate::mbuf::bytes(m).unwrap_or_default();
    crate::mbuf::free_chain(m, "xf_output");
    b
}

static AUTO_REQID: Mutex<u32> = Mutex::new(0x3fff + 1);

/// key.c `key_newreqid`: a global counter from IPSEC_MANUAL_REQID_MAX + 1
/// (0x4000), incremented before use (first value 0x4001), wrapping back
/// at ~0; no uniqueness check.
#[no_mangle]
pub extern "C" fn key_newreqid() -> u32 {
    let _model = crate::malloc::Internal::enter();
    let mut r = AUTO_REQID.lock().unwrap_or_else(|e| e.into_inner());
    *r = if *r == u32::MAX { 0x3fff + 1 } else { *r + 1 };
    *r
}

/// key.c `key_sockaddrcmp`: 0 when equal (family, len, address; the
/// port only when `port` != 0; the IPv6 scope id), 1 otherwise.
#[no_mangle]
pub extern "C" fn key_sockaddrcmp(
    sa1: *const sys_bindings::net::sockaddr,
    sa2: *const sys_bindings::net::sockaddr,
    port: c_int,
) -> c_int {
    let _model = crate::malloc::Internal::enter();
    use sys_bindings::net::{sockaddr_in, sockaddr_in6};
    // SAFETY: callers pass valid sockaddrs of at least sa_len bytes.
    unsafe {
        let (a, b) = (&*sa1, &*sa2);
        if a.sa_family != b.sa_family || a.sa_len != b.sa_len {
            return 1;
        }
        match a.sa_family {
            2 => {
                let (x, y) = (&*sa1.cast::<sockaddr_in>(), &*sa2.cast::<sockaddr_in>());
                c_int::from(
                    a.sa_len != 16
                        || x.sin_addr.s_addr != y.sin_addr.s_addr
                        || (port != 0 && x.sin_port != y.sin_port),
                )
            }
            28 => {
                let (x, y) = (&*sa1.cast::<sockaddr_in6>(), &*sa2.cast::<sockaddr_in6>());
                c_int::from(
                    a.sa_len != 28
                        || x.sin6_scope_id != y.sin6_scope_id
                        || x.sin6_addr.s6_addr != y.sin6_addr.s6_addr
                        || (port != 0 && x.sin6_port != y.sin6_port),
                )
            }
            _ => {
                let n = usize::from(a.sa_len);
                c_int::from(
                    std::slice::from_raw_parts(sa1.cast::<u8>(), n)
                        != std::slice::from_raw_parts(sa2.cast::<u8>(), n),
                )
            }
        }
    }
}
