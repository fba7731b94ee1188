//! The cloner: create and destroy (C: ipsec_clone_create /
//! ipsec_clone_destroy, FreeBSD 14.2 sys/net/if_ipsec.c, b66633d79ade).
//!
//! Our cloner is named [`CLONER_NAME`] ("ipsecrs": the stock cloner
//! "ipsec" lives in ipsec.ko, which we depend on, and if_clone.c refuses a
//! duplicate name); its match function claims `ipsec` and `ipsecN`, and
//! it is attached after ipsec.ko's (same VNET_SYSINIT keys, registered
//! later), i.e. at the head of the cloner list, so `ifconfig ipsec0
//! create` reaches it first.  Interfaces are named `ipsecN` (if_initname)
//! with driver name "ipsecrs" (if_setdname) so `ifconfig ipsecN destroy`
//! comes back here, and join group "ipsec" like the stock ones (the
//! kernel adds group "ipsecrs" too, ifc_link_ifp).
//!
//! Destroy order (C's, written down): clear RUNNING, unpublish policies
//! and tables (delete tunnel), unhash, bpfdetach, if_detach, clear the
//! softc, unlock, epoch wait, if_free, then (relocked, after a second
//! wait) free the retired pieces and release the old policies.
use core::ffi::{c_int, CStr};

use super::config::{self, Aftermath, Target};
use super::ifops::IfOps;
use super::reassign::Move;
use super::softc::Softc;
use super::state::{locked, CONFIG};
use super::tables::StagedTables;
use crate::kpi::bpf::attach_dlt_null;
use crate::kpi::clone::{CloneParams, Cloner};
use crate::kpi::epoch::Sleepable;
use crate::kpi::ifnet::{IfFlags, IfnetOwner};
use crate::kpi::ifnet_ext::{add_group, name_exists, set_dname, set_reassign, EpochIfp};
use crate::kpi::inet::proc_fibnum;
use crate::kpi::sx::ConfigGuard;
use crate::kpi::time::pause_ticks;
use crate::kpi::tryalloc::try_box;
use crate::kpi::vnet::{with_vnet, CurVnet};
use if_ipsec::ioctl::MTU_DEFAULT;
use if_ipsec::names::{format_name, parse_name, UnitRequest};
use if_ipsec::tables::{IfHandle, MapOp};
use sys_bindings::errno::{EINVAL, ENOMEM, ENXIO};
use sys_bindings::if_clone::IFC_F_FORCE;
use sys_bindings::ifnet::IFT_TUNNEL;

/// Our cloner's name (at most 9 characters, sys/net/if_clone.c IFCLOSIZ).
pub const CLONER_NAME: &CStr = c"ipsecrs";
/// if_initname's driver part and the stock interfaces' group.
pub const IF_NAME: &CStr = c"ipsec";

/// The cloner's callbacks.
pub struct IpsecCloner;

fn name_taken(unit: u32) -> bool {
    let n = format_name(unit);
    CStr::from_bytes_until_nul(&n).is_ok_and(name_exists)
}

impl Cloner for IpsecCloner {
    type If = IfOps;

    fn matches(name: &CStr) -> bool {
        parse_name(name.to_bytes()).is_some()
    }

    fn create(
        name: &CStr,
        _: CloneParams<'_>,
        s: &mut Sleepable,
    ) -> Result<IfnetOwner<Softc>, c_int> {
        let req = parse_name(name.to_bytes()).ok_or(EINVAL)?;
        let cv = CurVnet::current().ok_or(ENXIO)?;
        let mut g = CONFIG.lock(s);
        let mut after = Aftermath::default();
        let r = create_locked(req, &cv, &g, s, &mut after);
        after.finish(&mut g, s);
        // No name write-back needed: if_clone.c if_clone_create copies
        // if_name(ifp) ("ipsecN") back to the caller after create_f.
        match r {
            Ok(owner) => Ok(owner),
            Err(Failed::Clean(e)) => Err(e),
            Err(Failed::Attached(owner, e)) => {
                // Visible already: tear down as destroy does (detach,
                // unlock, epoch wait, free), nothing else was published.
                drop(owner.destroy(g, s));
                Err(e)
            }
        }
    }

    fn destroy(
        owner: IfnetOwner<Softc>,
        flags: u32,
        s: &mut Sleepable,
    ) -> Result<(), (IfnetOwner<Softc>, c_int)> {
        destroy_any(owner, flags & IFC_F_FORCE != 0, s)
    }
}

/// How a create failed: before the interface became visible (nothing
/// to undo) or after if_attach (the caller must destroy it properly).
enum Failed {
    Clean(c_int),
    Attached(IfnetOwner<Softc>, c_int),
}

impl From<c_int> for Failed {
    fn from(e: c_int) -> Self {
        Failed::Clean(e)
    }
}

/// Everything fallible that can be done before if_attach is; the core
/// record needs the if_index, known only after it.
fn create_locked(
    req: UnitRequest,
    cv: &CurVnet,
    g: &ConfigGuard<'_>,
    s: &mut Sleepable,
    after: &mut Aftermath,
) -> Result<IfnetOwner<Softc>, Failed> {
    let st = locked(cv, g).ok_or(ENXIO)?;
    let unit = st
        .core
        .lock()
        .choose_unit(req, name_taken)
        .map_err(|e| e.get())?;
    let unit_i = i32::try_from(unit).map_err(|_| EINVAL)?;
    let h = IfHandle(unit);
    let fib = proc_fibnum();
    let softc = try_box(Softc::new(h, cv.vnet(), fib))?;
    let mut owner = IfnetOwner::new::<IfOps>(s, IFT_TUNNEL, IF_NAME, unit_i, softc)?;
    set_dname(&owner, CLONER_NAME);
    set_reassign::<Move>(&owner);
    owner.set_flag_bits(IfFlags::POINTOPOINT | IfFlags::MULTICAST, IfFlags::empty());
    owner.set_mtu(MTU_DEFAULT);
    let ifp = EpochIfp::of(&owner);
    let staged = StagedTables::stage_ifp(&st.tables, h, ifp, g, &mut after.garbage)?;
    owner.attach(s);
    attach_dlt_null(&owner, s);
    let added = add_group(&owner, IF_NAME, s).and_then(|()| {
        let mut core = st.core.lock();
        core.create(h, unit, owner.index(), fib)
            .map_err(|e| e.get())
    });
    if let Err(e) = added {
        return Err(Failed::Attached(owner, e));
    }
    staged.publish(&st.tables, g, &mut after.garbage, true);
    super::linkstate::refresh(st, h, g); // no tunnel: down (if tracked)
    Ok(owner)
}

/// Destroy, wherever the interface lives now.  With `force` (if_clone.c
/// if_clone_detach: IFC_F_FORCE, retried forever on failure, so a failure
/// would hang kldunload; issue 8) it never fails: memory shortage is
/// waited out as M_WAITOK would, and an interface no VNET holds any more
/// (its VNET's share was torn down, or its arrival failed) has nothing
/// published to withdraw.  Without `force` an error leaves it as it was.
fn destroy_any(
    owner: IfnetOwner<Softc>,
    force: bool,
    s: &mut Sleepable,
) -> Result<(), (IfnetOwner<Softc>, c_int)> {
    let mut g = CONFIG.lock(s);
    loop {
        let mut after = Aftermath::default();
        let r = match owner.softc().vnet() {
            Some(v) => with_vnet(v, |cv| unpublish(&owner, cv, &g, s, &mut after)),
            None => Ok(()),
        };
        after.finish(&mut g, s);
        match r {
            // ENXIO: no state or no record in that VNET, so no table entry
            // and no policy of it either (they are published only with a
            // record; config::run).
            Ok(()) | Err(ENXIO) => break,
            Err(e) if !force => return Err((owner, e)),
            Err(ENOMEM) => g.unlocked(s, |s| pause_ticks(s, c"ipsecdst", 1)),
            // Anything else is not memory and will not go away by
            // waiting: go on rather than loop (kldunload would hang).
            Err(e) => {
                crate::kprintln!("if_ipsec: forced destroy went on after errno {}", e);
                break;
            }
        }
    }
    owner.softc().clear_vnet();
    let softc = owner.destroy(g, s);
    drop(softc);
    Ok(())
}

/// Everything of destroy up to the detach, under the lock.
fn unpublish(
    owner: &IfnetOwner<Softc>,
    cv: &CurVnet,
    g: &ConfigGuard<'_>,
    s: &mut Sleepable,
    after: &mut Aftermath,
) -> Result<(), c_int> {
    let st = locked(cv, g).ok_or(ENXIO)?;
    let sc = owner.softc();
    let tx = {
        let core = st.core.lock();
        core.prepare_destroy(&st.tables.locked(g), sc.handle)
            .map_err(|e| e.get())?
    };
    let rm = [MapOp::Remove(sc.handle)];
    config::run(tx, &Target { st, ifp: owner, sc }, &rm, g, s, after).map(drop)
}
