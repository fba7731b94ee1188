//! Per-VNET writer state and the prepared transitions.
//!
//! Everything here runs under the module's config sx in the kernel.  Each
//! configuration change is `prepare_*` (reads current state and tables,
//! does every allocation, changes nothing; errors leave all state as it
//! was) -> the glue executes [`Tx::plan`] -> [`Vnet::finish`] (infallible
//! bookkeeping).  No other prepare may run between a prepare and its
//! finish (the sx lock guarantees it).

use alloc::vec::Vec;

use crate::endpoint::Tunnel;
use crate::errno::{Errno, Result};
use crate::fallible::push_reserved;
use crate::iface::IfState;
use crate::names::{UnitRequest, Units};
use crate::policy::PolicyTemplate;
use crate::reqid::{Reqid, ReqidSpace};
use crate::state::Transition;
use crate::tables::{
    prepare, CowMap, DemuxEntry, IfHandle, MapOp, Prepared, SrcOps, TablesRead, TablesUpdate,
};
pub use crate::tx::Tx;

/// All interfaces of this module in one VNET (writer side).
#[derive(Debug)]
pub struct Vnet {
    ifaces: CowMap<IfHandle, IfState>,
    reqids: ReqidSpace,
    units: Units,
    template: &'static PolicyTemplate,
}

/// Changes to interface records a transition makes.
struct IfaceOps {
    ops: Vec<MapOp<IfHandle, IfState>>,
}

impl IfaceOps {
    fn new() -> Result<IfaceOps> {
        let mut ops = Vec::new();
        ops.try_reserve_exact(2)?;
        Ok(IfaceOps { ops })
    }
}

impl Vnet {
    /// Empty VNET with the route-based template.
    pub fn new(seed: u64) -> Result<Vnet> {
        Ok(Vnet {
            ifaces: CowMap::new(seed)?,
            reqids: ReqidSpace::new(seed.rotate_left(13))?,
            units: Units::new(seed.rotate_left(27))?,
            template: &PolicyTemplate::ROUTE_BASED,
        })
    }

    /// State of `h`.
    pub fn state(&self, h: IfHandle) -> Option<&IfState> {
        self.ifaces.get(&h)
    }

    /// Number of interfaces.
    pub fn len(&self) -> usize {
        self.ifaces.len()
    }

    /// True if there are none.
    pub fn is_empty(&self) -> bool {
        self.ifaces.is_empty()
    }

    /// Every interface.
    pub fn iter(&self) -> impl Iterator<Item = &IfState> {
        self.ifaces.iter().map(|(_, s)| s)
    }

    /// The reqid space.
    pub fn reqids(&self) -> &ReqidSpace {
        &self.reqids
    }

    /// The unit a create request gets (see `names`); nothing changes.
    pub fn choose_unit(
        &self,
        req: UnitRequest,
        taken_elsewhere: impl FnMut(u32) -> bool,
    ) -> Result<u32> {
        self.units.choose(req, taken_elsewhere)
    }

    /// Record a new interface (if_ipsec.c ipsec_clone_create).  EEXIST if
    /// the unit or handle is in use; on error nothing changed.
    pub fn create(&mut self, h: IfHandle, unit: u32, ifindex: u32, fib: u32) -> Result<()> {
        if self.ifaces.get(&h).is_some() {
            return Err(Errno::EEXIST);
        }
        self.units.take(unit)?;
        if let Err(e) = self.ifaces.insert(h, IfState::new(h, ifindex, unit, fib)) {
            self.units.release(unit);
            return Err(e);
        }
        Ok(())
    }

    fn get(&self, h: IfHandle) -> Result<IfState> {
        self.ifaces.get(&h).copied().ok_or(Errno::ENXIO)
    }

    /// Set the tunnel fib (SIOCSTUNFIB, after the glue's priv_check and
    /// `fib < rt_numfibs`).
    pub fn set_fib(&mut self, h: IfHandle, fib: u32) -> Result<()> {
        let mut s = self.get(h)?;
        s.fib = fib;
        self.ifaces.insert(h, s)
    }

    /// Set the MTU (SIOCSIFMTU, bounds checked by `ioctl::decode`).
    pub fn set_mtu(&mut self, h: IfHandle, mtu: u32) -> Result<()> {
        let mut s = self.get(h)?;
        s.mtu = mtu;
        self.ifaces.insert(h, s)
    }

    /// SIOCSIFPHYADDR\[_IN6\] with embedded scopes (if_ipsec.c
    /// ipsec_set_addresses, ipsec_init_reqid, ipsec_set_tunnel): same
    /// tunnel is a no-op; a missing reqid is allocated.  `hint`: optional
    /// key_newreqid() value as start of the automatic search.
    pub fn prepare_set_tunnel(
        &self,
        t: &dyn TablesRead,
        h: IfHandle,
        tunnel: Tunnel,
        hint: Option<u32>,
    ) -> Result<Tx> {
        let s = self.get(h)?;
        if s.tunnel == Some(tunnel) && s.reqid.is_some() {
            return Ok(Tx::nothing(Transition::Nothing, h));
        }
        match s.reqid {
            Some(r) => self.retunnel(t, s, Some(tunnel), r, None),
            None => {
                let r = self.reqids.pick_auto(hint)?;
                let mut tx = self.retunnel(t, s, Some(tunnel), r, Some(r))?;
                tx.auto_reqid = Some(r);
                Ok(tx)
            }
        }
    }

    /// SIOCDIFPHYADDR (if_ipsec.c ipsec_delete_tunnel): the reqid stays.
    pub fn prepare_delete_tunnel(&self, t: &dyn TablesRead, h: IfHandle) -> Result<Tx> {
        let s = self.get(h)?;
        match (s.tunnel, s.reqid) {
            (Some(_), Some(r)) => self.retunnel(t, s, None, r, None),
            _ => Ok(Tx::nothing(Transition::ClearOnly, h)),
        }
    }

    /// IPSECSREQID (if_ipsec.c ipsec_set_reqid): the value already set is
    /// a no-op, another interface's value EEXIST, 0 keeps a set reqid or
    /// allocates one; with a tunnel the policies are rebuilt.
    pub fn prepare_set_reqid(
        &self,
        t: &dyn TablesRead,
        h: IfHandle,
        value: u32,
        hint: Option<u32>,
    ) -> Result<Tx> {
        let s = self.get(h)?;
        let (new, auto) = match (Reqid::new(value), s.reqid) {
            (None, Some(_)) => return Ok(Tx::nothing(Transition::Nothing, h)),
            (Some(v), Some(cur)) if v == cur => return Ok(Tx::nothing(Transition::Nothing, h)),
            (None, None) => {
                let r = self.reqids.pick_auto(hint)?;
                (r, Some(r))
            }
            (Some(v), _) => {
                self.reqids.check_free(v, h)?;
                (v, None)
            }
        };
        let mut tx = match s.tunnel {
            Some(tun) => self.retunnel(t, s, Some(tun), new, Some(new))?,
            None => {
                let mut next = s;
                next.reqid = Some(new);
                let mut tx = Tx::nothing(Transition::ReqidOnly, h);
                tx.ifaces = Some(prepare(&self.ifaces, &[MapOp::Insert(h, next)])?);
                tx.reqids = Some(self.reqids.prepare(s.reqid, Some(new), h)?);
                tx.next = Some(next);
                tx
            }
        };
        tx.auto_reqid = auto;
        Ok(tx)
    }

    /// Interface destroy (if_ipsec.c ipsec_clone_destroy): tunnel, reqid
    /// and unit are released.
    pub fn prepare_destroy(&self, t: &dyn TablesRead, h: IfHandle) -> Result<Tx> {
        self.remove(t, h, Transition::Destroy, Transition::DestroyIdle)
    }

    /// The interface leaves this VNET (if_vmove; C: ipsec_reassign deletes
    /// the tunnel but leaves the softc hashed by reqid in the old VNET).
    /// Here the tunnel is deleted and the record, reqid and unit leave this
    /// VNET; [`Vnet::finish`] returns the record for [`Vnet::adopt`] in
    /// the new one.
    pub fn prepare_move_out(&self, t: &dyn TablesRead, h: IfHandle) -> Result<Tx> {
        let mut tx = self.remove(t, h, Transition::DeleteTunnel, Transition::ClearOnly)?;
        tx.moved = tx.prev.map(|s| IfState {
            tunnel: None,
            src_ordinal: None,
            ..s
        });
        Ok(tx)
    }

    /// Take in an interface moved from another VNET (its tunnel is gone).
    /// Its reqid is kept if free here, else dropped (a new one is chosen
    /// when a tunnel is set); its unit must be free here (EEXIST, as
    /// if_vmove refuses a duplicate name).  `h`: its handle here.
    pub fn adopt(&mut self, h: IfHandle, moved: IfState) -> Result<()> {
        let mut st = IfState {
            handle: h,
            tunnel: None,
            src_ordinal: None,
            ..moved
        };
        if self.ifaces.get(&h).is_some() {
            return Err(Errno::EEXIST);
        }
        if let Some(r) = st.reqid {
            if self.reqids.owner(r).is_some() {
                st.reqid = None;
            }
        }
        let reqids = self.reqids.prepare(None, st.reqid, h)?;
        let ifaces = prepare(&self.ifaces, &[MapOp::Insert(h, st)])?;
        self.units.take(st.unit)?;
        self.ifaces.commit(ifaces);
        self.reqids.commit(reqids, None);
        Ok(())
    }

    /// Remove `h` (destroy or move out), with or without its tunnel.
    fn remove(
        &self,
        t: &dyn TablesRead,
        h: IfHandle,
        with_tunnel: Transition,
        idle: Transition,
    ) -> Result<Tx> {
        let s = self.get(h)?;
        let mut tx = match (s.tunnel, s.reqid) {
            (Some(_), Some(r)) => {
                let mut tx = self.build(t, s, None, r, None, true)?;
                tx.kind = with_tunnel;
                tx
            }
            _ => {
                let mut tx = Tx::nothing(idle, h);
                tx.prev = Some(s);
                tx.ifaces = Some(prepare(&self.ifaces, &[MapOp::Remove(h)])?);
                tx.reqids = Some(self.reqids.prepare(s.reqid, None, h)?);
                tx
            }
        };
        tx.next = None;
        tx.unit_release = Some(s.unit);
        Ok(tx)
    }

    fn retunnel(
        &self,
        t: &dyn TablesRead,
        s: IfState,
        tunnel: Option<Tunnel>,
        reqid: Reqid,
        claim: Option<Reqid>,
    ) -> Result<Tx> {
        self.build(t, s, tunnel, reqid, claim, false)
    }

    /// Policies, table pieces and records for `s` moving to `tunnel` with
    /// `reqid` (claimed newly if `claim`); `destroy` also drops `s`.
    fn build(
        &self,
        t: &dyn TablesRead,
        s: IfState,
        tunnel: Option<Tunnel>,
        reqid: Reqid,
        claim: Option<Reqid>,
        destroy: bool,
    ) -> Result<Tx> {
        let h = s.handle;
        let mut next = s;
        next.reqid = Some(reqid);
        next.tunnel = tunnel;
        let kind = match (s.tunnel, tunnel) {
            (None, Some(_)) => Transition::SetTunnel,
            (Some(_), Some(_)) => Transition::ChangeTunnel,
            _ => Transition::DeleteTunnel,
        };

        let mut src = SrcOps::default();
        let (old_src, new_src) = (s.tunnel.map(|x| x.src()), tunnel.map(|x| x.src()));
        if old_src != new_src {
            if let (Some(a), Some(i)) = (old_src, s.src_ordinal) {
                src.remove(t.src_count(), t.src_member(), a, i)?;
            }
            next.src_ordinal = match new_src {
                Some(a) => Some(src.add(t.src_count(), a, h)?),
                None => None,
            };
        }
        let tables = TablesUpdate {
            demux: Some(prepare(t.demux(), &demux_ops(&s, tunnel, reqid)?)?),
            src_member: maybe_prepare(t.src_member(), &src.members)?,
            src_count: maybe_prepare(t.src_count(), &src.counts)?,
        };

        let mut io = IfaceOps::new()?;
        push_reserved(
            &mut io.ops,
            match destroy {
                true => MapOp::Remove(h),
                false => MapOp::Insert(h, next),
            },
        )?;
        if let Some((mh, mi)) = src.moved {
            let mut ms = self.get(mh)?;
            ms.src_ordinal = Some(mi);
            push_reserved(&mut io.ops, MapOp::Insert(mh, ms))?;
        }
        let release = match destroy || claim.is_some() {
            true => s.reqid,
            false => None,
        };
        let reqids = match release.is_some() || claim.is_some() {
            true => Some(self.reqids.prepare(release, claim, h)?),
            false => None,
        };
        Ok(Tx {
            kind,
            handle: h,
            template: self.template,
            prev: Some(s),
            next: Some(next),
            tables,
            ifaces: Some(prepare(&self.ifaces, &io.ops)?),
            reqids,
            auto_reqid: None,
            unit_release: None,
            moved: None,
        })
    }

    /// Writer bookkeeping once the plan ran (infallible: everything was
    /// allocated by the prepare).  On a failed step drop the Tx instead.
    /// Returns the record of an interface moved out (for [`Vnet::adopt`]).
    pub fn finish(&mut self, tx: Tx) -> Option<IfState> {
        if let Some(p) = tx.ifaces {
            self.ifaces.commit(p);
        }
        if let Some(p) = tx.reqids {
            self.reqids.commit(p, tx.auto_reqid);
        }
        if let Some(u) = tx.unit_release {
            self.units.release(u);
        }
        tx.moved
    }
}

/// Demux changes: map the (new) reqid to the tunnel, drop the old key.
fn demux_ops(
    s: &IfState,
    tunnel: Option<Tunnel>,
    reqid: Reqid,
) -> Result<Vec<MapOp<u32, DemuxEntry>>> {
    let mut ops = Vec::new();
    ops.try_reserve_exact(2)?;
    if let Some(tun) = tunnel {
        let e = DemuxEntry {
            handle: s.handle,
            sa_src: tun.dst(),
            sa_dst: tun.src(),
        };
        push_reserved(&mut ops, MapOp::Insert(reqid.get(), e))?;
    }
    if let (Some(_), Some(old)) = (s.tunnel, s.reqid) {
        if old != reqid || tunnel.is_none() {
            push_reserved(&mut ops, MapOp::Remove(old.get()))?;
        }
    }
    Ok(ops)
}

fn maybe_prepare<K, V>(
    slots: &dyn crate::tables::MapSlots<K, V>,
    ops: &[MapOp<K, V>],
) -> Result<Option<Prepared<K, V>>>
where
    K: crate::tables::hash::TableKey,
    V: Clone,
{
    match ops.is_empty() {
        true => Ok(None),
        false => prepare(slots, ops).map(Some),
    }
}
