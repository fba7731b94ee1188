//! Source-address index: local address -> interfaces using it.
//!
//! FreeBSD 14.2 sys/net/if_ipsec.c (b66633d79ade) ipsec_srcaddr runs (in
//! the net epoch) when a local address appears or goes, and re-evaluates
//! RUNNING (ipsec_set_running) of every interface whose tunnel source is
//! that address; C keeps them on 32 hash chains.
//!
//! Many tunnels commonly share one local address, so a per-address list
//! copied on every change would cost O(k).  Instead the members of an
//! address are numbered densely: `count[addr] = n` and
//! `member[(addr, i)] = interface` for i < n.  Each interface remembers
//! its number (writer side).  Adding is `member[(addr, n)] = h` then
//! `count = n + 1`; removing number i moves the last member into i, then
//! `count = n - 1`, then drops `(addr, n - 1)`.  Every step is O(1)
//! expected bucket work.
//!
//! Published in that order (members before counts, the move before the
//! drop), a concurrent reader enumerating `0..count` sees every interface
//! that is a member both before and after the change, may see the one
//! being added or removed (old or new state for that interface), may see
//! the moved one twice, and skips a slot that is briefly empty.  The
//! callback re-checks the interface's current source (as C does with
//! key_sockaddrcmp inside its loop) and setting RUNNING is idempotent, so
//! none of that changes the outcome.

use alloc::vec::Vec;

use super::bucket::MapOp;
use super::cowmap::{MapRead, MapSlots};
use super::IfHandle;
use crate::addr::Addr;
use crate::errno::{Errno, Result};
use crate::fallible::push_reserved;

/// Key of a member entry: (address, member number).
pub type SrcSlot = (Addr, u32);

/// Changes to the two source maps for one update.
#[derive(Debug, Default)]
pub struct SrcOps {
    /// Member-map operations, in publication order.
    pub members: Vec<MapOp<SrcSlot, IfHandle>>,
    /// Count-map operations.
    pub counts: Vec<MapOp<Addr, u32>>,
    /// Interface whose member number changed, and its new number.
    pub moved: Option<(IfHandle, u32)>,
}

impl SrcOps {
    /// Operations adding `h` under `addr`; returns h's member number.
    pub fn add<C>(&mut self, counts: &C, addr: Addr, h: IfHandle) -> Result<u32>
    where
        C: MapSlots<Addr, u32> + ?Sized,
    {
        let n = counts.lookup(&addr).copied().unwrap_or(0);
        let next = n.checked_add(1).ok_or(Errno::ENOMEM)?;
        self.members.try_reserve(1)?;
        self.counts.try_reserve(1)?;
        push_reserved(&mut self.members, MapOp::Insert((addr, n), h))?;
        push_reserved(&mut self.counts, MapOp::Insert(addr, next))?;
        Ok(n)
    }

    /// Operations removing member number `i` of `addr`.
    pub fn remove<C, M>(&mut self, counts: &C, members: &M, addr: Addr, i: u32) -> Result<()>
    where
        C: MapSlots<Addr, u32> + ?Sized,
        M: MapSlots<SrcSlot, IfHandle> + ?Sized,
    {
        let n = counts.lookup(&addr).copied().ok_or(Errno::EINVAL)?;
        let last = n.checked_sub(1).ok_or(Errno::EINVAL)?;
        self.members.try_reserve(2)?;
        self.counts.try_reserve(1)?;
        if i != last {
            let moved = *members.lookup(&(addr, last)).ok_or(Errno::EINVAL)?;
            push_reserved(&mut self.members, MapOp::Insert((addr, i), moved))?;
            self.moved = Some((moved, i));
        }
        push_reserved(&mut self.members, MapOp::Remove((addr, last)))?;
        push_reserved(
            &mut self.counts,
            if last == 0 {
                MapOp::Remove(addr)
            } else {
                MapOp::Insert(addr, last)
            },
        )?;
        Ok(())
    }
}

/// Call `f` for each interface registered under `addr` (reader side; see
/// the module docs for what a concurrent reader may see).
pub fn for_each_src<C, M>(counts: &C, members: &M, addr: &Addr, mut f: impl FnMut(IfHandle))
where
    C: MapRead<Addr, u32> + ?Sized,
    M: MapRead<SrcSlot, IfHandle> + ?Sized,
{
    let n = counts.get(addr).copied().unwrap_or(0);
    for i in 0..n {
        if let Some(h) = members.get(&(*addr, i)) {
            f(*h);
        }
    }
}
