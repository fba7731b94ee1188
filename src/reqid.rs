//! reqids: the number binding an interface's policies to its SAs.
//!
//! Rules (FreeBSD 14.2 sys/net/if_ipsec.c (b66633d79ade) ipsec_set_reqid,
//! ipsec_init_reqid, ipsec_check_reqid):
//! - manual: any nonzero u32; unique among this module's interfaces in one
//!   VNET (EEXIST); setting the value already set is a no-op; setting 0
//!   keeps a reqid already set, else allocates one;
//! - automatic: from the range above IPSEC_MANUAL_REQID_MAX (0x3fff) that
//!   sys/netipsec/key.c key_newreqid hands out (0x4000..=0xffffffff).
//!
//! Differences from C: C draws from key_newreqid's global, unlocked
//! counter and gives up (EEXIST) after 63 collisions.  Here each VNET has
//! its own cursor (the writer lock serializes it) and the search walks
//! forward from it, skipping reqids owned by other interfaces, so it
//! always finds a free value while one exists: the walk ends after at
//! most (owned reqids in the range + 1) probes, and the range (2^32 -
//! 0x4000 values) is far larger than any possible number of interfaces.
//! The glue may pass key_newreqid()'s value as a starting hint, which keeps
//! automatic reqids apart from the ones key.c gives to setkey "unique"
//! policies, as C's shared counter does.

use core::num::NonZeroU32;

use sys_bindings::ipsec_consts::IPSEC_MANUAL_REQID_MAX;

use crate::errno::{Errno, Result};
use crate::fallible::push_reserved;
use alloc::vec::Vec;

use crate::tables::{prepare, CowMap, IfHandle, MapOp, Prepared};

/// First automatic reqid.
pub const AUTO_MIN: u32 = IPSEC_MANUAL_REQID_MAX + 1;

/// A nonzero reqid.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Reqid(NonZeroU32);

impl Reqid {
    /// `None` for 0.
    pub const fn new(v: u32) -> Option<Reqid> {
        match NonZeroU32::new(v) {
            Some(n) => Some(Reqid(n)),
            None => None,
        }
    }
    /// The value.
    pub const fn get(self) -> u32 {
        self.0.get()
    }
}

/// The reqids owned by this module's interfaces in one VNET (writer side).
#[derive(Debug)]
pub struct ReqidSpace {
    owners: CowMap<u32, IfHandle>,
    cursor: u32,
}

/// The automatic value after `v` (wrapping to [`AUTO_MIN`]).
const fn next_auto(v: u32) -> u32 {
    if v == u32::MAX || v < AUTO_MIN {
        AUTO_MIN
    } else {
        v + 1
    }
}

impl ReqidSpace {
    /// Empty space.
    pub fn new(seed: u64) -> Result<ReqidSpace> {
        Ok(ReqidSpace {
            owners: CowMap::new(seed)?,
            // key_newreqid (key.c) pre-increments from 0x4000: its first
            // value is 0x4001, 0x4000 only after a wrap.  Same here.
            cursor: AUTO_MIN,
        })
    }

    /// Owner of `r`.
    pub fn owner(&self, r: Reqid) -> Option<IfHandle> {
        self.owners.get(&r.get()).copied()
    }

    /// Number of owned reqids.
    pub fn len(&self) -> usize {
        self.owners.len()
    }

    /// True if none is owned.
    pub fn is_empty(&self) -> bool {
        self.owners.is_empty()
    }

    /// EEXIST if `r` belongs to an interface other than `h`
    /// (if_ipsec.c ipsec_check_reqid).
    pub fn check_free(&self, r: Reqid, h: IfHandle) -> Result<()> {
        match self.owner(r) {
            Some(o) if o != h => Err(Errno::EEXIST),
            _ => Ok(()),
        }
    }

    /// A free automatic reqid, starting after `hint` (or the cursor).
    /// Does not claim it.
    pub fn pick_auto(&self, hint: Option<u32>) -> Result<Reqid> {
        let range = u64::from(u32::MAX - AUTO_MIN) + 1;
        if self.owners.len() as u64 >= range {
            return Err(Errno::EEXIST);
        }
        let mut v = match hint {
            Some(h) if h >= AUTO_MIN => h,
            _ => next_auto(self.cursor),
        };
        // Terminates: at most owners.len() values in the range are taken.
        loop {
            if self.owners.get(&v).is_none() {
                return Reqid::new(v).ok_or(Errno::EINVAL);
            }
            v = next_auto(v);
        }
    }

    /// Record `r` as owned by `h` (after [`Self::check_free`]).
    pub fn claim(&mut self, r: Reqid, h: IfHandle) -> Result<()> {
        self.owners.insert(r.get(), h)
    }

    /// Record a value from [`Self::pick_auto`]; the next search starts
    /// after it.
    pub fn claim_auto(&mut self, r: Reqid, h: IfHandle) -> Result<()> {
        self.claim(r, h)?;
        self.cursor = r.get();
        Ok(())
    }

    /// Pieces for "release `old`, then claim `new` for `h`" in one batch
    /// (nothing changes until [`Self::commit`]).
    pub fn prepare(
        &self,
        old: Option<Reqid>,
        new: Option<Reqid>,
        h: IfHandle,
    ) -> Result<Prepared<u32, IfHandle>> {
        let mut ops: Vec<MapOp<u32, IfHandle>> = Vec::new();
        ops.try_reserve_exact(2)?;
        if let Some(r) = old {
            push_reserved(&mut ops, MapOp::Remove(r.get()))?;
        }
        if let Some(r) = new {
            push_reserved(&mut ops, MapOp::Insert(r.get(), h))?;
        }
        prepare(&self.owners, &ops)
    }

    /// Publish a [`Self::prepare`]d change; `auto` is the automatic value
    /// it claimed, if any (the next search starts after it).
    pub fn commit(&mut self, p: Prepared<u32, IfHandle>, auto: Option<Reqid>) {
        self.owners.commit(p);
        if let Some(r) = auto {
            self.cursor = r.get();
        }
    }

    /// Forget `r`; never allocates, never fails.
    pub fn release(&mut self, r: Reqid) {
        self.owners.remove_in_place(&r.get());
    }
}
