//! Load and unload, per VNET and global (C: vnet_ipsec_init /
//! vnet_ipsec_uninit and ipsec_modevent, FreeBSD 14.2
//! sys/net/if_ipsec.c, b66633d79ade).
//!
//! Per VNET (VNET_SYSINIT at SI_SUB_PROTO_IFATTACHDOMAIN, SI_ORDER_ANY,
//! the keys of ipsec.ko's own; vnet_register_sysinit inserts after equal
//! keys and we load after ipsec.ko, so in every VNET, including ones
//! created later, our cloner is attached after the stock one, i.e. ahead
//! of it in the cloner list): tables, cloner, IPSEC_IN hooks.  Global
//! (MOD_LOAD): the config lock and the srcaddr callbacks.
//! Uninit in reverse: detach the cloner (destroys our interfaces), remove
//! the hooks (waits for running ones), unpublish the state, epoch wait,
//! free.
use core::ffi::{c_int, c_void};
use core::sync::atomic::AtomicBool;

use spin::Mutex;

use super::cloner::{IpsecCloner, CLONER_NAME};
use super::config::Aftermath;
use super::dfbit::DfHook;
use super::input::Input;
use super::srcaddr::Srcaddr;
use super::state::{VnetState, CONFIG, V_STATE};
use super::tables::VnetTables;
use crate::kpi::clone::ClonerReg;
use crate::kpi::encap::SrcaddrReg;
use crate::kpi::epoch::Sleepable;
use crate::kpi::epoch_slot::Waited;
use crate::kpi::hhook::InputHook;
use crate::kpi::module_meta::running_osreldate;
use crate::kpi::sx::ConfigGuard;
use crate::kpi::tryalloc::try_box;
use crate::kpi::vnet::CurVnet;
use if_ipsec::addr::Family;
use if_ipsec::tables::MapSlots;
use sys_bindings::kern::sysinit::{
    SI_ORDER_ANY, SI_ORDER_FIRST, SI_ORDER_SECOND, SI_SUB_PROTO_DOMAIN, SI_SUB_PROTO_IFATTACHDOMAIN,
};

static SRCADDR: Mutex<Option<(SrcaddrReg, SrcaddrReg)>> = Mutex::new(None);

/// Is the running kernel one this build was made and checked for
/// (`if_ipsec::kernel::SUPPORTED`)?
pub fn kernel_supported() -> bool {
    if_ipsec::kernel::supported(running_osreldate()).is_some()
}

/// MOD_LOAD's first step (issue 10): on any other kernel, one console
/// line and ENOEXEC (kern_linker.c then unloads the file: kldload fails),
/// before anything is registered.  The VNET_SYSINIT, which may run before
/// MOD_LOAD (same SYSINIT keys), checks [`kernel_supported`] too.
pub fn kernel_check() -> Result<(), c_int> {
    if kernel_supported() {
        return Ok(());
    }
    for r in if_ipsec::kernel::SUPPORTED {
        crate::kprintln!(
            "if_ipsec: this build supports {} (osreldate {}-{}) only; the running kernel is {}: not loading",
            r.name,
            r.min,
            r.max,
            running_osreldate()
        );
    }
    Err(sys_bindings::errno::ENOEXEC)
}

/// MOD_LOAD: the lock and the (global) srcaddr callbacks.
pub fn load() -> Result<(), c_int> {
    CONFIG.init();
    super::config::reserve_pending()?;
    let mut s = Sleepable::here().ok_or(sys_bindings::errno::EDEADLK)?;
    let v4 = SrcaddrReg::register::<Srcaddr>(false, &mut s)?;
    let v6 = SrcaddrReg::register::<Srcaddr>(true, &mut s)?;
    *SRCADDR.lock() = Some((v4, v6));
    Ok(())
}

/// MOD_UNLOAD: the srcaddr callbacks (ip_encap waits for running ones).
pub fn unload() -> Result<(), c_int> {
    // Dropping unregisters; ip_encap.c waits for running callbacks.
    drop(SRCADDR.lock().take());
    Ok(())
}

/// The last SYSUNINIT: after every VNET's teardown.
pub fn destroy_lock() {
    if !CONFIG.is_live() {
        return; // a refused load set nothing up
    }
    if let Some(mut s) = Sleepable::here() {
        // Threads still in an ioctl (or create/destroy/reassign) may be
        // waiting for the lock: let them out before it goes (issue 8).
        crate::kpi::inflight::drain(&mut s);
        let mut g = CONFIG.lock(&mut s);
        super::config::flush(&mut g, &mut s);
        super::config::release_pending();
        drop(g);
        crate::kpi::inflight::drain(&mut s);
    }
    CONFIG.destroy();
}

fn seed(cv: &CurVnet) -> u64 {
    (cv.vnet().addr() as u64).rotate_left(17) ^ 0x9e37_79b9_7f4a_7c15
}

/// VNET_SYSINIT function (curvnet = the new VNET).
pub extern "C" fn vnet_init(_: *const c_void) {
    if !kernel_supported() {
        return; // MOD_LOAD refuses the module (kernel_check)
    }
    if let Err(e) = init_current() {
        crate::kprintln!("if_ipsec: VNET init failed (errno {}): no ipsecN here", e);
    }
}

/// Set up the current VNET; errors leave it without our cloner.
pub fn init_current() -> Result<(), c_int> {
    CONFIG.init(); // idempotent: VNET_SYSINIT may run before MOD_LOAD
    let cv = CurVnet::current().ok_or(sys_bindings::errno::ENXIO)?;
    let mut s = Sleepable::here().ok_or(sys_bindings::errno::EDEADLK)?;
    let core = if_ipsec::vnet::Vnet::new(seed(&cv)).map_err(|e| e.get())?;
    let st = try_box(VnetState {
        tables: VnetTables::new(seed(&cv))?,
        core: Mutex::new(core),
        cloner: Mutex::new(None),
        hooks: Mutex::new(None),
        df_copy_seen: AtomicBool::new(false),
        link: super::linkstate::LinkState::new(seed(&cv).rotate_left(11))?,
    })?;
    {
        let g = CONFIG.lock(&mut s);
        let slot = V_STATE.get(&cv);
        if !slot.is_null() {
            return Err(sys_bindings::errno::EEXIST);
        }
        slot.fill_unpublished(st);
        drop(g);
    }
    let hooks = (
        InputHook::add_vnet::<Input>(Family::Inet, &cv, &mut s)?,
        InputHook::add_vnet::<Input>(Family::Inet6, &cv, &mut s)?,
        InputHook::add_out_vnet::<DfHook>(&cv, &mut s)?,
    );
    let cloner = ClonerReg::<IpsecCloner>::attach(CLONER_NAME, &mut s)?;
    let g = CONFIG.lock(&mut s);
    if let Some(st) = V_STATE.get(&cv).get_locked(&g) {
        *st.hooks.lock() = Some(hooks);
        *st.cloner.lock() = Some(cloner);
        // Its task takes the lock: it runs once this one is dropped.
        super::linkstate::open(st, &cv, &mut s);
    }
    Ok(())
}

/// VNET_SYSUNINIT function (curvnet = the VNET going away): interfaces,
/// policies, state.
pub extern "C" fn vnet_uninit(_: *const c_void) {
    uninit_current();
}

/// VNET_SYSUNINIT function, earlier in the teardown: the input hooks.
pub extern "C" fn vnet_uninit_hooks(_: *const c_void) {
    uninit_hooks();
}

/// Remove the current VNET's IPSEC_IN hooks (hhook_remove_hook waits for
/// running ones): before ip_destroy / ip6_destroy deregister the heads.
pub fn uninit_hooks() {
    let (Some(cv), Some(mut s)) = (CurVnet::current(), Sleepable::here()) else {
        return;
    };
    if !CONFIG.is_live() {
        return;
    }
    let (hooks, watch) = {
        let g = CONFIG.lock(&mut s);
        match V_STATE.get(&cv).get_locked(&g) {
            Some(st) => (st.hooks.lock().take(), st.link.take()),
            None => return,
        }
    };
    drop(hooks);
    // Drains its task, which takes the lock: not held here.
    drop(watch);
}

/// Tear the current VNET's share down.
pub fn uninit_current() {
    let (Some(cv), Some(mut s)) = (CurVnet::current(), Sleepable::here()) else {
        return;
    };
    if !CONFIG.is_live() {
        return; // a refused load set nothing up
    }
    let (cloner, hooks, watch) = {
        let g = CONFIG.lock(&mut s);
        match V_STATE.get(&cv).get_locked(&g) {
            Some(st) => (
                st.cloner.lock().take(),
                st.hooks.lock().take(),
                st.link.take(),
            ),
            None => return,
        }
    };
    drop((hooks, watch)); // normally gone already (uninit_hooks)
                          // Without the lock: destroy_f takes it for each interface.
    if let Some(c) = cloner {
        c.detach(&mut s);
    }
    let mut g = CONFIG.lock(&mut s);
    release_guests(&cv, &mut g, &mut s);
    let gone = V_STATE.get(&cv).publish(None, &g);
    super::config::flush(&mut g, &mut s); // pending pieces of this VNET too
    let w = Waited::wait(&mut s);
    let _leak_if_early = gone.free(&w, &mut g);
}

/// Interfaces on loan here from another VNET's cloner outlive this
/// VNET's share: VNETs are torn down newest first (vnet.c vnet_alloc
/// inserts at the head, vnet_deregister_sysuninit walks VNET_FOREACH), so
/// at kldunload a jail's share goes before vnet0's cloner destroys what
/// it lent (issue 8).  Withdraw their policies from this VNET's SPD (it
/// still exists) and mark them in no VNET; the tables go with the state,
/// and the input hooks are already gone.  No allocation: cannot fail.
fn release_guests(cv: &CurVnet, g: &mut ConfigGuard<'_>, s: &mut Sleepable) {
    loop {
        let mut after = Aftermath::default();
        let found = {
            let Some(st) = super::state::locked(cv, g) else {
                return;
            };
            let core = st.core.lock();
            let ifs = st.tables.ifs.locked(g);
            let here = Some(cv.vnet());
            let guest = core.iter().find_map(|r| {
                let ifp = ifs.lookup(&r.handle)?;
                let sc = ifp.softc_locked(g)?;
                (sc.vnet() == here).then_some((ifp, sc))
            });
            guest.map(|(ifp, sc)| {
                after.policies = Some(sc.policies.publish(None, g));
                ifp.get_locked(g).set_running(false);
                sc.clear_vnet();
            })
        };
        after.finish(g, s);
        if found.is_none() {
            return;
        }
    }
}

// VNET_SYSINIT(vnet_ipsecrs_init, SI_SUB_PROTO_IFATTACHDOMAIN,
// SI_ORDER_ANY, vnet_init, NULL), as C's vnet_ipsec_init (if_ipsec.c:288):
// after ipsec.ko's, so our cloner is ahead of the stock one.
crate::vnet_sysinit!(
    VNET_INIT,
    SI_SUB_PROTO_IFATTACHDOMAIN,
    SI_ORDER_ANY,
    vnet_init
);

// The teardown is split where C's vnet_ipsec_uninit is one step at
// SI_SUB_PROTO_IFATTACHDOMAIN, which runs before ip_destroy/ip6_destroy
// (SI_SUB_PROTO_DOMAIN, SI_ORDER_THIRD).  In a VNET that is shutting down
// if_detach does not purge addresses (if.c if_detach_internal: "the stack
// teardown will do all the work top-down") and unlinks the interface, so
// ip_destroy's in_ifscrub_all misses it and hashdestroy of the in_ifaddr
// table finds its address: "panic: hashdestroy: hashtbl ... not empty
// (malloc type ifaddr)" under INVARIANTS at `jail -r` (seen on the 14.2
// image's kernel.debug; C has the same order).  So:
// - the hooks go at SI_SUB_PROTO_IFATTACHDOMAIN, before ip_destroy and
//   ip6_destroy deregister the IPSEC_IN heads;
// - the interfaces at (SI_SUB_PROTO_DOMAIN, SI_ORDER_SECOND): after
//   ip_destroy/ip6_destroy (THIRD) scrubbed their addresses, and, being
//   registered after key.c's key_vnet_destroy (same keys; vnet.c
//   vnet_register_sysuninit inserts after equal keys and vnet_sysuninit
//   runs the list backwards), before the SPD that holds their policies
//   goes (and before rtables_destroy at SI_ORDER_FIRST).
crate::vnet_sysuninit!(
    VNET_UNINIT_HOOKS,
    SI_SUB_PROTO_IFATTACHDOMAIN,
    SI_ORDER_ANY,
    vnet_uninit_hooks
);
crate::vnet_sysuninit!(
    VNET_UNINIT,
    SI_SUB_PROTO_DOMAIN,
    SI_ORDER_SECOND,
    vnet_uninit
);

/// SYSUNINIT(.., SI_SUB_PROTO_DOMAIN, SI_ORDER_FIRST): uninits run in
/// reverse order, so this comes after every VNET's teardown.
extern "C" fn lock_uninit(_: *mut c_void) {
    destroy_lock();
}
crate::sysuninit!(
    SI_SUB_PROTO_DOMAIN,
    SI_ORDER_FIRST,
    lock_uninit,
    core::ptr::null_mut()
);
