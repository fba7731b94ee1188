//! The per-VNET tables the packet paths read: the core's three maps
//! (demux, source-address count and members) plus handle -> interface.
//! Published in the core's commit order (`TablesUpdate::commit_order`:
//! demux, members, counts); see `epoch_map` for how.
//!
//! The demux map notes, next to each entry, the ifnet of the entry's
//! handle (looked up in `ifs` when the bucket is staged), so input finds
//! its interface with one lookup.  Sound because a handle's `ifs` entry
//! outlives its demux entry: `ifs` is inserted at create/arrival (no
//! tunnel yet, so no demux entry) and removed at destroy/departure in
//! the same update that removes the demux entry, published after it.
use alloc::vec::Vec;
use core::ffi::c_int;

use super::epoch_map::{free_pieces, EpochMap, GonePiece, Locked, Staged};
use super::softc::Softc;
use crate::kpi::epoch_slot::Waited;
use crate::kpi::ifnet_ext::EpochIfp;
use crate::kpi::sx::ConfigGuard;
use if_ipsec::addr::Addr;
use if_ipsec::tables::{
    prepare, DemuxEntry, IfHandle, MapOp, MapSlots, SrcSlot, TablesRead, TablesUpdate,
};

/// Our interfaces as the tables name them.
pub type OurIfp = EpochIfp<Softc>;

const ENOMEM: c_int = sys_bindings::errno::ENOMEM;

/// The epoch-read maps of one VNET.
pub struct VnetTables {
    /// reqid -> interface + inbound SA addresses, noted with the
    /// interface's ifnet.
    pub demux: EpochMap<u32, DemuxEntry, Option<OurIfp>>,
    /// local address -> number of interfaces using it.
    pub src_count: EpochMap<Addr, u32>,
    /// (local address, i) -> interface.
    pub src_member: EpochMap<SrcSlot, IfHandle>,
    /// handle -> our interface.
    pub ifs: EpochMap<IfHandle, OurIfp>,
}

impl VnetTables {
    /// Empty maps; `seed` spreads the buckets.
    pub fn new(seed: u64) -> Result<VnetTables, c_int> {
        Ok(VnetTables {
            demux: EpochMap::new(seed)?,
            src_count: EpochMap::new(seed.rotate_left(21))?,
            src_member: EpochMap::new(seed.rotate_left(42))?,
            ifs: EpochMap::new(seed.rotate_left(7))?,
        })
    }

    /// The writer's view the core prepares against.
    pub fn locked<'g, 'l>(&'g self, g: &'g ConfigGuard<'l>) -> LockedTables<'g, 'l> {
        LockedTables {
            demux: self.demux.locked(g),
            src_count: self.src_count.locked(g),
            src_member: self.src_member.locked(g),
        }
    }
}

/// [`TablesRead`] over the published maps.
pub struct LockedTables<'g, 'l> {
    demux: Locked<'g, 'l, u32, DemuxEntry, Option<OurIfp>>,
    src_count: Locked<'g, 'l, Addr, u32>,
    src_member: Locked<'g, 'l, SrcSlot, IfHandle>,
}

impl TablesRead for LockedTables<'_, '_> {
    fn demux(&self) -> &dyn MapSlots<u32, DemuxEntry> {
        &self.demux
    }
    fn src_count(&self) -> &dyn MapSlots<Addr, u32> {
        &self.src_count
    }
    fn src_member(&self) -> &dyn MapSlots<SrcSlot, IfHandle> {
        &self.src_member
    }
}

/// Replaced pieces waiting for an epoch wait.
#[derive(Default)]
pub struct Garbage {
    demux: Vec<GonePiece<u32, DemuxEntry, Option<OurIfp>>>,
    src_count: Vec<GonePiece<Addr, u32>>,
    src_member: Vec<GonePiece<SrcSlot, IfHandle>>,
    ifs: Vec<GonePiece<IfHandle, OurIfp>>,
}

impl Garbage {
    /// Nothing retired?
    pub fn is_empty(&self) -> bool {
        self.demux.is_empty()
            && self.src_count.is_empty()
            && self.src_member.is_empty()
            && self.ifs.is_empty()
    }

    /// Free everything behind `w` (pieces unpublished after `w` started
    /// would leak rather than be freed early; the glue always waits after
    /// publishing).
    pub fn free(&mut self, w: &Waited, g: &mut ConfigGuard<'_>) {
        free_pieces(&mut self.demux, w, g);
        free_pieces(&mut self.src_count, w, g);
        free_pieces(&mut self.src_member, w, g);
        free_pieces(&mut self.ifs, w, g);
    }
}

/// The ifnet of `h` once `ifs` (this update's handle-map change) is
/// applied to the published handle map.
fn ifp_of(
    h: IfHandle,
    ifs: &[MapOp<IfHandle, OurIfp>],
    lk: &Locked<'_, '_, IfHandle, OurIfp>,
) -> Option<OurIfp> {
    match ifs.iter().rev().find(|op| *op.key() == h) {
        Some(MapOp::Insert(_, x)) => Some(*x),
        Some(MapOp::Remove(_)) => None,
        None => lk.lookup(&h).copied(),
    }
}

/// `st`, once `gone` has room for every piece publishing it retires (so
/// publishing cannot fail half way).
fn with_room<K, V, X>(
    st: Staged<K, V, X>,
    gone: &mut Vec<GonePiece<K, V, X>>,
) -> Result<Staged<K, V, X>, c_int> {
    gone.try_reserve(st.pieces()).map_err(|_| ENOMEM)?;
    Ok(st)
}

/// A staged table update: boxes built, room for the retired pieces made.
#[derive(Default)]
pub struct StagedTables {
    demux: Option<Staged<u32, DemuxEntry, Option<OurIfp>>>,
    src_member: Option<Staged<SrcSlot, IfHandle>>,
    src_count: Option<Staged<Addr, u32>>,
    ifs: Option<Staged<IfHandle, OurIfp>>,
}

impl StagedTables {
    /// Stage the core's update (and an optional handle-map change).
    pub fn stage(
        t: &VnetTables,
        u: TablesUpdate,
        ifs: &[MapOp<IfHandle, OurIfp>],
        g: &ConfigGuard<'_>,
        garbage: &mut Garbage,
    ) -> Result<StagedTables, c_int> {
        let mut s = StagedTables::default();
        if let Some(p) = u.demux {
            let lk = t.ifs.locked(g);
            let note = |_: &u32, d: &DemuxEntry| ifp_of(d.handle, ifs, &lk);
            let st = t.demux.stage_noted(p, g, &note)?;
            s.demux = Some(with_room(st, &mut garbage.demux)?);
        }
        if let Some(p) = u.src_member {
            let st = t.src_member.stage(p, g)?;
            s.src_member = Some(with_room(st, &mut garbage.src_member)?);
        }
        if let Some(p) = u.src_count {
            let st = t.src_count.stage(p, g)?;
            s.src_count = Some(with_room(st, &mut garbage.src_count)?);
        }
        if !ifs.is_empty() {
            let lk = t.ifs.locked(g);
            let p = prepare(&lk, ifs).map_err(|e| e.get())?;
            let st = t.ifs.stage(p, g)?;
            s.ifs = Some(with_room(st, &mut garbage.ifs)?);
        }
        Ok(s)
    }

    /// Stage only a new handle -> ifnet entry (create, VNET arrival): the
    /// core's tables name the handle later, in their own update.
    pub fn stage_ifp(
        t: &VnetTables,
        h: IfHandle,
        ifp: OurIfp,
        g: &ConfigGuard<'_>,
        garbage: &mut Garbage,
    ) -> Result<StagedTables, c_int> {
        let ins = [MapOp::Insert(h, ifp)];
        Self::stage(t, TablesUpdate::default(), &ins, g, garbage)
    }

    /// Publish in the core's order; a handle ADDED is published first (so
    /// any table naming it resolves), a handle REMOVED last.
    pub fn publish(
        self,
        t: &VnetTables,
        g: &ConfigGuard<'_>,
        garbage: &mut Garbage,
        ifs_first: bool,
    ) {
        let mut ifs = self.ifs;
        if ifs_first {
            if let Some(s) = ifs.take() {
                t.ifs.publish(s, g, &mut garbage.ifs);
            }
        }
        if let Some(s) = self.demux {
            t.demux.publish(s, g, &mut garbage.demux);
        }
        if let Some(s) = self.src_member {
            t.src_member.publish(s, g, &mut garbage.src_member);
        }
        if let Some(s) = self.src_count {
            t.src_count.publish(s, g, &mut garbage.src_count);
        }
        if let Some(s) = ifs {
            t.ifs.publish(s, g, &mut garbage.ifs);
        }
    }
}
