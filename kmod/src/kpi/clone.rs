//! Interface cloner registration and its typed callbacks.
//!
//! FreeBSD 14.2 sys/net/if_clone.c (b66633d79ade): `ifc_attach_cloner`
//! returns NULL for a duplicate name (if_clone_attach: EEXIST) or a name of
//! IFCLOSIZ-1 or more characters; cloners are inserted at the head of the
//! vnet's list, so the newest whose match function accepts a name gets
//! `ifconfig NAME create`; `ifconfig NAME destroy` goes to the cloner named
//! by the interface's if_dname; `ifc_detach_cloner` destroys every
//! remaining interface of the cloner (IFC_F_FORCE) before returning.
//! create/destroy run in a sleepable context with curvnet set.
use super::epoch::Sleepable;
use super::if_handler::IfHandler;
use super::ifnet::IfnetOwner;
use super::thread::UserAddr;
use core::ffi::{c_char, c_int, CStr};
use core::marker::PhantomData;
use core::ptr::NonNull;
use sys_bindings::errno::{EDEADLK, EEXIST, ENXIO};
use sys_bindings::if_clone::{
    if_clone, if_clone_addreq, ifc_attach_cloner, ifc_copyin, ifc_data, ifc_detach_cloner,
};
use sys_bindings::ifnet::ifnet;

/// The owner type of a cloner's interfaces.
pub type Owned<C> = IfnetOwner<<<C as Cloner>::If as IfHandler>::Softc>;

/// A cloner of interfaces whose if_ioctl/if_transmit are `Self::If`'s.
pub trait Cloner: 'static {
    /// The interfaces' handler (and softc type).
    type If: IfHandler;

    /// ifc_match_f: does this cloner create `name`?
    fn matches(name: &CStr) -> bool;

    /// ifc_create_f: create the interface `name` (as typed by the user,
    /// e.g. "ipsec" or "ipsec5"); return it attached.
    fn create(
        name: &CStr,
        params: CloneParams<'_>,
        s: &mut Sleepable,
    ) -> Result<Owned<Self>, c_int>;

    /// ifc_destroy_f: destroy it; give it back with an errno to refuse.
    fn destroy(ifp: Owned<Self>, flags: u32, s: &mut Sleepable)
        -> Result<(), (Owned<Self>, c_int)>;
}

/// The create request's parameters (`struct ifc_data`).
pub struct CloneParams<'a> {
    ifd: *const ifc_data,
    _l: PhantomData<&'a ifc_data>,
}

impl CloneParams<'_> {
    /// `ifd->flags` (IFC_F_*).
    pub fn flags(&self) -> u32 {
        // SAFETY: valid for the create call.
        unsafe { (*self.ifd).flags }
    }

    /// Were parameters given (SIOCIFCREATE2 with ifr_data)?
    pub fn has_params(&self) -> bool {
        // SAFETY: as above.
        !unsafe { (*self.ifd).params }.is_null()
    }

    /// The parameter pointer (user address unless IFC_F_SYSSPACE).
    pub fn params_addr(&self) -> UserAddr {
        // SAFETY: as above.
        UserAddr(unsafe { (*self.ifd).params } as usize)
    }

    /// ifc_copyin of exactly N bytes (EINVAL without parameters).
    pub fn copyin<const N: usize>(&self, _: &mut Sleepable) -> Result<[u8; N], c_int> {
        let mut b = [0u8; N];
        // SAFETY: ifd valid for the call; b is N writable bytes; ifc_copyin
        // uses copyin or memcpy per IFC_F_SYSSPACE.
        match unsafe { ifc_copyin(self.ifd, b.as_mut_ptr().cast(), N) } {
            0 => Ok(b),
            e => Err(e),
        }
    }
}

unsafe extern "C" fn match_tramp<C: Cloner>(_ifc: *mut if_clone, name: *const c_char) -> c_int {
    if name.is_null() {
        return 0;
    }
    // SAFETY: the kernel passes a NUL-terminated interface name.
    c_int::from(C::matches(unsafe { CStr::from_ptr(name) }))
}

unsafe extern "C" fn create_tramp<C: Cloner>(
    _ifc: *mut if_clone,
    name: *mut c_char,
    _maxlen: usize,
    ifd: *mut ifc_data,
    ifpp: *mut *mut ifnet,
) -> c_int {
    let _in = super::inflight::enter();
    let Some(mut s) = Sleepable::here() else {
        return EDEADLK;
    };
    if name.is_null() || ifd.is_null() || ifpp.is_null() {
        return sys_bindings::errno::EINVAL;
    }
    // SAFETY: NUL-terminated name buffer of the cloner code.
    let n = unsafe { CStr::from_ptr(name) };
    let params = CloneParams {
        ifd,
        _l: PhantomData,
    };
    match C::create(n, params, &mut s) {
        Ok(owner) => {
            // SAFETY: out parameter; the kernel keeps the ifnet in the
            // cloner's list until destroy hands it back to us.
            unsafe { *ifpp = owner.into_raw() };
            0
        }
        Err(e) => e,
    }
}

unsafe extern "C" fn destroy_tramp<C: Cloner>(
    _ifc: *mut if_clone,
    ifp: *mut ifnet,
    flags: u32,
) -> c_int {
    let _in = super::inflight::enter();
    let Some(mut s) = Sleepable::here() else {
        return EDEADLK;
    };
    // SAFETY: the cloner calls destroy once per interface it got from our
    // create (it unlinked it from its list first), softc type C::If::Softc.
    let Some(owner) = (unsafe { Owned::<C>::from_raw(ifp) }) else {
        return ENXIO;
    };
    match C::destroy(owner, flags, &mut s) {
        Ok(()) => 0,
        Err((owner, e)) => {
            let _ = owner.into_raw(); // the cloner relinks it
            e
        }
    }
}

/// A registered cloner (in the current vnet); detached on drop, which
/// destroys its remaining interfaces through `C::destroy`.
pub struct ClonerReg<C: Cloner> {
    ifc: NonNull<if_clone>,
    _c: PhantomData<fn() -> C>,
}

// SAFETY: the registration is a kernel object usable from any thread.
unsafe impl<C: Cloner> Send for ClonerReg<C> {}
// SAFETY: no shared-reference operations.
unsafe impl<C: Cloner> Sync for ClonerReg<C> {}

impl<C: Cloner> ClonerReg<C> {
    /// ifc_attach_cloner(name, {match, create, destroy}) in curvnet.
    /// EEXIST when refused (duplicate or too long a name).
    pub fn attach(name: &'static CStr, _: &mut Sleepable) -> Result<Self, c_int> {
        let mut req = if_clone_addreq {
            version: 0,
            spare: 0,
            flags: 0,
            maxunit: 0,
            match_f: Some(match_tramp::<C>),
            create_f: Some(create_tramp::<C>),
            destroy_f: Some(destroy_tramp::<C>),
        };
        // SAFETY: name is 'static (the cloner keeps no pointer to it, it
        // copies it; 'static anyway); req is read during the call.
        let ifc = unsafe { ifc_attach_cloner(name.as_ptr(), &mut req) };
        NonNull::new(ifc)
            .map(|ifc| Self {
                ifc,
                _c: PhantomData,
            })
            .ok_or(EEXIST)
    }

    /// Detach now (same as drop; sleeps, hence the token).
    pub fn detach(self, _: &mut Sleepable) {
        drop(self)
    }
}

impl<C: Cloner> Drop for ClonerReg<C> {
    fn drop(&mut self) {
        // SAFETY: attached by us, detached once.
        unsafe { ifc_detach_cloner(self.ifc.as_ptr()) };
    }
}
