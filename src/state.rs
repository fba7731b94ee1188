//! State of one interface and the ordered effects of each transition.
//!
//! Phases: no tunnel -> tunnel set -> (tunnel changed | reqid changed)* ->
//! tunnel deleted (no tunnel, reqid kept as C) -> destroyed.  Each
//! transition is prepared by [`crate::vnet::Vnet`] (all allocation done,
//! nothing changed) and returns a [`crate::vnet::Tx`] whose
//! [`Transition::plan`] the glue executes in order, under the config sx.
//!
//! # Why new policies are registered before the old are withdrawn
//!
//! FreeBSD 14.2 sys/net/if_ipsec.c (b66633d79ade) ipsec_set_tunnel
//! registers the new policies, then ipsec_delete_tunnel clears RUNNING,
//! unhashes the softc and waits for the epoch before installing the new
//! set: during that window output fails with ENETDOWN and decrypted input
//! is not attributed to the interface (it leaves as policy-based
//! traffic).  Here a change is:
//! 1. `RegisterPolicies` (the only step that can fail: key_register_ifnet
//!    may return EAGAIN; on failure the glue frees what it built and drops
//!    the Tx: nothing else happened);
//! 2. `PublishPolicies`: the softc's policy pointer (read by output in the
//!    epoch) now names the new set, so output switches in one store;
//! 3. `PublishTables`: the demux/srcaddr pieces, so input for the new SAs
//!    finds the interface;
//! 4. `CheckRunning`: RUNNING from the new source address;
//! 5. `UnregisterPolicies` (old): key_unregister_ifnet, now that nothing
//!    new picks them up;
//! 6. `EpochWait`, then `FreePolicies` (key_freesp on the old set) and
//!    `FreeRetired` (old table pieces): readers that loaded an old pointer
//!    before step 2/3 are gone.
//!
//! Both sets are registered between 1 and 5, so an SA of either matches a
//! policy throughout: no packet sees "no tunnel".
//!
//! Deleting and destroying first clear RUNNING and unpublish (output drops
//! with ENETDOWN from then on, input stops finding the interface), then
//! unregister, wait, free — C's order.

/// One step the glue performs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Effect {
    /// Build `secpolicy`s from [`crate::vnet::Tx::new_policies`]
    /// (key_newsp, ipsec_newisr) and key_register_ifnet them.  May fail:
    /// then free them and drop the Tx.
    RegisterPolicies,
    /// Store the new policy set (or none) in the softc's epoch-published
    /// pointer.
    PublishPolicies,
    /// Commit [`crate::vnet::Tx::take_tables`] in its commit order.
    PublishTables,
    /// Clear IFF_DRV_RUNNING.
    ClearRunning,
    /// Set IFF_DRV_RUNNING iff the tunnel source is a local address
    /// (in_localip / in6_localip, in the net epoch).
    CheckRunning,
    /// key_unregister_ifnet on the previous set.
    UnregisterPolicies,
    /// bpfdetach, if_detach, clear if_softc.
    Detach,
    /// epoch_wait_preempt(net_epoch_preempt).
    EpochWait,
    /// key_freesp on each policy of the previous set.
    FreePolicies,
    /// Free the table pieces the publish retired.
    FreeRetired,
    /// if_free and free the softc.
    FreeInterface,
}

use Effect::*;

/// Kind of a prepared transition.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Transition {
    /// Nothing to do (same tunnel, same reqid, delete without tunnel...).
    Nothing,
    /// Only RUNNING is cleared (delete without a tunnel, as C).
    ClearOnly,
    /// reqid bookkeeping only (no tunnel yet).
    ReqidOnly,
    /// No tunnel -> tunnel.
    SetTunnel,
    /// Tunnel -> other tunnel or other reqid.
    ChangeTunnel,
    /// Tunnel -> no tunnel.
    DeleteTunnel,
    /// Interface without tunnel goes away.
    DestroyIdle,
    /// Interface with tunnel goes away.
    Destroy,
}

impl Transition {
    /// The ordered effects (see the module docs for why this order).
    pub const fn plan(self) -> &'static [Effect] {
        match self {
            Transition::Nothing | Transition::ReqidOnly => &[],
            Transition::ClearOnly => &[ClearRunning],
            Transition::SetTunnel => &[
                RegisterPolicies,
                PublishPolicies,
                PublishTables,
                CheckRunning,
                EpochWait,
                FreeRetired,
            ],
            Transition::ChangeTunnel => &[
                RegisterPolicies,
                PublishPolicies,
                PublishTables,
                CheckRunning,
                UnregisterPolicies,
                EpochWait,
                FreePolicies,
                FreeRetired,
            ],
            Transition::DeleteTunnel => &[
                ClearRunning,
                PublishPolicies,
                PublishTables,
                UnregisterPolicies,
                EpochWait,
                FreePolicies,
                FreeRetired,
            ],
            Transition::DestroyIdle => &[ClearRunning, Detach, EpochWait, FreeInterface],
            Transition::Destroy => &[
                ClearRunning,
                PublishPolicies,
                PublishTables,
                UnregisterPolicies,
                Detach,
                EpochWait,
                FreePolicies,
                FreeRetired,
                FreeInterface,
            ],
        }
    }
}
