//! An interface moving to another VNET (C: ipsec_reassign, FreeBSD 14.2
//! sys/net/if_ipsec.c, b66633d79ade, called by if.c if_vmove after the
//! detach from the old VNET, curvnet = the old one).
//!
//! C deletes the tunnel and leaves the softc hashed (by reqid) in the old
//! VNET, so a reqid there stays taken and the interface cannot be found
//! from the new one.  Here, as C, the tunnel is deleted (its policies
//! belong to the old VNET's SPD), and then the whole record moves: it
//! leaves the old VNET's tables, reqid space and units
//! (`Vnet::prepare_move_out`) and is adopted by the new VNET's
//! (`Vnet::adopt`; its reqid is kept when free there), so `ifconfig`
//! in the new VNET configures it as any other.
use core::ffi::c_int;

use super::config::{self, Aftermath, Target};
use super::softc::Softc;
use super::state::{locked, CONFIG};
use super::tables::StagedTables;
use crate::kpi::epoch::Sleepable;
use crate::kpi::ifnet_ext::{EpochIfp, Moving, Reassign};
use crate::kpi::sx::ConfigGuard;
use crate::kpi::time::pause_ticks;
use crate::kpi::vnet::{with_vnet, CurVnet, VnetHandle};
use if_ipsec::iface::IfState;
use if_ipsec::tables::MapOp;
use sys_bindings::errno::{ENOMEM, ENXIO};

/// The if_reassign handler.
pub struct Move;

impl Reassign for Move {
    type Softc = Softc;

    /// The kernel moves the interface whatever we answer, so neither half
    /// may leave a dangling state: leaving the old VNET waits out memory
    /// shortage (its tables must stop naming the interface), and a failed
    /// arrival leaves the interface in no VNET's tables, still
    /// destroyable (issue 8).
    fn reassign(ifp: Moving<'_, Softc>, new: VnetHandle, s: &mut Sleepable) {
        let mut g = CONFIG.lock(s);
        let Some(moved) = leave_old(&ifp, &mut g, s) else {
            return; // destroyed meanwhile
        };
        match ifp.softc_locked(&g) {
            Some(sc) => sc.clear_vnet(),
            None => return,
        }
        if let Some(rec) = moved {
            arrive_new(&ifp, rec, new, &mut g, s);
        }
    }
}

/// Take the interface out of the VNET that holds it, waiting out memory
/// shortage; None if it was destroyed, Some(None) if no VNET held it.
// Separate frames (not inlined into the trampoline): 16 KiB kernel stacks.
#[inline(never)]
fn leave_old(
    ifp: &Moving<'_, Softc>,
    g: &mut ConfigGuard<'static>,
    s: &mut Sleepable,
) -> Option<Option<IfState>> {
    loop {
        let old = ifp.softc_locked(g)?.vnet();
        let Some(old) = old else {
            return Some(None);
        };
        let r = with_vnet(old, |cv| {
            let mut after = Aftermath::default();
            let r = leave(ifp, cv, g, s, &mut after);
            after.finish(g, s); // policies unregister in the old VNET
            r
        });
        match r {
            Ok(rec) => return Some(rec),
            Err(ENXIO) => return Some(None), // the old VNET kept nothing
            Err(ENOMEM) => g.unlocked(s, |s| pause_ticks(s, c"ipsecmv", 1)),
            // Anything else is not memory and will not go away by
            // waiting: never loop on it with the kernel's lock held.
            Err(e) => {
                crate::kprintln!("if_ipsec: vnet move went on after errno {}", e);
                return Some(None);
            }
        }
    }
}

/// Adopt the record in `new`; on failure the interface stays in no
/// VNET, still destroyable.
#[inline(never)]
fn arrive_new(
    ifp: &Moving<'_, Softc>,
    rec: IfState,
    new: VnetHandle,
    g: &mut ConfigGuard<'static>,
    s: &mut Sleepable,
) {
    let arrived = with_vnet(new, |cv| {
        let mut after = Aftermath::default();
        let r = arrive(ifp, rec, cv, g, &mut after);
        after.finish(g, s);
        r
    });
    match arrived {
        Ok(()) => {
            if let Some(sc) = ifp.softc_locked(g) {
                sc.set_vnet(new);
            }
        }
        Err(e) => crate::kprintln!(
            "if_ipsec: {} arrived without its configuration (errno {}): destroy it",
            ifp.name().to_str().unwrap_or("ipsec?"),
            e
        ),
    }
}

/// Delete the tunnel and take the record out of the old VNET.
#[inline(never)]
fn leave(
    ifp: &Moving<'_, Softc>,
    cv: &CurVnet,
    g: &ConfigGuard<'_>,
    s: &mut Sleepable,
    after: &mut Aftermath,
) -> Result<Option<IfState>, c_int> {
    let sc = ifp.softc_locked(g).ok_or(ENXIO)?;
    let st = locked(cv, g).ok_or(ENXIO)?;
    let tx = {
        let core = st.core.lock();
        core.prepare_move_out(&st.tables.locked(g), sc.handle)
            .map_err(|e| e.get())?
    };
    let rm = [MapOp::Remove(sc.handle)];
    config::run(tx, &Target { st, ifp, sc }, &rm, g, s, after)
}

/// Adopt the record in the new VNET and publish its handle there.
#[inline(never)]
fn arrive(
    ifp: &Moving<'_, Softc>,
    rec: IfState,
    cv: &CurVnet,
    g: &ConfigGuard<'_>,
    after: &mut Aftermath,
) -> Result<(), c_int> {
    let sc = ifp.softc_locked(g).ok_or(ENXIO)?;
    let st = locked(cv, g).ok_or(ENXIO)?;
    let new = EpochIfp::of_moving(ifp);
    let staged = StagedTables::stage_ifp(&st.tables, sc.handle, new, g, &mut after.garbage)?;
    st.core.lock().adopt(sc.handle, rec).map_err(|e| e.get())?;
    staged.publish(&st.tables, g, &mut after.garbage, true);
    super::linkstate::refresh(st, sc.handle, g); // this VNET's SAs (or C's)
    Ok(())
}
