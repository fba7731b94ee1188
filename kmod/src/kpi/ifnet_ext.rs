//! IfAPI calls C if_ipsec makes that the ifnet wrapper does not cover:
//! if_setdname (our cloner's name as driver name, so `ifconfig ipsecN
//! destroy` reaches our cloner), if_addgroup, and whether an interface name exists (ifunit).  FreeBSD 14.2 sys/net/if.c
//! (b66633d79ade).
use super::epoch::Sleepable;
use super::ifnet::Ifnet;
use super::ifnet::IfnetOwner;
use core::ffi::{c_int, CStr};
use sys_bindings::ifnet::{if_addgroup, if_setdname, if_t, ifunit};

/// if_setdname(ifp, name): `name` is kept by pointer (static).
pub fn set_dname<S: Send + Sync + 'static>(ifp: &IfnetOwner<S>, name: &'static CStr) {
    // SAFETY: an ifnet we own; the name outlives it.
    unsafe { if_setdname(ifp.as_ptr(), name.as_ptr()) };
}

/// if_addgroup(ifp, group) (M_WAITOK inside).  Ok or the errno.
pub fn add_group<S: Send + Sync + 'static>(
    ifp: &IfnetOwner<S>,
    group: &CStr,
    _: &mut Sleepable,
) -> Result<(), c_int> {
    // SAFETY: an attached ifnet we own; the group name is copied.
    match unsafe { if_addgroup(ifp.as_ptr(), group.as_ptr()) } {
        0 | sys_bindings::errno::EEXIST => Ok(()),
        e => Err(e),
    }
}

/// Does an interface called `name` (NUL-terminated) exist in curvnet?
/// (`ifunit`: no reference taken, we only test presence under the
/// config lock, as if_clone.c does before create.)
pub fn name_exists(name: &CStr) -> bool {
    // SAFETY: NUL-terminated name; ifunit only reads the ifnet list.
    !unsafe { ifunit(name.as_ptr()) }.is_null()
}

/// An interface of ours as stored in epoch-read tables: reachable inside
/// an epoch section.  Sound because the glue removes it from every table
/// (and waits for the epoch) before destroying the interface, and
/// if_free(9) itself defers the memory through the epoch
/// (sys/net/if.c if_free -> NET_EPOCH_CALL).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EpochIfp(if_t);

// SAFETY: an ifnet pointer used only inside epoch sections.
unsafe impl Send for EpochIfp {}
// SAFETY: as above.
unsafe impl Sync for EpochIfp {}

impl EpochIfp {
    /// The handle of one of our interfaces.
    pub fn of<S: Send + Sync + 'static>(o: &IfnetOwner<S>) -> EpochIfp {
        EpochIfp(o.as_ptr())
    }

    /// The interface, for the epoch section.
    pub fn get<'e>(&self, _: &'e super::epoch::InEpoch) -> &'e Ifnet {
        // SAFETY: see the type's docs: still attached or within the
        // epoch-deferred free.
        unsafe { Ifnet::from_ptr(self.0) }
    }

    /// The interface, for the config-lock holder (destroy needs the lock).
    pub fn get_locked<'g>(&self, _: &'g super::sx::ConfigGuard<'_>) -> &'g Ifnet {
        // SAFETY: interfaces are destroyed under the lock after removal
        // from the tables, so a table entry names a live one.
        unsafe { Ifnet::from_ptr(self.0) }
    }
}
