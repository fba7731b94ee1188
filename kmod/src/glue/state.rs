//! The module's per-VNET state (C: the VNET-virtualised cloner and hash
//! tables of if_ipsec.c) and the one configuration lock.
use core::sync::atomic::AtomicBool;
use spin::Mutex;

use super::cloner::IpsecCloner;
use super::tables::VnetTables;
use crate::kpi::clone::ClonerReg;
use crate::kpi::epoch_slot::Slot;
use crate::kpi::hhook::InputHook;
use crate::kpi::sx::{ConfigGuard, ConfigLock};
use crate::kpi::vnet::CurVnet;

/// C: `ipsec_ioctl_sx`.  Every configuration change, create, destroy and
/// VNET init/uninit runs under it.
pub static CONFIG: ConfigLock = ConfigLock::new(c"if_ipsec config");

/// One VNET's share of the module.
pub struct VnetState {
    /// Epoch-read tables.
    pub tables: VnetTables,
    /// The core's writer state.  A spin mutex only to get `&mut` through
    /// a shared reference: it is taken exclusively under [`CONFIG`], so it
    /// is never contended and never spins.
    pub core: Mutex<if_ipsec::vnet::Vnet>,
    /// Our cloner in this VNET.
    pub cloner: Mutex<Option<ClonerReg<IpsecCloner>>>,
    /// The IPSEC_IN hooks (AF_INET, AF_INET6) and the IPSEC_OUT hook of
    /// the DF policy (outer AF_INET).
    pub hooks: Mutex<Option<(InputHook, InputHook, InputHook)>>,
    /// Some interface of this VNET has had `link2` (DF copy): until then
    /// the DF hook returns at once.  Never cleared (a stale true costs a
    /// lookup per packet, no more).
    pub df_copy_seen: AtomicBool,
    /// SA-driven link state.
    pub link: super::linkstate::LinkState,
}

crate::vnet_define! {
    /// The current VNET's state (set by the VNET_SYSINIT).
    pub static V_STATE: Slot<VnetState> = Slot::null();
}

/// This VNET's state, for the lock holder.
pub fn locked<'g>(cv: &CurVnet, g: &'g ConfigGuard<'_>) -> Option<&'g VnetState> {
    V_STATE.get(cv).get_locked(g)
}
