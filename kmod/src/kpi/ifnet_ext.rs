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
/// Non-null, so `Option<EpochIfp>` is one word.  `S` is the softc type
/// of the interfaces it may name (only ours: it is made from an owner or
/// a moving interface of that type).
pub struct EpochIfp<S>(
    core::ptr::NonNull<Ifnet>,
    core::marker::PhantomData<fn() -> S>,
);

impl<S> Clone for EpochIfp<S> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<S> Copy for EpochIfp<S> {}
impl<S> PartialEq for EpochIfp<S> {
    fn eq(&self, o: &Self) -> bool {
        self.0 == o.0
    }
}
impl<S> Eq for EpochIfp<S> {}
impl<S> core::fmt::Debug for EpochIfp<S> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "EpochIfp({:p})", self.0)
    }
}

// SAFETY: an ifnet pointer used only inside epoch sections or under the
// configuration lock.
unsafe impl<S> Send for EpochIfp<S> {}
// SAFETY: as above.
unsafe impl<S> Sync for EpochIfp<S> {}

impl<S: Send + Sync + 'static> EpochIfp<S> {
    /// The handle of one of our interfaces.
    pub fn of(o: &IfnetOwner<S>) -> EpochIfp<S> {
        EpochIfp(core::ptr::NonNull::from(&**o), core::marker::PhantomData)
    }

    /// The handle of an interface being moved to another vnet.
    pub fn of_moving(m: &Moving<'_, S>) -> EpochIfp<S> {
        EpochIfp(core::ptr::NonNull::from(m.ifp), core::marker::PhantomData)
    }

    /// The interface, for the epoch section.
    #[inline]
    pub fn get<'e>(&self, _: &'e super::epoch::InEpoch) -> &'e Ifnet {
        // SAFETY: see the type's docs: still attached or within the
        // epoch-deferred free.
        unsafe { self.0.as_ref() }
    }

    /// The interface, for the config-lock holder (destroy needs the lock).
    pub fn get_locked<'g>(&self, _: &'g super::sx::ConfigGuard<'_>) -> &'g Ifnet {
        // SAFETY: interfaces are destroyed under the lock after removal
        // from the tables, so a table entry names a live one.
        unsafe { self.0.as_ref() }
    }

    /// Its softc, for the config-lock holder (None once destroyed).
    pub fn softc_locked<'g>(&self, g: &'g super::sx::ConfigGuard<'_>) -> Option<&'g S> {
        let m = Moving::<S> {
            ifp: self.get_locked(g),
            _s: core::marker::PhantomData,
        };
        m.softc_locked(g)
    }
}

/// One of our interfaces as if_reassign sees it (its softc is an `S`).
pub struct Moving<'a, S> {
    ifp: &'a Ifnet,
    _s: core::marker::PhantomData<&'a S>,
}

impl<S> core::ops::Deref for Moving<'_, S> {
    type Target = Ifnet;
    fn deref(&self) -> &Ifnet {
        self.ifp
    }
}

impl<S: Send + Sync + 'static> Moving<'_, S> {
    /// The softc, for the configuration-lock holder (None once destroyed).
    pub fn softc_locked<'g>(&self, _: &'g super::sx::ConfigGuard<'_>) -> Option<&'g S> {
        // SAFETY: accessor on a valid ifnet.
        let p = unsafe { sys_bindings::ifnet::if_getsoftc(self.ifp.as_ptr()) };
        // SAFETY: the trampoline is installed only on interfaces whose
        // softc is an `S`; softcs are cleared and freed under the lock
        // (IfnetOwner::destroy consumes the guard), so it lives for 'g.
        (!p.is_null()).then(|| unsafe { &*p.cast_const().cast::<S>() })
    }
}

/// if_reassign (sys/net/if.c if_vmove, b66633d79ade): called after the
/// interface was detached from its vnet (curvnet = the old one) and
/// before it is attached to `new`.  Sleepable.
pub trait Reassign: 'static {
    /// The softc type of the interfaces it is installed on.
    type Softc: Send + Sync + 'static;
    /// The interface moves to `new`.
    fn reassign(
        ifp: Moving<'_, Self::Softc>,
        new: super::vnet::VnetHandle,
        s: &mut super::epoch::Sleepable,
    );
}

unsafe extern "C" fn reassign_tramp<R: Reassign>(
    ifp: if_t,
    new: *mut sys_bindings::vnet::vnet,
    _unused: *mut core::ffi::c_char,
) {
    let _in = super::inflight::enter();
    let (Some(mut s), Some(v)) = (
        super::epoch::Sleepable::here(),
        super::vnet::VnetHandle::from_addr(new as usize),
    ) else {
        return;
    };
    // SAFETY: if_vmove passes the (referenced) interface being moved.
    let ifp = unsafe { Ifnet::from_ptr(ifp) };
    R::reassign(
        Moving {
            ifp,
            _s: core::marker::PhantomData,
        },
        v,
        &mut s,
    );
}

/// if_setreassignfn(ifp, R) (C: ipsec_reassign, under VIMAGE).
pub fn set_reassign<R: Reassign>(o: &IfnetOwner<R::Softc>) {
    // SAFETY: an ifnet we own; a static function matching if_reassign_fn_t.
    unsafe { sys_bindings::ifnet::if_setreassignfn(o.as_ptr(), Some(reassign_tramp::<R>)) };
}
