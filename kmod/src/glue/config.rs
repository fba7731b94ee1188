//! Executing the core's transition plans (`if_ipsec::state::Effect`).
//!
//! Order kept from the plan: register the new policies, publish them to
//! output, publish the tables to input, set RUNNING; so a tunnel or reqid
//! change never leaves a gap (issue 5 point 2; C drops traffic there).
//! Two deviations, both about when things are freed, not what readers
//! see: `UnregisterPolicies` happens inside `FreePolicies` (the kpi's
//! `Registered` withdraws and releases together, after the epoch wait, so
//! the old set stays registered for one epoch wait longer: harmless, both
//! carry distinct reqids or addresses and the new set is already in), and
//! `EpochWait`/`FreePolicies`/`FreeRetired` are done by the caller in
//! [`Aftermath::finish`], once the borrows of the lock guard end.
use core::ffi::c_int;

use alloc::vec::Vec;
use spin::Mutex;

use super::softc::{Active, Softc};
use super::state::VnetState;
use super::tables::{Garbage, StagedTables};
use crate::kpi::epoch::{net_epoch, Sleepable};
use crate::kpi::epoch_slot::{Gone, Waited};
use crate::kpi::ifnet::Ifnet;
use crate::kpi::inet::is_local;
use crate::kpi::secpolicy::{Registered, SpRef};
use crate::kpi::sx::ConfigGuard;
use crate::kpi::tryalloc::{try_box, try_push};
use if_ipsec::policy::PolicySet;
use if_ipsec::state::Effect;
use if_ipsec::tables::{IfHandle, MapOp};
use if_ipsec::vnet::Tx;
use sys_bindings::errno::ENOMEM;

/// What a change leaves to free after an epoch wait.
#[derive(Default)]
pub struct Aftermath {
    /// Replaced table pieces.
    pub garbage: Garbage,
    /// The replaced policy set.
    pub policies: Option<Gone<Active>>,
}

/// Retired table pieces waiting for a shared epoch wait: an
/// epoch_wait_preempt per create or tunnel change would dominate creating
/// thousands of interfaces, and the pieces are small.  Capacity is
/// reserved at load ([`reserve_pending`]); only [`CONFIG`] holders touch
/// it (the spin mutex never spins).
///
/// [`CONFIG`]: super::state::CONFIG
static PENDING: Mutex<Vec<Garbage>> = Mutex::new(Vec::new());

/// Changes whose pieces may wait for a shared epoch wait.
pub const BATCH: usize = 64;

/// Reserve room for [`BATCH`] pending changes (module load).
pub fn reserve_pending() -> Result<(), c_int> {
    PENDING.lock().try_reserve_exact(BATCH).map_err(|_| ENOMEM)
}

/// Give the reserved room back (unload, after the last flush).
pub fn release_pending() {
    drop(core::mem::take(&mut *PENDING.lock()));
}

/// Wait once and free every pending piece (VNET teardown, unload).
pub fn flush(g: &mut ConfigGuard<'_>, s: &mut Sleepable) {
    let w = Waited::wait(s);
    let mut p = PENDING.lock();
    for mut x in p.drain(..) {
        x.free(&w, g);
    }
}

impl Aftermath {
    /// EpochWait, FreePolicies (key_unregister_ifnet + key_freesp), and
    /// FreeRetired.  Old policies are released at once (they are visible
    /// to `setkey -DP`); table pieces alone may be batched.
    pub fn finish(mut self, g: &mut ConfigGuard<'_>, s: &mut Sleepable) {
        let urgent = self.policies.as_ref().is_some_and(|p| !p.is_empty());
        if !urgent {
            if self.garbage.is_empty() {
                return;
            }
            let mut p = PENDING.lock();
            if p.len() < p.capacity() && p.len() < BATCH {
                let _ = try_push(&mut p, core::mem::take(&mut self.garbage));
                return;
            }
        }
        let w = Waited::wait(s);
        self.garbage.free(&w, g);
        if let Some(p) = self.policies.take() {
            let _leak_if_early = p.free(&w, g);
        }
        for mut x in PENDING.lock().drain(..) {
            x.free(&w, g);
        }
    }
}

/// The interface a plan acts on.
pub struct Target<'a> {
    /// Its VNET's state.
    pub st: &'a VnetState,
    /// The ifnet.
    pub ifp: &'a Ifnet,
    /// Its softc.
    pub sc: &'a Softc,
}

/// key_newsp + ipsec_newisr for each spec, then key_register_ifnet.
fn register(set: &PolicySet) -> Result<alloc::boxed::Box<Active>, c_int> {
    let [a, b, c, d] = &set.specs;
    let sps = [
        SpRef::build(a)?,
        SpRef::build(b)?,
        SpRef::build(c)?,
        SpRef::build(d)?,
    ];
    let reg = Registered::register(sps)?;
    try_box(Active::new(*set, reg))
}

/// Run `tx`'s plan (all but the frees, see the module docs), then the
/// core's bookkeeping; returns the record of an interface moved out.  `ifs`: a change to the handle map published with
/// the tables (removal at destroy).  On error nothing was published.
pub fn run(
    mut tx: Tx,
    t: &Target<'_>,
    ifs: &[MapOp<IfHandle, super::tables::OurIfp>],
    g: &ConfigGuard<'_>,
    s: &mut Sleepable,
    out: &mut Aftermath,
) -> Result<Option<if_ipsec::iface::IfState>, c_int> {
    let staged = StagedTables::stage(&t.st.tables, tx.take_tables(), ifs, g, &mut out.garbage)?;
    let mut staged = Some(staged);
    let mut fresh: Option<alloc::boxed::Box<Active>> = None;
    for eff in tx.plan() {
        match eff {
            Effect::RegisterPolicies => {
                let set = tx.new_policies().ok_or(sys_bindings::errno::EINVAL)?;
                fresh = Some(register(&set)?);
            }
            Effect::PublishPolicies => out.policies = Some(t.sc.policies.publish(fresh.take(), g)),
            Effect::PublishTables => {
                if let Some(st) = staged.take() {
                    st.publish(&t.st.tables, g, &mut out.garbage, false);
                }
            }
            Effect::ClearRunning => t.ifp.set_running(false),
            Effect::CheckRunning => check_running(&tx, t.ifp, s),
            // Deferred: see the module docs.
            Effect::UnregisterPolicies
            | Effect::EpochWait
            | Effect::FreePolicies
            | Effect::FreeRetired
            | Effect::Detach
            | Effect::FreeInterface => {}
        }
    }
    if let Some(st) = staged.take() {
        st.publish(&t.st.tables, g, &mut out.garbage, false);
    }
    Ok(t.st.core.lock().finish(tx))
}

/// RUNNING iff the tunnel source is local (C ipsec_set_running).
fn check_running(tx: &Tx, ifp: &Ifnet, s: &mut Sleepable) {
    let Some(src) = tx.next_state().and_then(|n| n.tunnel).map(|t| t.src()) else {
        return;
    };
    net_epoch(s, |e| ifp.set_running(is_local(&src, e)));
}
