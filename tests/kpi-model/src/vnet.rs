//! VIMAGE: vnets, curvnet, per-vnet copies of the `set_vnet` area, and
//! VNET_SYSINIT/SYSUNINIT registration.
//!
//! FreeBSD 14.2 (b66633d79ade) sys/net/vnet.c: each vnet has its own copy
//! of the `set_vnet` linker set (`vnet_data_mem`) and `vnet_data_base =
//! vnet_data_mem - VNET_START`, so a variable `x` of the set is
//! `*(vnet_data_base + &x)` in that vnet; `vnet_alloc` copies the master
//! image and runs every registered constructor (sorted by subsystem,
//! order) with curvnet set; `vnet_destroy` runs the destructors in reverse
//! order.  `vnet_register_sysinit` inserts after equal keys and runs the
//! constructor in every existing vnet at once; `vnet_deregister_sysuninit`
//! runs the destructor in every vnet.  The model does the same with the
//! host binary's `set_vnet` section (the module's VNET variables and the
//! model's own kernel ones, e.g. `vnet_entry_ipsec_hhh_in`).
use crate::check::{violation, ViolationKind};
use std::alloc::{alloc_zeroed, Layout};
use std::ffi::c_void;
use std::sync::Mutex;
use sys_bindings::thread::TD_VNET_OFFSET;
use sys_bindings::vnet::{vnet, vnet_sysinit, VNET_MAGIC_N};

extern "C" {
    static __start_set_vnet: u8;
    static __stop_set_vnet: u8;
}

/// `vnet_entry_ipsec_hhh_in` (sys/net/if.c VNET_DEFINE): the per-vnet
/// IPsec input hook heads, [AF_INET head, AF_INET6 head].
#[no_mangle]
#[used]
#[link_section = "set_vnet"]
pub static vnet_entry_ipsec_hhh_in: [usize; 2] = [0; 2];

/// `vnet_entry_ipsec_hhh_out` (sys/net/if.c).
#[no_mangle]
#[used]
#[link_section = "set_vnet"]
pub static vnet_entry_ipsec_hhh_out: [usize; 2] = [0; 2];

/// `vnet_entry__rt_numfibs` (sys/net/route/route_tables.c VNET_DEFINE
/// `_rt_numfibs`, "net.fibs"): 1 unless a test changes it.
#[no_mangle]
#[used]
#[link_section = "set_vnet"]
pub static vnet_entry__rt_numfibs: u32 = 1;

/// The kernel's own VNET destructors around the module's, as 14.2
/// registers them (b66633d79ade): ip_input.c / ip6_input.c
/// `VNET_SYSUNINIT(ip|inet6, SI_SUB_PROTO_DOMAIN, SI_ORDER_THIRD,
/// ip_destroy|ip6_destroy)` (scrub every interface's addresses still on
/// V_ifnet, deregister the IPsec hhook heads, destroy the address
/// hashes) and key.c `VNET_SYSUNINIT(key_vnet_destroy,
/// SI_SUB_PROTO_DOMAIN, SI_ORDER_SECOND)` (the SPD goes).  Registered at
/// boot, so a module's destructor with equal keys runs before them.
static IP_DESTROY: KernelDestructor = KernelDestructor(vnet_sysinit {
    subsystem: 0x880_0000,
    order: 2,
    func: Some(ip_destroy),
    arg: std::ptr::null(),
    link: sys_bindings::vnet::vnet_sysinit_tailq_entry {
        tqe_next: std::ptr::null_mut(),
        tqe_prev: std::ptr::null_mut(),
    },
});
static KEY_VNET_DESTROY: KernelDestructor = KernelDestructor(vnet_sysinit {
    subsystem: 0x880_0000,
    order: 1,
    func: Some(key_vnet_destroy),
    arg: std::ptr::null(),
    link: sys_bindings::vnet::vnet_sysinit_tailq_entry {
        tqe_next: std::ptr::null_mut(),
        tqe_prev: std::ptr::null_mut(),
    },
});

/// A kernel `struct vnet_sysinit` in a static (read-only after init).
#[repr(transparent)]
struct KernelDestructor(vnet_sysinit);
// SAFETY: never written; its pointers are NULL.
unsafe impl Sync for KernelDestructor {}

/// Teardown steps the kernel has run, per vnet: (ip_destroy, key_vnet_destroy).
static STAGES: Mutex<Vec<(usize, bool, bool)>> = Mutex::new(Vec::new());

fn stage(v: usize, f: impl FnOnce(&mut (usize, bool, bool))) {
    crate::malloc::untracked(|| {
        let mut g = STAGES.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(x) = g.iter_mut().find(|x| x.0 == v) {
            f(x)
        } else {
            let mut x = (v, false, false);
            f(&mut x);
            g.push(x);
        }
    })
}

/// Has ip_destroy/ip6_destroy run in `v` (its addresses are scrubbed)?
pub fn ip_destroyed(v: usize) -> bool {
    crate::malloc::untracked(|| {
        STAGES
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .any(|x| x.0 == v && x.1)
    })
}

/// Has key_vnet_destroy run in `v` (its SPD is gone)?
pub fn spd_destroyed(v: usize) -> bool {
    crate::malloc::untracked(|| {
        STAGES
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .any(|x| x.0 == v && x.2)
    })
}

unsafe extern "C" fn ip_destroy(_: *const c_void) {
    let v = curvnet();
    stage(v as usize, |x| x.1 = true);
    // hhook_head_deregister of the IPsec heads: EBUSY (and a warning)
    // while a hook is still on one; the module must remove its hooks
    // before (its VNET_SYSUNINIT at SI_SUB_PROTO_IFATTACHDOMAIN).
    crate::hhook::vnet_uninit(v);
}

unsafe extern "C" fn key_vnet_destroy(_: *const c_void) {
    stage(curvnet() as usize, |x| x.2 = true);
}

/// `struct vnet *vnet0` (sys/net/vnet.c).
#[no_mangle]
pub static mut vnet0: *mut vnet = std::ptr::null_mut();

struct Reg {
    /// (subsystem, order, sysinit address) sorted.
    inits: Vec<(u32, u32, usize)>,
    uninits: Vec<(u32, u32, usize)>,
    vnets: Vec<usize>,
}

static REG: Mutex<Reg> = Mutex::new(Reg {
    inits: Vec::new(),
    uninits: Vec::new(),
    vnets: Vec::new(),
});

fn with<R>(f: impl FnOnce(&mut Reg) -> R) -> R {
    crate::malloc::untracked(|| f(&mut REG.lock().unwrap_or_else(|e| e.into_inner())))
}

fn set_bounds() -> (usize, usize) {
    // The linker provides the bounds (the section exists: the statics
    // above are in it); only the addresses are taken.
    (
        &raw const __start_set_vnet as usize,
        &raw const __stop_set_vnet as usize,
    )
}

/// Allocate a vnet with a fresh copy of the master `set_vnet` image.
fn alloc_vnet() -> *mut vnet {
    let (start, stop) = set_bounds();
    let len = stop - start;
    let l = Layout::from_size_align(len.max(8), 64).unwrap_or(Layout::new::<u64>());
    crate::malloc::untracked(|| {
        // SAFETY: non-zero layout; leaked for the life of the process
        // (a destroyed vnet's memory may still be read by a late thread).
        let mem = unsafe { alloc_zeroed(l) };
        // SAFETY: copying the master image [start, stop) into mem.
        unsafe { std::ptr::copy_nonoverlapping(start as *const u8, mem, len) };

        Box::into_raw(Box::new(vnet {
            vnet_le: sys_bindings::vnet::vnet_list_entry {
                le_next: std::ptr::null_mut(),
                le_prev: std::ptr::null_mut(),
            },
            vnet_magic_n: VNET_MAGIC_N,
            vnet_ifcnt: 0,
            vnet_sockcnt: 0,
            vnet_state: 0,
            vnet_data_mem: mem.cast::<c_void>(),
            vnet_data_base: (mem as usize).wrapping_sub(start),
            vnet_shutdown: false,
        }))
    })
}

/// Address of `var` (a `set_vnet` static) in vnet `v`'s copy.
pub fn var_addr(v: *const vnet, var: *const u8) -> *mut u8 {
    // SAFETY: v is a model vnet.
    let base = unsafe { (*v).vnet_data_base };
    base.wrapping_add(var as usize) as *mut u8
}

/// The calling thread's curvnet (td_vnet).
pub fn curvnet() -> *mut vnet {
    crate::thread::td_field(TD_VNET_OFFSET) as *mut vnet
}

/// CURVNET_SET(v) for the duration of `f` (model side).
pub fn with_vnet<R>(v: *mut vnet, f: impl FnOnce() -> R) -> R {
    struct Restore(usize);
    impl Drop for Restore {
        fn drop(&mut self) {
            crate::thread::set_td_field(TD_VNET_OFFSET, self.0);
        }
    }
    let _r = Restore(crate::thread::td_field(TD_VNET_OFFSET));
    crate::thread::set_td_field(TD_VNET_OFFSET, v as usize);
    f()
}

fn run(vs: usize, v: *mut vnet) {
    // SAFETY: a registered struct vnet_sysinit of the module.
    let (func, arg) = unsafe {
        (
            (*(vs as *const vnet_sysinit)).func,
            (*(vs as *const vnet_sysinit)).arg,
        )
    };
    if let Some(f) = func {
        // SAFETY: the module's constructor, called as vnet.c does, with
        // curvnet = v, in module context.
        with_vnet(v, || {
            crate::malloc::in_module(|| unsafe { f(arg.cast_mut()) })
        });
    }
}

pub(crate) fn reset() {
    with(|r| {
        r.inits.clear();
        r.uninits.clear();
        r.vnets.clear();
        insert_sorted(&mut r.uninits, &raw const KEY_VNET_DESTROY.0 as usize);
        insert_sorted(&mut r.uninits, &raw const IP_DESTROY.0 as usize);
    });
    crate::malloc::untracked(|| STAGES.lock().unwrap_or_else(|e| e.into_inner()).clear());
    let v0 = alloc_vnet();
    // SAFETY: tests are serialised by Model::start; nothing reads vnet0
    // concurrently with this write.
    unsafe { vnet0 = v0 };
    with(|r| r.vnets.push(v0 as usize));
    crate::thread::set_td_field(TD_VNET_OFFSET, v0 as usize);
    crate::hhook::vnet_init(v0);
}

/// vnet0.
pub fn vnet0_ptr() -> *mut vnet {
    // SAFETY: written only by reset (serialised).
    unsafe { vnet0 }
}

/// Live vnets in VNET_FOREACH order: newest first (vnet.c vnet_alloc
/// LIST_INSERT_HEADs each new vnet; vnet0 is last).
pub fn vnets() -> Vec<*mut vnet> {
    with(|r| r.vnets.iter().rev().map(|&v| v as *mut vnet).collect())
}

/// vnet.c `vnet_alloc`: a new vnet, constructors run in it.
pub fn create() -> *mut vnet {
    let v = alloc_vnet();
    with(|r| r.vnets.push(v as usize));
    crate::hhook::vnet_init(v);
    for (_, _, vs) in with(|r| r.inits.clone()) {
        run(vs, v);
    }
    v
}

/// vnet.c `vnet_destroy`: destructors in reverse order, then gone.
pub fn destroy(v: *mut vnet) {
    if v == vnet0_ptr() {
        violation(ViolationKind::BadArgument, "vnet_destroy(vnet0)");
        return;
    }
    // vnet_if_return (VNET_SYSUNINIT at SI_SUB_VNET_DONE, the first
    // destructor to run): interfaces on loan go back to their home vnet.
    // vnet_destroy holds ifnet_detach_sxlock around vnet_sysuninit.
    crate::witness::with_detach_lock(|| {
        for (ifp, home) in crate::ifnet::guests_of(v as usize) {
            with_vnet(v, || crate::ifnet::vmove_home(ifp, home as *mut vnet));
        }
        // SAFETY: model vnet.
        unsafe { (*v).vnet_shutdown = true };
        for (_, _, vs) in with(|r| r.uninits.clone()).into_iter().rev() {
            run(vs, v);
        }
    });
    with(|r| r.vnets.retain(|&x| x != v as usize));
}

fn key(vs: usize) -> (u32, u32) {
    // SAFETY: a module's struct vnet_sysinit.
    unsafe {
        (
            (*(vs as *const vnet_sysinit)).subsystem,
            (*(vs as *const vnet_sysinit)).order,
        )
    }
}

fn insert_sorted(list: &mut Vec<(u32, u32, usize)>, vs: usize) {
    let (s, o) = key(vs);
    let at = list
        .iter()
        .position(|&(s2, o2, _)| (s2, o2) > (s, o))
        .unwrap_or(list.len());
    list.insert(at, (s, o, vs));
}

/// vnet.c `vnet_register_sysinit`: insert, then run in every vnet.
#[no_mangle]
pub extern "C" fn vnet_register_sysinit(arg: *mut c_void) {
    let _model = crate::malloc::Internal::enter();
    crate::epoch::may_sleep("vnet_register_sysinit");
    let vs = arg as usize;
    with(|r| insert_sorted(&mut r.inits, vs));
    for v in vnets() {
        run(vs, v);
    }
}

/// vnet.c `vnet_deregister_sysinit`.
#[no_mangle]
pub extern "C" fn vnet_deregister_sysinit(arg: *mut c_void) {
    let _model = crate::malloc::Internal::enter();
    with(|r| r.inits.retain(|&(_, _, x)| x != arg as usize));
}

/// vnet.c `vnet_register_sysuninit`.
#[no_mangle]
pub extern "C" fn vnet_register_sysuninit(arg: *mut c_void) {
    let _model = crate::malloc::Internal::enter();
    with(|r| insert_sorted(&mut r.uninits, arg as usize));
}

/// vnet.c `vnet_deregister_sysuninit`: run in every vnet, then unlink.
#[no_mangle]
pub extern "C" fn vnet_deregister_sysuninit(arg: *mut c_void) {
    let _model = crate::malloc::Internal::enter();
    crate::epoch::may_sleep("vnet_deregister_sysuninit");
    for v in vnets() {
        run(arg as usize, v);
    }
    with(|r| r.uninits.retain(|&(_, _, x)| x != arg as usize));
}

/// Set net.fibs (`V_rt_numfibs`) in the current vnet.
pub fn set_numfibs(n: u32) {
    let p = var_addr(curvnet(), (&raw const vnet_entry__rt_numfibs).cast());
    // SAFETY: this vnet's copy of the variable.
    unsafe { p.cast::<u32>().write(n) };
}

/// Is `v` being torn down (`vnet->vnet_shutdown`, VNET_IS_SHUTTING_DOWN)?
pub fn shutting_down(v: usize) -> bool {
    if v == 0 {
        return false;
    }
    // SAFETY: a live model vnet (interfaces name only live ones).
    unsafe { (*(v as *const vnet)).vnet_shutdown }
}
