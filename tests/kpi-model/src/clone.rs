//! Interface cloners (sys/net/if_clone.c, FreeBSD 14.2 b66633d79ade).
//!
//! `ifc_attach_cloner` refuses NULL create/destroy, a name of IFCLOSIZ-1
//! or more characters, and a duplicate name in the vnet (if_clone_attach:
//! EEXIST, reported as NULL); new cloners are LIST_INSERT_HEAD'ed, so
//! `ifc_find_cloner_match` (first whose match accepts) prefers the newest.
//! `ifconfig X create` = if_clone_create → ifc_create_ifp →
//! if_clone_createif_nl: ifunit(name) exists → EEXIST; IFC_F_AUTOUNIT →
//! ifc_handle_unit; create_f(ifc, name[IFNAMSIZ], IFNAMSIZ, ifd, &ifp); on
//! success ifc_link_ifp (if_addgroup(cloner name) + list).  `ifconfig X
//! destroy` = if_clone_destroy: ifunit_ref (ENXIO), cloner by the ifnet's
//! if_dname in its home vnet (EINVAL), unlink (ENXIO if not ours),
//! destroy_f with curvnet = the ifnet's vnet; failure relinks.
//! `ifc_detach_cloner` destroys every remaining interface (IFC_F_FORCE).
use crate::check::{violation, ViolationKind};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::ffi::{c_char, c_int, c_void, CStr, CString};
use std::sync::Mutex;
use sys_bindings::if_clone::{
    if_clone_addreq, ifc_data, IFCLOSIZ, IFC_F_AUTOUNIT, IFC_F_FORCE, IFC_F_LIMITUNIT,
    IFC_F_SYSSPACE,
};

const EEXIST: c_int = 17;
const EINVAL: c_int = 22;
const ENXIO: c_int = 6;
const ENOSPC: c_int = 28;
/// IFNAMSIZ (sys/net/if.h).
pub const IFNAMSIZ: usize = 16;
const IF_MAXUNIT: c_int = 0x7fff;

/// A cloner's interfaces in link order, with O(log n) removal (the glue
/// benchmarks build 100,000 interfaces on one cloner).
#[derive(Default)]
struct IfList {
    by_seq: BTreeMap<u64, usize>,
    seq_of: HashMap<usize, u64>,
    next: u64,
}

impl IfList {
    fn push(&mut self, ifp: usize) {
        if self.seq_of.contains_key(&ifp) {
            return;
        }
        self.next += 1;
        self.by_seq.insert(self.next, ifp);
        self.seq_of.insert(ifp, self.next);
    }
    /// Unlink; true if it was linked.
    fn remove(&mut self, ifp: usize) -> bool {
        match self.seq_of.remove(&ifp) {
            Some(s) => self.by_seq.remove(&s).is_some(),
            None => false,
        }
    }
    fn first(&self) -> Option<usize> {
        self.by_seq.values().next().copied()
    }
}

struct Cloner {
    addr: usize,
    name: String,
    cname: CString,
    vnet: usize,
    match_f: usize,
    create_f: usize,
    destroy_f: usize,
    flags: u32,
    maxunit: c_int,
    units: BTreeSet<c_int>,
    ifs: IfList,
    detached: bool,
}

impl Cloner {
    /// A copy of everything but the unit and interface sets (what the
    /// create/destroy paths use outside the lock), so their cost does not
    /// grow with the number of interfaces.
    fn light(&self) -> Cloner {
        Cloner {
            addr: self.addr,
            name: self.name.clone(),
            cname: self.cname.clone(),
            vnet: self.vnet,
            match_f: self.match_f,
            create_f: self.create_f,
            destroy_f: self.destroy_f,
            flags: self.flags,
            maxunit: self.maxunit,
            units: BTreeSet::new(),
            ifs: IfList::default(),
            detached: self.detached,
        }
    }
}

static CLONERS: Mutex<Vec<Cloner>> = Mutex::new(Vec::new());

fn with<R>(f: impl FnOnce(&mut Vec<Cloner>) -> R) -> R {
    crate::malloc::untracked(|| f(&mut CLONERS.lock().unwrap_or_else(|e| e.into_inner())))
}

pub(crate) fn reset() {
    with(|c| c.clear());
}

/// Cloner names of vnet `v`, in lookup order (newest first).
pub fn names(v: usize) -> Vec<String> {
    with(|c| {
        c.iter()
            .filter(|x| x.vnet == v && !x.detached)
            .map(|x| x.name.clone())
            .collect()
    })
}

/// if_clone.c `ifc_attach_cloner`.
#[no_mangle]
pub extern "C" fn ifc_attach_cloner(name: *const c_char, req: *mut if_clone_addreq) -> *mut c_void {
    let _model = crate::malloc::Internal::enter();
    crate::epoch::may_sleep("ifc_attach_cloner");
    // SAFETY: caller's request and name.
    let (r, n) = unsafe { (&*req, CStr::from_ptr(name)) };
    let (Some(cf), Some(df)) = (r.create_f, r.destroy_f) else {
        return std::ptr::null_mut();
    };
    if n.to_bytes().len() >= IFCLOSIZ - 1 {
        return std::ptr::null_mut();
    }
    let v = crate::vnet::curvnet() as usize;
    let name_s = n.to_string_lossy().into_owned();
    if with(|c| {
        c.iter()
            .any(|x| x.vnet == v && !x.detached && x.name == name_s)
    }) {
        return std::ptr::null_mut(); // if_clone_attach: EEXIST
    }
    let addr = crate::malloc::untracked(|| Box::into_raw(Box::new([0u64; 16]))) as usize;
    let cl = Cloner {
        addr,
        name: name_s,
        cname: n.to_owned(),
        vnet: v,
        match_f: r.match_f.map_or(0, |f| f as usize),
        create_f: cf as usize,
        destroy_f: df as usize,
        flags: r.flags & IFC_F_AUTOUNIT,
        maxunit: if r.flags & IFC_F_LIMITUNIT != 0 {
            r.maxunit as c_int
        } else {
            IF_MAXUNIT
        },
        units: BTreeSet::new(),
        ifs: IfList::default(),
        detached: false,
    };
    with(|c| c.insert(0, cl));
    addr as *mut c_void
}

/// if_clone.c `ifc_detach_cloner` (if_clone_detach).
#[no_mangle]
pub extern "C" fn ifc_detach_cloner(ifc: *mut c_void) {
    let _model = crate::malloc::Internal::enter();
    crate::epoch::may_sleep("ifc_detach_cloner");
    let ok = with(|c| {
        c.iter_mut()
            .find(|x| x.addr == ifc as usize && !x.detached)
            .map(|x| x.detached = true)
            .is_some()
    });
    if !ok {
        violation(
            ViolationKind::BadArgument,
            "ifc_detach_cloner of an unknown cloner",
        );
        return;
    }
    // if_clone_detach: `while (!LIST_EMPTY(&ifc->ifc_iflist))
    // if_clone_destroyif_flags(ifc, LIST_FIRST(..), IFC_F_FORCE)`, and a
    // failed destroy relinks the interface (ifc_link_ifp): the kernel
    // retries forever, with Giant held by kldunload.  The model gives up
    // after many refusals and reports the hang.
    const HANG: u32 = 1000;
    let mut refusals = 0u32;
    while let Some(ifp) = with(|c| {
        c.iter()
            .find(|x| x.addr == ifc as usize)
            .and_then(|x| x.ifs.first())
    }) {
        let e = destroyif(ifc as usize, ifp, IFC_F_FORCE);
        if e == 0 {
            continue;
        }
        refusals += 1;
        if refusals >= HANG {
            violation(
                ViolationKind::Hang,
                format!(
                    "if_clone_detach: destroy of {ifp:#x} refused with IFC_F_FORCE \
                     (errno {e}) {HANG} times; the kernel retries forever (kldunload hangs)"
                ),
            );
            with(|c| {
                c.iter_mut()
                    .filter(|x| x.addr == ifc as usize)
                    .for_each(|x| {
                        x.ifs.remove(ifp);
                    })
            });
        }
    }
    with(|c| c.retain(|x| x.addr != ifc as usize));
}

/// if_clone.c `ifc_name2unit`.
#[no_mangle]
pub extern "C" fn ifc_name2unit(name: *const c_char, unit: *mut c_int) -> c_int {
    let _model = crate::malloc::Internal::enter();
    // SAFETY: NUL-terminated name; unit is writable.
    let b = unsafe { CStr::from_ptr(name) }.to_bytes();
    let digits = b
        .iter()
        .position(u8::is_ascii_digit)
        .map_or(&b[b.len()..], |i| &b[i..]);
    let r = if digits.is_empty() {
        Ok(-1)
    } else if (digits.len() > 1 && digits.first() == Some(&b'0'))
        || !digits.iter().all(u8::is_ascii_digit)
    {
        // leading zeroes, or a bogus unit number
        Err(EINVAL)
    } else {
        std::str::from_utf8(digits)
            .ok()
            .and_then(|s| s.parse::<c_int>().ok())
            .ok_or(EINVAL)
    };
    match r {
        Ok(u) => {
            // SAFETY: caller's out parameter.
            unsafe { *unit = u };
            0
        }
        Err(e) => e,
    }
}

fn alloc_unit_specific(ifc: usize, unit: c_int) -> c_int {
    let Some((maxunit, name, used)) = with(|c| {
        c.iter()
            .find(|x| x.addr == ifc)
            .map(|x| (x.maxunit, x.name.clone(), x.units.contains(&unit)))
    }) else {
        return EINVAL;
    };
    if unit > maxunit {
        return ENOSPC;
    }
    if used {
        return EEXIST;
    }
    if crate::ifnet::by_name(crate::vnet::curvnet() as usize, &format!("{name}{unit}")).is_some() {
        return EEXIST;
    }
    with(|c| {
        c.iter_mut().filter(|x| x.addr == ifc).for_each(|x| {
            x.units.insert(unit);
        })
    });
    0
}

/// if_clone.c `ifc_alloc_unit`.
#[no_mangle]
pub extern "C" fn ifc_alloc_unit(ifc: *mut c_void, unit: *mut c_int) -> c_int {
    let _model = crate::malloc::Internal::enter();
    // SAFETY: caller's in/out parameter.
    let want = unsafe { *unit };
    if want >= 0 {
        return alloc_unit_specific(ifc as usize, want);
    }
    let mut u = with(|c| {
        c.iter()
            .find(|x| x.addr == ifc as usize)
            .map(|x| (0..).find(|u| !x.units.contains(u)).unwrap_or(0))
    })
    .unwrap_or(0);
    loop {
        match alloc_unit_specific(ifc as usize, u) {
            EEXIST => u += 1,
            e => {
                // SAFETY: out parameter.
                unsafe { *unit = u };
                return e;
            }
        }
    }
}

/// if_clone.c `ifc_free_unit`.
#[no_mangle]
pub extern "C" fn ifc_free_unit(ifc: *mut c_void, unit: c_int) {
    let _model = crate::malloc::Internal::enter();
    let ok = with(|c| {
        c.iter_mut()
            .find(|x| x.addr == ifc as usize)
            .map(|x| x.units.remove(&unit))
    });
    if ok != Some(true) {
        violation(
            ViolationKind::BadArgument,
            format!("ifc_free_unit({unit}): not allocated (free_unr KASSERT)"),
        );
    }
}

/// if_clone.c `ifc_copyin`.
#[no_mangle]
pub extern "C" fn ifc_copyin(ifd: *const ifc_data, target: *mut c_void, len: usize) -> c_int {
    let _model = crate::malloc::Internal::enter();
    // SAFETY: the ifc_data the model passed to create_f.
    let d = unsafe { &*ifd };
    if d.params.is_null() {
        return EINVAL;
    }
    if d.flags & IFC_F_SYSSPACE != 0 {
        // SAFETY: kernel-space params of at least len bytes.
        unsafe { std::ptr::copy_nonoverlapping(d.params.cast::<u8>(), target.cast::<u8>(), len) };
        return 0;
    }
    crate::thread::copyin(d.params, target, len)
}

fn matches(c: &Cloner, name: &CStr) -> bool {
    if c.match_f == 0 {
        // ifc_simple_match: prefix = cloner name, then only digits.
        let b = name.to_bytes();
        let p = c.name.as_bytes();
        return b.starts_with(p)
            && b.get(p.len()..)
                .is_some_and(|r| r.iter().all(u8::is_ascii_digit));
    }
    // SAFETY: an ifc_match_f of the module.
    let f: unsafe extern "C" fn(*mut c_void, *const c_char) -> c_int =
        unsafe { std::mem::transmute(c.match_f) };
    // SAFETY: called as ifc_find_cloner_match does.
    crate::malloc::in_module(|| unsafe { f(c.addr as *mut c_void, name.as_ptr()) }) != 0
}

/// `ifconfig NAME create` with optional `params` (a user-space address,
/// as SIOCIFCREATE2's ifr_data): returns the created interface's name.
pub fn create(name: &str, params: usize) -> Result<String, c_int> {
    crate::epoch::may_sleep("if_clone_create");
    let v = crate::vnet::curvnet() as usize;
    let cname = CString::new(name).map_err(|_| EINVAL)?;
    let list = with(|c| {
        c.iter()
            .filter(|x| x.vnet == v && !x.detached)
            .map(Cloner::light)
            .collect::<Vec<_>>()
    });
    let Some(c) = list.iter().find(|c| matches(c, &cname)) else {
        return Err(EINVAL);
    };
    if crate::ifnet::by_name(v, name).is_some() {
        return Err(EEXIST);
    }
    let mut buf = [0u8; IFNAMSIZ];
    let nb = name.as_bytes();
    let n = nb.len().min(IFNAMSIZ - 1);
    if let Some(d) = buf.get_mut(..n) {
        d.copy_from_slice(&nb[..n])
    }
    let mut unit: c_int = -1;
    if c.flags & IFC_F_AUTOUNIT != 0 {
        let e = ifc_name2unit(buf.as_ptr().cast(), &mut unit);
        if e != 0 {
            return Err(e);
        }
        let wildcard = unit < 0;
        let e = ifc_alloc_unit(c.addr as *mut c_void, &mut unit);
        if e != 0 {
            return Err(e);
        }
        if wildcard {
            let s = format!("{name}{unit}");
            let m = s.len().min(IFNAMSIZ - 1);
            buf = [0; IFNAMSIZ];
            if let Some(d) = buf.get_mut(..m) {
                d.copy_from_slice(&s.as_bytes()[..m])
            }
        }
    }
    let mut ifd = ifc_data {
        flags: 0,
        unit: unit as u32,
        params: params as *mut c_void,
        vnet: std::ptr::null_mut(),
    };
    let mut ifp: *mut sys_bindings::ifnet::ifnet = std::ptr::null_mut();
    // SAFETY: the module's ifc_create_f.
    let f: sys_bindings::if_clone::ifc_create_f = unsafe { std::mem::transmute(c.create_f) };
    // SAFETY: called as ifc_create_ifp_nl_default does.
    let e = crate::malloc::in_module(|| unsafe {
        f(
            c.addr as *mut _,
            buf.as_mut_ptr().cast(),
            IFNAMSIZ,
            &mut ifd,
            &mut ifp,
        )
    });
    if e != 0 {
        if c.flags & IFC_F_AUTOUNIT != 0 {
            ifc_free_unit(c.addr as *mut c_void, unit);
        }
        return Err(e);
    }
    if ifp.is_null() {
        violation(
            ViolationKind::BadArgument,
            "ifc create_f returned 0 without an ifnet (MPASS)",
        );
        return Err(EINVAL);
    }
    // ifc_link_ifp
    crate::ifnet::if_addgroup(ifp.cast(), c.cname.as_ptr());
    with(|l| {
        l.iter_mut()
            .filter(|x| x.addr == c.addr)
            .for_each(|x| x.ifs.push(ifp as usize))
    });
    Ok(crate::ifnet::view(ifp as usize)
        .map(|v| v.name)
        .unwrap_or_default())
}

fn destroyif(ifc: usize, ifp: usize, flags: u32) -> c_int {
    let v = crate::ifnet::view(ifp).map_or(0, |v| v.vnet);
    crate::vnet::with_vnet(v as *mut _, || {
        let Some(c) = with(|l| {
            let c = l.iter_mut().find(|x| x.addr == ifc)?;
            c.ifs.remove(ifp).then(|| c.light())
        }) else {
            return ENXIO;
        };
        let _ = crate::ifnet::if_delgroup(ifp as *mut c_void, c.cname.as_ptr());
        let unit = crate::ifnet::view(ifp).map_or(0, |v| v.dunit);
        // SAFETY: the module's ifc_destroy_f.
        let f: sys_bindings::if_clone::ifc_destroy_f = unsafe { std::mem::transmute(c.destroy_f) };
        // SAFETY: called as if_clone_destroyif_flags does.
        let e = crate::malloc::in_module(|| unsafe { f(ifc as *mut _, ifp as *mut _, flags) });
        if e != 0 {
            crate::ifnet::if_addgroup(ifp as *mut c_void, c.cname.as_ptr());
            with(|l| {
                l.iter_mut()
                    .filter(|x| x.addr == ifc)
                    .for_each(|x| x.ifs.push(ifp))
            });
        } else if c.flags & IFC_F_AUTOUNIT != 0 {
            ifc_free_unit(ifc as *mut c_void, unit);
        }
        e
    })
}

/// `ifconfig NAME destroy` (if_clone_destroy).
pub fn destroy(name: &str) -> c_int {
    crate::epoch::may_sleep("if_clone_destroy");
    let v = crate::vnet::curvnet() as usize;
    let Some(i) = crate::ifnet::by_name(v, name) else {
        return ENXIO;
    };
    let Some(ifc) = with(|l| {
        l.iter()
            .find(|x| x.vnet == i.vnet && !x.detached && x.name == i.dname)
            .map(|x| x.addr)
    }) else {
        return EINVAL;
    };
    destroyif(ifc, i.addr, 0)
}

unsafe extern "C" fn stock_create(
    ifc: *mut sys_bindings::if_clone::if_clone,
    name: *mut c_char,
    _len: usize,
    ifd: *mut ifc_data,
    ifpp: *mut *mut sys_bindings::ifnet::ifnet,
) -> c_int {
    let _model = crate::malloc::Internal::enter();
    let dn = with(|l| {
        l.iter()
            .find(|x| x.addr == ifc as usize)
            .map(|x| x.cname.as_ptr() as usize)
    })
    .unwrap_or(0);
    let ifp = crate::ifnet::if_alloc(0x83);
    // SAFETY: ifd from the model.
    let unit = unsafe { (*ifd).unit } as c_int;
    crate::ifnet::if_initname(ifp, dn as *const c_char, unit);
    crate::ifnet::if_attach(ifp);
    let _ = name;
    // SAFETY: out parameter.
    unsafe { *ifpp = ifp.cast() };
    0
}

unsafe extern "C" fn stock_destroy(
    _ifc: *mut sys_bindings::if_clone::if_clone,
    ifp: *mut sys_bindings::ifnet::ifnet,
    _flags: u32,
) -> c_int {
    let _model = crate::malloc::Internal::enter();
    crate::ifnet::if_detach(ifp.cast());
    crate::ifnet::if_free(ifp.cast());
    0
}

/// Register a plain cloner `name` in the current vnet, as ipsec.ko's
/// stock "ipsec" cloner (if_clone_simple: simple match, auto units), so
/// tests can check that the module's cloner claims names ahead of it.
pub fn add_stock(name: &str) -> usize {
    let n = crate::malloc::untracked(|| CString::new(name).unwrap_or_default());
    let mut req = if_clone_addreq {
        version: 0,
        spare: 0,
        flags: IFC_F_AUTOUNIT,
        maxunit: 0,
        match_f: None,
        create_f: Some(stock_create),
        destroy_f: Some(stock_destroy),
    };
    ifc_attach_cloner(n.as_ptr(), &mut req) as usize
}

/// if_clone_restoregroup: the group name of the cloner `dname` of vnet
/// `home`, if it still exists.
pub fn group_of(home: usize, dname: &str) -> Option<String> {
    with(|l| {
        l.iter()
            .find(|x| x.vnet == home && !x.detached && x.name == dname)
            .map(|x| x.name.clone())
    })
}
