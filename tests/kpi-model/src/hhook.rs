//! hhook(9) heads for the IPsec hooks, per vnet, and running them as
//! netipsec does.
//!
//! FreeBSD 14.2 (b66633d79ade) sys/kern/kern_hhook.c: `hhook_add_hook`
//! (ENOENT for a NULL head, EEXIST for a duplicate (func, udata), ENOMEM
//! only with HHOOK_NOWAIT, appended at the tail, `*hki` copied),
//! `hhook_remove_hook` (0 even when absent), the `_lookup` variants (every
//! registered head of (type, id), all vnets), `hhook_run_hooks` (in order,
//! return values ignored).  sys/netinet/ip_input.c / ip6_input.c register
//! the IPSEC_IN/OUT heads per vnet with ids AF_INET / AF_INET6 and store
//! them in V_ipsec_hhh_in/out[HHOOK_IPSEC_INET/INET6] (sys/net/if.c).
use crate::check::{violation, ViolationKind};
use std::ffi::{c_int, c_void};
use std::sync::Mutex;
use sys_bindings::hhook::{hookinfo, HHOOK_NOWAIT, HHOOK_TYPE_IPSEC_IN, HHOOK_TYPE_IPSEC_OUT};
use sys_bindings::vnet::vnet;

/// sys/sys/errno.h.
const ENOENT: c_int = 2;
const EEXIST: c_int = 17;
const ENOMEM: c_int = 12;

#[derive(Clone, Copy, PartialEq, Eq)]
struct Hook {
    func: usize,
    udata: usize,
}

struct Head {
    addr: usize,
    vnet: usize,
    ty: i32,
    id: i32,
    hooks: Vec<Hook>,
    /// Threads running this head's hooks (hhook_run_hooks holds the
    /// head's rmlock read lock meanwhile).
    running: usize,
}

static HEADS: Mutex<Vec<Head>> = Mutex::new(Vec::new());
/// Signalled when a head's hooks finished running.
static IDLE: std::sync::Condvar = std::sync::Condvar::new();

fn with<R>(f: impl FnOnce(&mut Vec<Head>) -> R) -> R {
    crate::malloc::untracked(|| f(&mut HEADS.lock().unwrap_or_else(|e| e.into_inner())))
}

/// ip_vnet_init / ip6_vnet_init: register the four IPsec heads of `v`.
pub(crate) fn vnet_init(v: *mut vnet) {
    for (ty, var) in [
        (
            HHOOK_TYPE_IPSEC_IN,
            (&raw const crate::vnet::vnet_entry_ipsec_hhh_in).cast::<u8>(),
        ),
        (
            HHOOK_TYPE_IPSEC_OUT,
            (&raw const crate::vnet::vnet_entry_ipsec_hhh_out).cast::<u8>(),
        ),
    ] {
        for (i, id) in [2, 28].into_iter().enumerate() {
            let addr = crate::malloc::untracked(|| Box::into_raw(Box::new([0u64; 8]))) as usize;
            with(|h| {
                h.push(Head {
                    addr,
                    vnet: v as usize,
                    ty,
                    id,
                    hooks: Vec::new(),
                    running: 0,
                })
            });
            // SAFETY: this vnet's copy of the 2-pointer array.
            unsafe {
                crate::vnet::var_addr(v, var)
                    .cast::<usize>()
                    .add(i)
                    .write(addr)
            };
        }
    }
}

/// ip_vnet_destroy: hhook_head_deregister.  Hooks still on it are a
/// module bug (enc(4) removes its hooks in its VNET_SYSUNINIT first).
pub(crate) fn vnet_uninit(v: *mut vnet) {
    let left = with(|h| {
        let n = h
            .iter()
            .filter(|x| x.vnet == v as usize)
            .map(|x| x.hooks.len())
            .sum::<usize>();
        h.retain(|x| x.vnet != v as usize);
        n
    });
    if left > 0 {
        violation(ViolationKind::BadArgument, format!("vnet destroyed with {left} hook(s) still on its IPsec heads (hhook_head_deregister: EBUSY)"));
    }
}

pub(crate) fn reset() {
    with(|h| h.clear());
}

/// Hooks on the IPSEC_IN head of (vnet, af) (2 or 28).
pub fn hooks_in(v: *mut vnet, af: i32) -> usize {
    with(|h| {
        h.iter()
            .filter(|x| x.vnet == v as usize && x.ty == HHOOK_TYPE_IPSEC_IN && x.id == af)
            .map(|x| x.hooks.len())
            .sum()
    })
}

fn hook_of(hki: *const hookinfo) -> Hook {
    // SAFETY: caller passes a valid hookinfo.
    let k = unsafe { &*hki };
    Hook {
        func: k.hook_func.map_or(0, |f| f as usize),
        udata: k.hook_udata as usize,
    }
}

/// kern_hhook.c `hhook_add_hook`.
#[no_mangle]
pub extern "C" fn hhook_add_hook(hhh: *mut c_void, hki: *const hookinfo, flags: u32) -> c_int {
    let _model = crate::malloc::Internal::enter();
    if hhh.is_null() {
        return ENOENT;
    }
    let hk = hook_of(hki);
    let exists = with(|h| {
        h.iter()
            .find(|x| x.addr == hhh as usize)
            .map(|x| x.hooks.contains(&hk))
    });
    match exists {
        None => {
            violation(
                ViolationKind::BadArgument,
                format!("hhook_add_hook: {hhh:p} is not a registered head"),
            );
            return ENOENT;
        }
        Some(true) => return EEXIST,
        Some(false) => {}
    }
    let mflags = if flags & HHOOK_NOWAIT != 0 {
        crate::malloc::M_NOWAIT
    } else {
        crate::malloc::M_WAITOK
    };
    let Some(p) = crate::malloc::kmalloc(32, "hhook", mflags) else {
        return ENOMEM;
    };
    crate::malloc::kfree(p, "hhook"); // the model keeps the hook in its table
    with(|h| {
        if let Some(x) = h.iter_mut().find(|x| x.addr == hhh as usize) {
            x.hooks.push(hk);
        }
    });
    0
}

/// kern_hhook.c `hhook_remove_hook`.
#[no_mangle]
pub extern "C" fn hhook_remove_hook(hhh: *mut c_void, hki: *const hookinfo) -> c_int {
    let _model = crate::malloc::Internal::enter();
    if hhh.is_null() {
        return ENOENT;
    }
    let hk = hook_of(hki);
    // HHH_WLOCK (rm_wlock) waits for hooks running under the read lock:
    // when this returns, the removed hook is not running any more.
    crate::malloc::untracked(|| {
        let mut g = HEADS.lock().unwrap_or_else(|e| e.into_inner());
        loop {
            match g.iter_mut().find(|x| x.addr == hhh as usize) {
                Some(x) if x.running > 0 => {}
                Some(x) => {
                    x.hooks.retain(|y| *y != hk);
                    break;
                }
                None => break,
            }
            g = IDLE.wait(g).unwrap_or_else(|e| e.into_inner());
        }
    });
    0
}

fn heads_of(hki: *const hookinfo) -> Vec<usize> {
    // SAFETY: valid hookinfo.
    let (ty, id) = unsafe { ((*hki).hook_type, (*hki).hook_id) };
    with(|h| {
        h.iter()
            .filter(|x| x.ty == ty && x.id == id)
            .map(|x| x.addr)
            .collect()
    })
}

/// kern_hhook.c `hhook_add_hook_lookup`: every head of (type, id), all
/// vnets; the first error is returned.
#[no_mangle]
pub extern "C" fn hhook_add_hook_lookup(hki: *const hookinfo, flags: u32) -> c_int {
    let _model = crate::malloc::Internal::enter();
    let mut err = 0;
    for hhh in heads_of(hki) {
        let e = hhook_add_hook(hhh as *mut c_void, hki, flags);
        if e != 0 && err == 0 {
            err = e;
        }
    }
    err
}

/// kern_hhook.c `hhook_remove_hook_lookup`.
#[no_mangle]
pub extern "C" fn hhook_remove_hook_lookup(hki: *const hookinfo) -> c_int {
    let _model = crate::malloc::Internal::enter();
    for hhh in heads_of(hki) {
        hhook_remove_hook(hhh as *mut c_void, hki);
    }
    0
}

/// kern_hhook.c `hhook_run_hooks` on the IPSEC `ty` head of the current
/// vnet for inner family `af` (netipsec's ipsec_run_hhooks).
pub fn run_ipsec(ty: i32, af: i32, ctx: *mut c_void) {
    let v = crate::vnet::curvnet() as usize;
    let Some((head, hooks)) = with(|h| {
        h.iter_mut()
            .find(|x| x.vnet == v && x.ty == ty && x.id == af)
            .map(|x| {
                x.running += 1;
                (x.addr, x.hooks.clone())
            })
    }) else {
        return;
    };
    struct Done(usize);
    impl Drop for Done {
        fn drop(&mut self) {
            with(|h| {
                if let Some(x) = h.iter_mut().find(|x| x.addr == self.0) {
                    x.running = x.running.saturating_sub(1);
                }
            });
            IDLE.notify_all();
        }
    }
    let _done = Done(head);
    for hk in hooks {
        // SAFETY: a hook_func registered by the module (hhook_func_t).
        let f: unsafe extern "C" fn(
            i32,
            i32,
            *mut c_void,
            *mut c_void,
            *mut c_void,
            *mut c_void,
        ) -> c_int = unsafe { std::mem::transmute(hk.func) };
        // SAFETY: called as hhook_run_hooks does (hdata/hosd NULL: no
        // helper), in module context.
        crate::malloc::in_module(|| unsafe {
            f(
                ty,
                af,
                hk.udata as *mut c_void,
                ctx,
                std::ptr::null_mut(),
                std::ptr::null_mut(),
            )
        });
    }
}

/// Packets an [`add_enc`] hook has tapped.
static ENC_TAPS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// if_enc.c `enc_hhook` with enc0 up and `net.enc.in.ipsec_bpf_mask`
/// including "after" (pfSense/OPNsense): `ctx->af != hhook_id` ->
/// EPFNOSUPPORT; otherwise it taps `*ctx->mp` (enc_bpftap), which the
/// kernel dereferences: a NULL there is "Fatal trap 12" in enc_hhook
/// (seen on the 14.2 image, issue 8), a violation here.
unsafe extern "C" fn enc_hhook(
    _ty: i32,
    id: i32,
    _udata: *mut c_void,
    ctx: *mut c_void,
    _hdata: *mut c_void,
    _hosd: *mut c_void,
) -> c_int {
    // SAFETY: netipsec passes a struct ipsec_ctx_data.
    let ctx = unsafe { &*ctx.cast::<sys_bindings::ipsec::ipsec_ctx_data>() };
    if i32::from(ctx.af) != id {
        return 46; // EPFNOSUPPORT
    }
    // SAFETY: ctx.mp points at netipsec's packet pointer.
    if unsafe { *ctx.mp }.is_null() {
        violation(
            ViolationKind::NullDeref,
            "enc_hhook: *ctx->mp is NULL (enc_bpftap dereferences it: Fatal trap 12)",
        );
        return 0;
    }
    ENC_TAPS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    0
}

/// kldload if_enc (after the module): enc(4)'s IPSEC_IN hook appended to
/// the head of (vnet `v`, inner family `af`), as enc_add_hhooks does.
pub fn add_enc(v: *mut vnet, af: i32) {
    let head = with(|h| {
        h.iter()
            .find(|x| x.vnet == v as usize && x.ty == HHOOK_TYPE_IPSEC_IN && x.id == af)
            .map(|x| x.addr)
    });
    let Some(head) = head else { return };
    let f: unsafe extern "C" fn(
        i32,
        i32,
        *mut c_void,
        *mut c_void,
        *mut c_void,
        *mut c_void,
    ) -> c_int = enc_hhook;
    with(|h| {
        if let Some(x) = h.iter_mut().find(|x| x.addr == head) {
            x.hooks.push(Hook {
                func: f as usize,
                udata: 0,
            });
        }
    });
}

/// Packets enc(4) tapped since the last call.
pub fn take_enc_taps() -> usize {
    ENC_TAPS.swap(0, std::sync::atomic::Ordering::Relaxed)
}
