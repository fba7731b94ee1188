//! Interface tables read on the packet path, and how they are published.
//!
//! Three maps per VNET, all [`CowMap`]-shaped (directory of immutable
//! buckets, see `cowmap`):
//! - `demux`: reqid -> [`DemuxEntry`] (input demultiplexing, `demux`);
//! - `src_count`: local address -> number of interfaces using it, and
//!   `src_member`: (local address, i) -> interface (source-address events,
//!   `srcaddr`).
//!
//! Lookups take `&self`, hash once and scan one bucket whose expected
//! length is at most 1 (load kept in 1/8..1), independent of the number of
//! interfaces.  Units/names (`names`) and reqid ownership (`reqid`) are
//! writer-only and live in [`crate::vnet::Vnet`].
//!
//! # Concurrency contract (what the kernel layer implements)
//!
//! Readers (`ipsec_if_input`-equivalent, the srcaddr callback) run inside
//! the net epoch (`epoch_enter_preempt(net_epoch_preempt)`) and never
//! block or take the writer lock.  Writers hold the module's one sx lock.
//! The kernel layer keeps, per map, an epoch-protected atomic pointer to a
//! directory, and in the directory one epoch-protected atomic pointer per
//! bucket; each bucket and directory is immutable once published.
//!
//! A writer:
//! 1. builds everything first, with fallible allocation and without
//!    touching anything published: `Vnet::prepare_*` returns a
//!    [`TablesUpdate`] (via [`cowmap::prepare`] against the current
//!    maps, which the writer may read directly since no other writer
//!    runs); any failure here leaves all state unchanged;
//! 2. publishes, in the order of [`TablesUpdate::commit_order`]: `demux`,
//!    then `src_member`, then `src_count`; inside one map, a
//!    [`Change::Buckets`] is published bucket by bucket in vector order
//!    (release store of each bucket pointer), a [`Change::Directory`] by
//!    one release store of the directory pointer (the new directory's
//!    bucket pointers are all fresh).  [`TablesUpdate::into_pieces`]
//!    yields exactly that sequence, one [`Piece`] per store;
//! 3. keeps every replaced piece (the [`Retired`] values
//!    [`Tables::commit`] returns) until after `epoch_wait_preempt`, then
//!    frees them.
//!
//! A reader does, per lookup: acquire-load the directory pointer, take its
//! length and seed, compute [`index_of`], acquire-load that bucket pointer,
//! scan the bucket ([`Bucket::get`]).  It therefore sees, for each key, a
//! complete bucket that is either the version before or after the
//! publication of that key's change — never a partially written one, and
//! never a freed one (freeing waits for the epoch).  A change that touches
//! several keys (a reqid change, a tunnel move) becomes visible key by
//! key; `srcaddr` explains why its ordering keeps enumeration correct.
//! Resize replaces the whole directory in one store, so a reader holding
//! the old directory keeps reading the old (complete, still allocated)
//! buckets.
//!
//! [`Tables`] is the single-threaded composition of exactly these steps,
//! used by host tests and benches.

pub mod bucket;
pub mod cowmap;
pub mod demux;
pub mod hash;
pub mod srcaddr;

pub use bucket::{Bucket, MapOp};
pub use cowmap::{index_of, prepare, Change, CowMap, MapRead, MapSlots, Pieces, Prepared, Retired};
pub use demux::{input_lookup, DemuxEntry};
pub use srcaddr::{for_each_src, SrcOps, SrcSlot};

use crate::addr::Addr;
use crate::errno::Result;

/// A small integer naming an interface (the glue's choice: if_index or a
/// slot id); never a pointer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct IfHandle(pub u32);

impl hash::TableKey for IfHandle {
    fn hash_into(&self, h: hash::Hasher) -> hash::Hasher {
        self.0.hash_into(h)
    }
}

/// The read side a writer prepares against (implemented by [`Tables`]
/// here and by the kernel layer's epoch-published tables).
pub trait TablesRead {
    /// reqid -> interface.
    fn demux(&self) -> &dyn MapSlots<u32, DemuxEntry>;
    /// address -> member count.
    fn src_count(&self) -> &dyn MapSlots<Addr, u32>;
    /// (address, i) -> interface.
    fn src_member(&self) -> &dyn MapSlots<SrcSlot, IfHandle>;
}

/// Prepared pieces for all maps (`None` = map unchanged).
#[derive(Debug, Default)]
pub struct TablesUpdate {
    /// Input demux changes.
    pub demux: Option<Prepared<u32, DemuxEntry>>,
    /// Source member changes.
    pub src_member: Option<Prepared<SrcSlot, IfHandle>>,
    /// Source count changes.
    pub src_count: Option<Prepared<Addr, u32>>,
}

/// Which map a piece belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TableId {
    /// `demux`.
    Demux,
    /// `src_member`.
    SrcMember,
    /// `src_count`.
    SrcCount,
}

impl TablesUpdate {
    /// Order in which the maps must be published.
    pub const fn commit_order() -> [TableId; 3] {
        [TableId::Demux, TableId::SrcMember, TableId::SrcCount]
    }

    /// True if nothing changes.
    pub fn is_empty(&self) -> bool {
        self.demux.is_none() && self.src_member.is_none() && self.src_count.is_none()
    }

    /// Every piece, one at a time, in the order they must be published
    /// (maps in [`Self::commit_order`], buckets in prepared order).  The
    /// kernel layer publishes each with one release store.
    pub fn into_pieces(self) -> impl Iterator<Item = Piece> {
        Pieces::new(self.demux)
            .map(Piece::Demux)
            .chain(Pieces::new(self.src_member).map(Piece::SrcMember))
            .chain(Pieces::new(self.src_count).map(Piece::SrcCount))
    }
}

/// One publishable piece of one map.
#[derive(Debug)]
pub enum Piece {
    /// A demux bucket or directory.
    Demux(Prepared<u32, DemuxEntry>),
    /// A source-member bucket or directory.
    SrcMember(Prepared<SrcSlot, IfHandle>),
    /// A source-count bucket or directory.
    SrcCount(Prepared<Addr, u32>),
}

/// What [`Tables::commit`] replaced; drop after an epoch wait.
#[derive(Debug, Default)]
pub struct RetiredSet {
    /// Old demux pieces.
    pub demux: Option<Retired<u32, DemuxEntry>>,
    /// Old member pieces.
    pub src_member: Option<Retired<SrcSlot, IfHandle>>,
    /// Old count pieces.
    pub src_count: Option<Retired<Addr, u32>>,
}

/// Single-threaded tables (host tests, benches).
#[derive(Debug)]
pub struct Tables {
    demux: CowMap<u32, DemuxEntry>,
    src_count: CowMap<Addr, u32>,
    src_member: CowMap<SrcSlot, IfHandle>,
}

impl Tables {
    /// Empty tables; `seed` randomizes bucket placement.
    pub fn new(seed: u64) -> Result<Tables> {
        Ok(Tables {
            demux: CowMap::new(seed)?,
            src_count: CowMap::new(seed.rotate_left(21))?,
            src_member: CowMap::new(seed.rotate_left(42))?,
        })
    }

    /// Input demux (reader side).
    pub fn input_lookup(&self, reqid: u32, sa_src: &Addr, sa_dst: &Addr) -> Option<IfHandle> {
        input_lookup(&self.demux, reqid, sa_src, sa_dst)
    }

    /// Interfaces using local address `addr` (reader side).
    pub fn for_each_src(&self, addr: &Addr, f: impl FnMut(IfHandle)) {
        for_each_src(&self.src_count, &self.src_member, addr, f)
    }

    /// The demux map.
    pub fn demux_map(&self) -> &CowMap<u32, DemuxEntry> {
        &self.demux
    }

    /// The member-count map.
    pub fn src_count_map(&self) -> &CowMap<Addr, u32> {
        &self.src_count
    }

    /// The member map.
    pub fn src_member_map(&self) -> &CowMap<SrcSlot, IfHandle> {
        &self.src_member
    }

    /// Publish an update in [`TablesUpdate::commit_order`].
    pub fn commit(&mut self, u: TablesUpdate) -> RetiredSet {
        RetiredSet {
            demux: u.demux.map(|p| self.demux.commit(p)),
            src_member: u.src_member.map(|p| self.src_member.commit(p)),
            src_count: u.src_count.map(|p| self.src_count.commit(p)),
        }
    }
}

impl Tables {
    /// Publish one piece (what a concurrent reader may observe between
    /// two pieces is exactly what the host tests check).
    pub fn publish(&mut self, piece: Piece) {
        match piece {
            Piece::Demux(p) => drop(self.demux.commit(p)),
            Piece::SrcMember(p) => drop(self.src_member.commit(p)),
            Piece::SrcCount(p) => drop(self.src_count.commit(p)),
        }
    }
}

impl TablesRead for Tables {
    fn demux(&self) -> &dyn MapSlots<u32, DemuxEntry> {
        &self.demux
    }
    fn src_count(&self) -> &dyn MapSlots<Addr, u32> {
        &self.src_count
    }
    fn src_member(&self) -> &dyn MapSlots<SrcSlot, IfHandle> {
        &self.src_member
    }
}
