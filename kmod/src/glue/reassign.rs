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
use crate::kpi::vnet::{with_vnet, CurVnet, VnetHandle};
use if_ipsec::iface::IfState;
use if_ipsec::tables::MapOp;
use sys_bindings::errno::ENXIO;

/// The if_reassign handler.
pub struct Move;

impl Reassign for Move {
    type Softc = Softc;

    fn reassign(ifp: Moving<'_, Softc>, new: VnetHandle, s: &mut Sleepable) {
        let mut g = CONFIG.lock(s);
        let Some(old) = ifp.softc_locked(&g).and_then(|sc| sc.vnet()) else {
            return;
        };
        let moved = with_vnet(old, |cv| {
            let mut after = Aftermath::default();
            let r = leave(&ifp, cv, &g, s, &mut after);
            after.finish(&mut g, s); // policies unregister in the old VNET
            r
        });
        if let Some(sc) = ifp.softc_locked(&g) {
            sc.set_vnet(new);
        }
        let Ok(Some(rec)) = moved else {
            return; // the old VNET kept nothing of it either way
        };
        with_vnet(new, |cv| {
            let mut after = Aftermath::default();
            // On failure (ENOMEM) the interface stays without a record
            // here: its ioctls answer ENXIO until it is destroyed.
            let _ = arrive(&ifp, rec, cv, &g, &mut after);
            after.finish(&mut g, s);
        });
    }
}

/// Delete the tunnel and take the record out of the old VNET.
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
    Ok(())
}
