//! Network interfaces (IfAPI of sys/net/if.c) and bpf(4) taps.
//!
//! FreeBSD 14.2 (b66633d79ade): `if_alloc` (M_WAITOK, never NULL;
//! `if_vnet = curvnet`; lowest free index from 1), `if_initname`
//! (`if_xname = name + unit` unless IF_DUNIT_NONE), `if_attach`/`if_detach`
//! (sleep; attach joins group "all", detach drops the groups and clears
//! IFF_UP), `if_free` (index released; freeing an
//! attached ifnet is a bug), `ifunit` (by if_xname in curvnet),
//! `if_addgroup` (EEXIST, EINVAL for a name ending in a digit),
//! `ifr_data_get_ptr`; sys/net/bpf.c `bpfattach`, `bpfdetach`,
//! `bpf_peers_present_if`, `bpf_mtap2_if`.  `struct ifnet` is opaque to
//! the module (it only uses the IfAPI), so the model keeps the state in its
//! own table keyed by the ifnet's address.
use crate::check::{violation, ViolationKind};
use std::collections::{BTreeSet, HashMap};
use std::ffi::{c_char, c_int, c_uint, c_ulong, c_void, CStr};
use std::sync::Mutex;
use sys_bindings::ifnet::ifnet_offsets::SIZEOF_IFNET;
use sys_bindings::mbuf::mbuf;

/// sys/sys/errno.h.
const EEXIST: c_int = 17;
const EINVAL: c_int = 22;
const ENOENT: c_int = 2;
/// IF_DUNIT_NONE (sys/net/if_var.h).
pub const IF_DUNIT_NONE: c_int = -1;

/// A snapshot of one interface (what ifconfig/netstat -I would show).
#[derive(Clone, Debug, Default)]
pub struct IfView {
    pub addr: usize,
    pub name: String,
    pub dname: String,
    pub dunit: i32,
    pub index: u32,
    pub ty: u8,
    pub flags: c_int,
    pub drv_flags: c_int,
    pub mtu: c_int,
    pub fib: u32,
    pub vnet: usize,
    /// if_home_vnet: where it was created (if_vmove returns it there).
    pub home_vnet: usize,
    pub attached: bool,
    pub groups: Vec<String>,
    /// ift_counter order: ipackets, ierrors, opackets, oerrors, collisions,
    /// ibytes, obytes, imcasts, omcasts, iqdrops, oqdrops, noproto.
    pub counters: [u64; 12],
    /// (dlt, hdrlen) when bpfattach'ed.
    pub bpf: Option<(u32, u32)>,
    pub softc: usize,
    pub link_state: c_int,
}

#[derive(Clone, Default)]
struct If {
    v: IfView,
    dname_ptr: usize,
    freed: bool,
    refs: i64,
    ioctl: usize,
    transmit: usize,
    output: usize,
    qflush: usize,
    reassign: usize,
    listeners: bool,
    taps: Vec<(Vec<u8>, Vec<u8>)>,
}

#[derive(Default)]
struct Table {
    ifs: HashMap<usize, If>,
    index: Vec<usize>,
    /// Indices `i >= 1` below `index.len()` with `index[i] == 0`, so
    /// if_alloc finds the lowest free one without a scan (O(log n): the
    /// glue benchmarks build 100,000 interfaces).
    free_index: BTreeSet<usize>,
    /// if_xname -> the ifnets not yet if_free'd carrying it (any vnet,
    /// attached or not): `by_name`/`ifunit` filter this short list
    /// instead of scanning every interface.
    names: HashMap<String, Vec<usize>>,
}

impl Table {
    fn unname(&mut self, name: &str, ifp: usize) {
        if let Some(v) = self.names.get_mut(name) {
            v.retain(|&a| a != ifp);
            if v.is_empty() {
                self.names.remove(name);
            }
        }
    }
}

static TABLE: Mutex<Option<Table>> = Mutex::new(None);

fn with<R>(f: impl FnOnce(&mut Table) -> R) -> R {
    crate::malloc::untracked(|| {
        f(TABLE
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get_or_insert_with(Table::default))
    })
}

pub(crate) fn reset() {
    with(|t| *t = Table::default());
}

fn get<R>(ifp: *const c_void, what: &str, f: impl FnOnce(&mut If) -> R) -> Option<R> {
    // if_free defers the memory through NET_EPOCH_CALL (if.c if_free ->
    // if_destroy): a section that still holds the pointer may read it.
    let in_epoch = crate::epoch::depth() > 0;
    let r = with(|t| match t.ifs.get_mut(&(ifp as usize)) {
        Some(i) if !i.freed || in_epoch => Ok(f(i)),
        Some(_) => Err(format!("{what}: ifnet {ifp:p} used after if_free")),
        None => Err(format!("{what}: {ifp:p} is not an ifnet")),
    });
    match r {
        Ok(x) => Some(x),
        Err(e) => {
            violation(ViolationKind::BadArgument, e);
            None
        }
    }
}

fn cstr(p: *const c_char) -> String {
    if p.is_null() {
        return String::new();
    }
    // SAFETY: NUL-terminated string from the module.
    crate::malloc::untracked(|| unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned())
}

/// Snapshot of the interface at `ifp`.
pub fn view(ifp: usize) -> Option<IfView> {
    with(|t| t.ifs.get(&ifp).filter(|i| !i.freed).map(|i| i.v.clone()))
}

/// Attached interfaces of vnet `v`, by index.
pub fn list(v: usize) -> Vec<IfView> {
    let mut l = with(|t| {
        t.ifs
            .values()
            .filter(|i| !i.freed && i.v.attached && i.v.vnet == v)
            .map(|i| i.v.clone())
            .collect::<Vec<_>>()
    });
    l.sort_by_key(|i| i.index);
    l
}

/// The attached interface `name` in vnet `v`.
pub fn by_name(v: usize, name: &str) -> Option<IfView> {
    with(|t| {
        let addrs = t.names.get(name)?;
        addrs
            .iter()
            .filter_map(|a| t.ifs.get(a))
            .find(|i| !i.freed && i.v.attached && i.v.vnet == v && i.v.name == name)
            .map(|i| i.v.clone())
    })
}

/// Interface by index (any vnet), for scope checks (ifnet_byindex).
pub fn by_index(idx: u32) -> Option<usize> {
    with(|t| t.index.get(idx as usize).copied().filter(|&a| a != 0))
}

/// (ioctl, transmit, output) function addresses.
pub fn fns(ifp: usize) -> (usize, usize, usize) {
    with(|t| {
        t.ifs
            .get(&ifp)
            .map_or((0, 0, 0), |i| (i.ioctl, i.transmit, i.output))
    })
}

/// Set/clear the "a bpf listener is attached" state (tcpdump -i).
pub fn set_listener(ifp: usize, on: bool) {
    with(|t| {
        if let Some(i) = t.ifs.get_mut(&ifp) {
            i.listeners = on;
        }
    });
}

/// Packets tapped on `ifp`: (link header, packet bytes); taken.
pub fn take_taps(ifp: usize) -> Vec<(Vec<u8>, Vec<u8>)> {
    with(|t| {
        t.ifs
            .get_mut(&ifp)
            .map(|i| std::mem::take(&mut i.taps))
            .unwrap_or_default()
    })
}

/// Interfaces allocated and not freed (leak check).
pub(crate) fn leaks() -> Vec<crate::Violation> {
    with(|t| {
        t.ifs
            .values()
            .filter(|i| !i.freed)
            .map(|i| crate::Violation {
                kind: ViolationKind::Malloc,
                what: format!("ifnet {} ({:#x}) never if_free'd", i.v.name, i.v.addr),
            })
            .collect()
    })
}

/// if.c `if_alloc`.
#[no_mangle]
pub extern "C" fn if_alloc(ty: u8) -> *mut c_void {
    let _model = crate::malloc::Internal::enter();
    crate::epoch::may_sleep("if_alloc");
    let p = crate::malloc::untracked(|| Box::into_raw(vec![0u8; SIZEOF_IFNET].into_boxed_slice()))
        as *mut u8 as usize;
    let vnet = crate::vnet::curvnet() as usize;
    with(|t| {
        let idx = t
            .free_index
            .pop_first()
            .unwrap_or_else(|| t.index.len().max(1));
        if t.index.len() <= idx {
            t.index.resize(idx + 1, 0);
        }
        if let Some(s) = t.index.get_mut(idx) {
            *s = p;
        }
        let v = IfView {
            addr: p,
            ty,
            index: idx as u32,
            vnet,
            home_vnet: vnet,
            mtu: 0,
            ..IfView::default()
        };
        t.ifs.insert(p, If { v, ..If::default() });
    });
    p as *mut c_void
}

/// if.c `if_initname`.
#[no_mangle]
pub extern "C" fn if_initname(ifp: *mut c_void, name: *const c_char, unit: c_int) {
    let _model = crate::malloc::Internal::enter();
    let n = cstr(name);
    let r = get(ifp, "if_initname", |i| {
        i.v.dname = n.clone();
        i.dname_ptr = name as usize;
        i.v.dunit = unit;
        let mut x = if unit != IF_DUNIT_NONE {
            format!("{n}{unit}")
        } else {
            n
        };
        x.truncate(15);
        let old = std::mem::replace(&mut i.v.name, x.clone());
        (old, x, i.freed)
    });
    if let Some((old, new, freed)) = r {
        with(|t| {
            t.unname(&old, ifp as usize);
            if !freed {
                t.names.entry(new).or_default().push(ifp as usize);
            }
        });
    }
}

/// if.c `if_attach`.
#[no_mangle]
pub extern "C" fn if_attach(ifp: *mut c_void) {
    let _model = crate::malloc::Internal::enter();
    crate::epoch::may_sleep("if_attach");
    // if_attach_internal: the interface joins the "all" group (IFG_ALL).
    let r = get(ifp, "if_attach", |i| {
        if i.v.attached {
            Err("if_attach twice")
        } else {
            i.v.attached = true;
            i.v.groups.push("all".to_owned());
            Ok(())
        }
    });
    if let Some(Err(e)) = r {
        violation(ViolationKind::BadArgument, e);
    }
}

/// if.c `if_detach`.
#[no_mangle]
pub extern "C" fn if_detach(ifp: *mut c_void) {
    let _model = crate::malloc::Internal::enter();
    crate::epoch::may_sleep("if_detach");
    // if_detach_internal: in a vnet that is shutting down it neither
    // purges addresses nor runs the domains' ifdetach ("the stack
    // teardown will do all the work top-down") but unlinks the ifnet, so
    // ip_destroy/ip6_destroy, which scrub the addresses of the ifnets
    // still on V_ifnet, must have run already: otherwise the address
    // stays in the in_ifaddr hash ("hashdestroy: hashtbl not empty"
    // panic under INVARIANTS, nd6_timer faults on GENERIC).
    if let Some(v) = view(ifp as usize).map(|v| v.vnet) {
        if crate::vnet::shutting_down(v) && !crate::vnet::ip_destroyed(v) {
            violation(
                ViolationKind::BadArgument,
                "if_detach in a vnet being destroyed before ip_destroy/ip6_destroy: \
                 its addresses stay in the address hashes (hashdestroy panic)",
            );
        }
    }
    // if_detach_internal under ifnet_detach_sxlock: if_delgroups, then
    // if_down (clears IFF_UP).
    crate::witness::with_detach_lock(|| {
        get(ifp, "if_detach", |i| {
            i.v.attached = false;
            i.v.groups.clear();
            i.v.flags &= !sys_bindings::ifnet::IFF_UP;
        })
    });
}

/// if.c `if_free`.
#[no_mangle]
pub extern "C" fn if_free(ifp: *mut c_void) {
    let _model = crate::malloc::Internal::enter();
    let r = get(ifp, "if_free", |i| {
        let attached = i.v.attached;
        i.freed = true;
        (attached, i.v.index, i.v.name.clone())
    });
    if let Some((attached, idx, name)) = r {
        if attached {
            violation(ViolationKind::BadArgument, "if_free of an attached ifnet");
        }
        with(|t| {
            t.unname(&name, ifp as usize);
            if let Some(s) = t.index.get_mut(idx as usize) {
                if *s != 0 && idx >= 1 {
                    t.free_index.insert(idx as usize);
                }
                *s = 0;
            }
        });
    }
}

macro_rules! getter {
    ($name:ident, $t:ty, |$i:ident| $e:expr) => {
        /// if.c IfAPI accessor of the same name.
        #[no_mangle]
        pub extern "C" fn $name(ifp: *mut c_void) -> $t {
            let _model = crate::malloc::Internal::enter();
            get(ifp, stringify!($name), |$i| $e).unwrap_or_default()
        }
    };
}

getter!(if_getflags, c_int, |i| i.v.flags);
getter!(if_getdrvflags, c_int, |i| i.v.drv_flags);
getter!(if_getmtu, c_int, |i| i.v.mtu);
getter!(if_getindex, c_int, |i| i.v.index as c_int);
getter!(if_getdunit, c_int, |i| i.v.dunit);
getter!(if_getfib, c_uint, |i| i.v.fib);
getter!(if_gettype, c_int, |i| c_int::from(i.v.ty));
getter!(if_getaddrlen, u8, |_i| 0);

/// if.c `if_getsoftc`.
#[no_mangle]
pub extern "C" fn if_getsoftc(ifp: *mut c_void) -> *mut c_void {
    let _model = crate::malloc::Internal::enter();
    get(ifp, "if_getsoftc", |i| i.v.softc).unwrap_or(0) as *mut c_void
}

/// if.c `if_setsoftc`.
#[no_mangle]
pub extern "C" fn if_setsoftc(ifp: *mut c_void, sc: *mut c_void) -> c_int {
    let _model = crate::malloc::Internal::enter();
    get(ifp, "if_setsoftc", |i| i.v.softc = sc as usize);
    0
}

/// if.c `if_getdname`.
#[no_mangle]
pub extern "C" fn if_getdname(ifp: *mut c_void) -> *const c_char {
    let _model = crate::malloc::Internal::enter();
    get(ifp, "if_getdname", |i| i.dname_ptr).unwrap_or(0) as *const c_char
}

/// if.c `if_setdname`.
#[no_mangle]
pub extern "C" fn if_setdname(ifp: *mut c_void, name: *const c_char) {
    let _model = crate::malloc::Internal::enter();
    let n = cstr(name);
    get(ifp, "if_setdname", |i| {
        i.dname_ptr = name as usize;
        i.v.dname = n;
    });
}

/// if.c `if_name`: the ifnet's own if_xname array.
#[no_mangle]
pub extern "C" fn if_name(ifp: *mut c_void) -> *const c_char {
    let _model = crate::malloc::Internal::enter();
    let name = get(ifp, "if_name", |i| i.v.name.clone()).unwrap_or_default();
    // The real if_xname lives inside struct ifnet at offset 88.
    let at = (ifp as usize + sys_bindings::ifnet::ifnet_offsets::IF_XNAME) as *mut u8;
    let b = name.as_bytes();
    let n = b.len().min(15);
    // SAFETY: the model's ifnet block is SIZEOF_IFNET bytes; if_xname is
    // 16 bytes at IF_XNAME.
    unsafe {
        std::ptr::copy_nonoverlapping(b.as_ptr(), at, n);
        *at.add(n) = 0;
    }
    at as *const c_char
}

/// if.c `if_getvnet`.
#[no_mangle]
pub extern "C" fn if_getvnet(ifp: *mut c_void) -> *mut c_void {
    let _model = crate::malloc::Internal::enter();
    get(ifp, "if_getvnet", |i| i.v.vnet).unwrap_or(0) as *mut c_void
}

/// if.c `if_setflags`.
#[no_mangle]
pub extern "C" fn if_setflags(ifp: *mut c_void, f: c_int) -> c_int {
    let _model = crate::malloc::Internal::enter();
    get(ifp, "if_setflags", |i| i.v.flags = f);
    0
}

/// if.c `if_setflagbits`.
#[no_mangle]
pub extern "C" fn if_setflagbits(ifp: *mut c_void, set: c_int, clear: c_int) -> c_int {
    let _model = crate::malloc::Internal::enter();
    get(ifp, "if_setflagbits", |i| {
        i.v.flags = (i.v.flags | set) & !clear
    });
    0
}

/// if.c `if_setdrvflags`.
#[no_mangle]
pub extern "C" fn if_setdrvflags(ifp: *mut c_void, f: c_int) -> c_int {
    let _model = crate::malloc::Internal::enter();
    get(ifp, "if_setdrvflags", |i| i.v.drv_flags = f);
    0
}

/// if.c `if_setdrvflagbits`.
#[no_mangle]
pub extern "C" fn if_setdrvflagbits(ifp: *mut c_void, set: c_int, clear: c_int) -> c_int {
    let _model = crate::malloc::Internal::enter();
    get(ifp, "if_setdrvflagbits", |i| {
        i.v.drv_flags = (i.v.drv_flags | set) & !clear
    });
    0
}

/// if.c `if_setmtu`.
#[no_mangle]
pub extern "C" fn if_setmtu(ifp: *mut c_void, mtu: c_int) -> c_int {
    let _model = crate::malloc::Internal::enter();
    get(ifp, "if_setmtu", |i| i.v.mtu = mtu);
    0
}

macro_rules! setfn {
    ($name:ident, $field:ident) => {
        /// if.c IfAPI setter of the same name.
        #[no_mangle]
        pub extern "C" fn $name(ifp: *mut c_void, f: usize) {
            let _model = crate::malloc::Internal::enter();
            get(ifp, stringify!($name), |i| i.$field = f);
        }
    };
}
setfn!(if_setioctlfn, ioctl);
setfn!(if_settransmitfn, transmit);
setfn!(if_setoutputfn, output);
setfn!(if_setqflushfn, qflush);

/// if.c `if_setinitfn` (unused by the module; accepted).
#[no_mangle]
pub extern "C" fn if_setinitfn(ifp: *mut c_void, _f: usize) {
    let _model = crate::malloc::Internal::enter();
    get(ifp, "if_setinitfn", |_| ());
}

/// if.c `if_setreassignfn`: called by if_vmove between detach and
/// attach.
#[no_mangle]
pub extern "C" fn if_setreassignfn(ifp: *mut c_void, f: usize) {
    let _model = crate::malloc::Internal::enter();
    get(ifp, "if_setreassignfn", |i| i.reassign = f);
}

/// if.c `if_setgetcounterfn`.
#[no_mangle]
pub extern "C" fn if_setgetcounterfn(ifp: *mut c_void, _f: usize) {
    let _model = crate::malloc::Internal::enter();
    get(ifp, "if_setgetcounterfn", |_| ());
}

/// if.c `if_inc_counter`.
#[no_mangle]
pub extern "C" fn if_inc_counter(ifp: *mut c_void, cnt: c_int, inc: i64) {
    let _model = crate::malloc::Internal::enter();
    let ok = get(ifp, "if_inc_counter", |i| {
        match i.v.counters.get_mut(cnt as usize) {
            Some(c) => {
                *c = c.wrapping_add_signed(inc);
                true
            }
            None => false,
        }
    });
    if ok == Some(false) {
        violation(
            ViolationKind::BadArgument,
            format!("if_inc_counter: bad counter {cnt}"),
        );
    }
}

/// if.c `if_get_counter_default`.
#[no_mangle]
pub extern "C" fn if_get_counter_default(ifp: *mut c_void, cnt: c_int) -> u64 {
    let _model = crate::malloc::Internal::enter();
    get(ifp, "if_get_counter_default", |i| {
        i.v.counters.get(cnt as usize).copied().unwrap_or(0)
    })
    .unwrap_or(0)
}

/// if.c `if_addgroup`.
#[no_mangle]
pub extern "C" fn if_addgroup(ifp: *mut c_void, group: *const c_char) -> c_int {
    let _model = crate::malloc::Internal::enter();
    crate::epoch::may_sleep("if_addgroup");
    let g = cstr(group);
    if g.ends_with(|c: char| c.is_ascii_digit()) {
        return EINVAL;
    }
    get(ifp, "if_addgroup", |i| {
        if i.v.groups.contains(&g) {
            EEXIST
        } else {
            i.v.groups.push(g);
            0
        }
    })
    .unwrap_or(EINVAL)
}

/// if.c `if_delgroup`.
#[no_mangle]
pub extern "C" fn if_delgroup(ifp: *mut c_void, group: *const c_char) -> c_int {
    let _model = crate::malloc::Internal::enter();
    let g = cstr(group);
    get(ifp, "if_delgroup", |i| {
        let n = i.v.groups.len();
        i.v.groups.retain(|x| *x != g);
        if i.v.groups.len() == n {
            ENOENT
        } else {
            0
        }
    })
    .unwrap_or(ENOENT)
}

/// if.c `ifunit`.
#[no_mangle]
pub extern "C" fn ifunit(name: *const c_char) -> *mut c_void {
    let _model = crate::malloc::Internal::enter();
    let n = cstr(name);
    by_name(crate::vnet::curvnet() as usize, &n).map_or(0, |i| i.addr) as *mut c_void
}

/// if.c `ifunit_ref`.
#[no_mangle]
pub extern "C" fn ifunit_ref(name: *const c_char) -> *mut c_void {
    let _model = crate::malloc::Internal::enter();
    let p = ifunit(name);
    if !p.is_null() {
        if_ref(p);
    }
    p
}

/// if.c `if_ref`.
#[no_mangle]
pub extern "C" fn if_ref(ifp: *mut c_void) {
    let _model = crate::malloc::Internal::enter();
    get(ifp, "if_ref", |i| i.refs += 1);
}

/// if.c `if_rele`.
#[no_mangle]
pub extern "C" fn if_rele(ifp: *mut c_void) {
    let _model = crate::malloc::Internal::enter();
    let r = with(|t| {
        t.ifs.get_mut(&(ifp as usize)).map(|i| {
            i.refs -= 1;
            i.refs
        })
    });
    if r.is_some_and(|r| r < 0) {
        violation(ViolationKind::RefcountUnderflow, "if_rele without if_ref");
    }
}

/// if.c `if_link_state_change`.
#[no_mangle]
pub extern "C" fn if_link_state_change(ifp: *mut c_void, state: c_int) {
    let _model = crate::malloc::Internal::enter();
    get(ifp, "if_link_state_change", |i| i.v.link_state = state);
}

/// if.c `ifr_data_get_ptr`: `ifr_data` at offset 16 of struct ifreq.
#[no_mangle]
pub extern "C" fn ifr_data_get_ptr(ifrp: *mut c_void) -> *mut c_void {
    let _model = crate::malloc::Internal::enter();
    // SAFETY: a struct ifreq (32 bytes) from the caller.
    unsafe { *(ifrp.cast::<u8>().add(16).cast::<*mut c_void>()) }
}

/// bpf.c `bpfattach`.
#[no_mangle]
pub extern "C" fn bpfattach(ifp: *mut c_void, dlt: c_uint, hdrlen: c_uint) {
    let _model = crate::malloc::Internal::enter();
    crate::epoch::may_sleep("bpfattach");
    get(ifp, "bpfattach", |i| i.v.bpf = Some((dlt, hdrlen)));
}

/// bpf.c `bpfdetach` (no-op when not attached).
#[no_mangle]
pub extern "C" fn bpfdetach(ifp: *mut c_void) {
    let _model = crate::malloc::Internal::enter();
    get(ifp, "bpfdetach", |i| {
        i.v.bpf = None;
        i.listeners = false;
    });
}

/// bpf.c `bpf_peers_present_if`.
#[no_mangle]
pub extern "C" fn bpf_peers_present_if(ifp: *mut c_void) -> bool {
    let _model = crate::malloc::Internal::enter();
    get(ifp, "bpf_peers_present_if", |i| {
        i.v.bpf.is_some() && i.listeners
    })
    .unwrap_or(false)
}

/// bpf.c `bpf_mtap2_if`: records (header, packet) when listened to.
#[no_mangle]
pub extern "C" fn bpf_mtap2_if(ifp: *mut c_void, data: *mut c_void, dlen: c_uint, m: *mut mbuf) {
    let _model = crate::malloc::Internal::enter();
    if !crate::mbuf::check_live(m, "bpf_mtap2_if") {
        return;
    }
    let pkt = crate::mbuf::bytes(m).unwrap_or_default();
    // SAFETY: the caller's header of dlen bytes.
    let hdr = crate::malloc::untracked(|| {
        unsafe { std::slice::from_raw_parts(data.cast::<u8>(), dlen as usize) }.to_vec()
    });
    get(ifp, "bpf_mtap2_if", |i| {
        if i.v.bpf.is_some() && i.listeners {
            i.taps.push((hdr, pkt));
        }
    });
}

/// Call the interface's if_ioctl as ifioctl does (no epoch, sleepable),
/// with a kernel copy of `data` (at least IOCPARM_LEN(cmd) bytes).
pub fn call_ioctl(ifp: usize, cmd: c_ulong, data: &mut [u8]) -> c_int {
    let (f, _, _) = fns(ifp);
    if f == 0 {
        return EINVAL;
    }
    let need = ((cmd >> 16) & 0x1fff) as usize;
    let mut buf = crate::malloc::untracked(|| {
        let mut b = vec![0u8; need.max(data.len())];
        if let Some(d) = b.get_mut(..data.len()) {
            d.copy_from_slice(data);
        }
        b
    });
    // SAFETY: an if_ioctl_fn_t installed by the module.
    let f: unsafe extern "C" fn(*mut c_void, c_ulong, *mut c_char) -> c_int =
        unsafe { std::mem::transmute(f) };
    let v = view(ifp).map_or(0, |v| v.vnet);
    // SAFETY: as ifioctl calls it: a referenced ifnet, kernel buffer.
    let e = crate::vnet::with_vnet(v as *mut _, || {
        crate::malloc::in_module(|| unsafe { f(ifp as *mut c_void, cmd, buf.as_mut_ptr().cast()) })
    });
    let n = data.len();
    if let Some(src) = buf.get(..n) {
        data.copy_from_slice(src);
    }
    e
}

/// Call if_transmit inside the net epoch (as ip_output/ip6_output do).
pub fn call_transmit(ifp: usize, m: *mut mbuf) -> c_int {
    let (_, f, _) = fns(ifp);
    if f == 0 {
        crate::mbuf::free_chain(m, "if_transmit(missing)");
        return EINVAL;
    }
    // SAFETY: an if_transmit_fn_t installed by the module.
    let f: unsafe extern "C" fn(*mut c_void, *mut mbuf) -> c_int =
        unsafe { std::mem::transmute(f) };
    let v = view(ifp).map_or(0, |v| v.vnet);
    crate::vnet::with_vnet(v as *mut _, || {
        crate::epoch::with_section(|| {
            crate::malloc::in_module(|| unsafe { f(ifp as *mut c_void, m) })
        })
    })
}

/// `_IOW('i', 16, struct ifreq)` SIOCSIFFLAGS, `_IOW('i', 34, ...)`
/// SIOCSIFMTU, `_IOW('i', 12, ...)` SIOCSIFADDR (sys/sys/sockio.h).
pub const SIOCSIFFLAGS: c_ulong = 0x8020_6910;
pub const SIOCSIFMTU: c_ulong = 0x8020_6922;
pub const SIOCSIFADDR: c_ulong = 0x8020_690c;
/// sys/sys/priv.h.
pub const PRIV_NET_SETIFMTU: c_int = 398;
pub const PRIV_NET_SETIFFLAGS: c_int = 399;
/// IFF_CANTCHANGE (sys/net/if.h).
const IFF_CANTCHANGE: c_int =
    0x2 | 0x10 | 0x40 | 0x400 | 0x800 | 0x8000 | 0x200 | 0x100 | 0x200000 | 0x10000 | 0x20;

fn ifreq_with(name: &str, at16: &[u8]) -> [u8; 32] {
    let mut r = [0u8; 32];
    for (d, s) in r.iter_mut().zip(name.bytes().take(15)) {
        *d = s;
    }
    for (d, s) in r.iter_mut().skip(16).zip(at16) {
        *d = *s;
    }
    r
}

/// `ifconfig NAME up|down|monitor|...`: if.c ifhwioctl SIOCSIFFLAGS
/// (priv_check PRIV_NET_SETIFFLAGS; if_flags = kept IFF_CANTCHANGE bits |
/// the new changeable bits; then the driver's if_ioctl).
pub fn set_flags(ifp: usize, set: c_int, clear: c_int) -> c_int {
    let e = crate::thread::priv_check(
        crate::thread::curthread_addr() as *mut c_void,
        PRIV_NET_SETIFFLAGS,
    );
    if e != 0 {
        return e;
    }
    let Some(old) = view(ifp).map(|v| v.flags) else {
        return 6;
    };
    let new = (old | set) & !clear;
    with(|t| {
        if let Some(i) = t.ifs.get_mut(&ifp) {
            i.v.flags = (i.v.flags & IFF_CANTCHANGE) | (new & !IFF_CANTCHANGE);
        }
    });
    let mut ifr = ifreq_with(
        "",
        &[(new & 0xffff) as u16, (new >> 16) as u16]
            .map(u16::to_ne_bytes)
            .concat(),
    );
    let _ = call_ioctl(ifp, SIOCSIFFLAGS, &mut ifr); // ifhwioctl ignores it
    0
}

/// `ifconfig NAME mtu N`: if.c ifhwioctl SIOCSIFMTU (priv_check
/// PRIV_NET_SETIFMTU; IF_MINMTU 72 ..= IF_MAXMTU 65535 else EINVAL; the
/// driver's error is returned).
pub fn set_mtu(ifp: usize, mtu: c_int) -> c_int {
    let e = crate::thread::priv_check(
        crate::thread::curthread_addr() as *mut c_void,
        PRIV_NET_SETIFMTU,
    );
    if e != 0 {
        return e;
    }
    if !(72..=65535).contains(&mtu) {
        return EINVAL;
    }
    let mut ifr = ifreq_with("", &mtu.to_ne_bytes());
    call_ioctl(ifp, SIOCSIFMTU, &mut ifr)
}

/// `ifconfig NAME inet A`: in.c in_ifinit calls the driver's if_ioctl
/// with SIOCSIFADDR and a `struct ifaddr *` (the model passes a zeroed
/// block); on success the address becomes local (srcaddr callbacks fire).
pub fn add_inet(ifp: usize, a: std::net::IpAddr) -> c_int {
    let mut ifa = [0u8; 512];
    let e = call_ioctl(ifp, SIOCSIFADDR, &mut ifa);
    if e == 0 {
        let v = view(ifp).map_or(0, |v| v.vnet);
        crate::vnet::with_vnet(v as *mut _, || crate::netinet::addr_event(a, true));
    }
    e
}

/// `ifconfig NAME vnet J` (if.c if_vmove_loan + if_vmove): EEXIST when
/// already there or the name is taken in the target; then
/// if_detach_internal(vmove) (NET_EPOCH_WAIT, drain callbacks, groups
/// dropped, if_down), the driver's if_reassign(ifp, new_vnet, NULL), and
/// if_attach_internal(vmove) in the target vnet (group "all",
/// if_clone_restoregroup).  Sleeps.
pub fn vmove(ifp: usize, new: *mut sys_bindings::vnet::vnet) -> c_int {
    crate::epoch::may_sleep("if_vmove_loan");
    let to = new as usize;
    let Some(v) = view(ifp) else {
        return 6;
    };
    if v.vnet == to {
        return EEXIST;
    }
    // if_vmove_loan's name check, then if_vmove under the detach lock.
    if by_name(to, &v.name).is_some() {
        return EEXIST;
    }
    crate::witness::with_detach_lock(|| if_vmove(ifp, to))
}

/// if.c `vnet_if_return`'s move of a loaned interface home: if_vmove
/// under `ifnet_detach_sxlock`, without if_vmove_loan's name check (two
/// interfaces of one name may then live in the home vnet).
pub fn vmove_home(ifp: usize, home: *mut sys_bindings::vnet::vnet) -> c_int {
    crate::witness::with_detach_lock(|| if_vmove(ifp, home as usize))
}

/// if.c `if_vmove`.
fn if_vmove(ifp: usize, to: usize) -> c_int {
    let Some(v) = view(ifp) else {
        return 6;
    };
    // if_unlink_ifnet + if_detach_internal(vmove)
    with(|t| {
        if let Some(i) = t.ifs.get_mut(&ifp) {
            i.v.attached = false;
        }
    });
    crate::epoch::epoch_wait_preempt(crate::epoch::net_epoch_preempt.0.cast());
    crate::epoch::flush_callbacks();
    let reassign = with(|t| {
        t.ifs.get_mut(&ifp).map_or(0, |i| {
            i.v.groups.clear();
            i.v.flags &= !sys_bindings::ifnet::IFF_UP;
            i.reassign
        })
    });
    if reassign != 0 {
        // SAFETY: an if_reassign_fn_t installed by the module.
        let f: unsafe extern "C" fn(*mut c_void, *mut c_void, *mut c_char) =
            unsafe { std::mem::transmute(reassign) };
        // SAFETY: called as if_vmove does, curvnet = the old vnet.
        crate::vnet::with_vnet(v.vnet as *mut _, || {
            crate::malloc::in_module(|| unsafe {
                f(ifp as *mut c_void, to as *mut c_void, std::ptr::null_mut())
            })
        });
    }
    // if_attach_internal(vmove) in the target vnet
    let group = crate::clone::group_of(v.home_vnet, &v.dname);
    with(|t| {
        if let Some(i) = t.ifs.get_mut(&ifp) {
            i.v.vnet = to;
            i.v.attached = true;
            i.v.groups.push("all".to_owned());
            if let Some(g) = group {
                i.v.groups.push(g);
            }
        }
    });
    0
}

/// Attached interfaces living in `v` whose home is elsewhere.
pub fn guests_of(v: usize) -> Vec<(usize, usize)> {
    with(|t| {
        t.ifs
            .values()
            .filter(|i| !i.freed && i.v.attached && i.v.vnet == v && i.v.home_vnet != v)
            .map(|i| (i.v.addr, i.v.home_vnet))
            .collect()
    })
}
