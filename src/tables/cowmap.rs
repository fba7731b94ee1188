//! Copy-on-write hash map made of immutable buckets.
//!
//! Layout: a directory (array, power-of-two length) of [`Bucket`]s.  An
//! update is two steps:
//! 1. [`prepare`] (fallible, allocates, changes nothing): from the current
//!    slots and a batch of [`MapOp`]s, build the new versions of the
//!    buckets the batch touches, in the order the batch first touches
//!    them, or, when the load leaves [`MIN_BUCKETS`]..2x, a whole new
//!    directory (grow x2 above one entry per bucket, shrink /2 below one
//!    per eight).  Expected work O(batch) for a bucket update; a resize is
//!    O(n) but happens after Θ(n) updates, so amortized O(1).
//! 2. commit (infallible): publish each new piece, in order, and retire
//!    what it replaced.  [`CowMap::commit`] does this single-threaded; the
//!    kernel layer does the same with one epoch-protected pointer per
//!    bucket plus one for the directory (see `tables` module docs).
//!
//! Readers only ever look at one bucket per key, so a key is seen with
//! its old or its new value, never a half-built bucket.
//!
//! [`MapSlots`] is the read side a writer prepares against, so the kernel
//! layer's epoch-published map can reuse [`prepare`] unchanged.

use alloc::vec::Vec;
use core::mem;

use super::bucket::{Bucket, MapOp};
use super::hash::{hash, TableKey};
use crate::errno::{Errno, Result};
use crate::fallible::{push_reserved, try_resize_with};

/// Smallest directory.
pub const MIN_BUCKETS: usize = 8;

/// Bucket index of a hash in a directory of `n` (power of two) buckets.
pub fn index_of(h: u64, n: usize) -> usize {
    (h as usize) & n.wrapping_sub(1)
}

/// Directory length for `len` entries when `current` no longer fits
/// (load > 1 or < 1/8), else `current`.
pub fn target_buckets(current: usize, len: usize) -> usize {
    let mut n = current.max(MIN_BUCKETS);
    while len > n {
        n = n.saturating_mul(2);
    }
    while n > MIN_BUCKETS && len < n / 8 {
        n /= 2;
    }
    n
}

/// The current state a writer prepares against (under the writer lock, so
/// the directory cannot change between calls).
pub trait MapSlots<K, V> {
    /// Hash seed of this map.
    fn seed(&self) -> u64;
    /// Directory length (power of two).
    fn bucket_count(&self) -> usize;
    /// Bucket `i` (`None` only if out of range).
    fn bucket(&self, i: usize) -> Option<&Bucket<K, V>>;
    /// Number of entries.
    fn len(&self) -> usize;
    /// True if there are no entries.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// Value of `key` (writer side).
    fn lookup(&self, key: &K) -> Option<&V>
    where
        K: TableKey + 'static,
        V: Clone + 'static,
    {
        let i = index_of(hash(key, self.seed()), self.bucket_count());
        self.bucket(i).and_then(|b| b.get(key))
    }
}

/// New pieces for one map, ready to publish.
#[derive(Debug)]
pub enum Change<K, V> {
    /// Replace these buckets (by directory index), in this order.
    Buckets(Vec<(usize, Bucket<K, V>)>),
    /// Replace one bucket (one piece of a split [`Change::Buckets`]).
    Bucket(usize, Bucket<K, V>),
    /// Replace the whole directory.
    Directory(Vec<Bucket<K, V>>),
}

/// Result of [`prepare`]: the pieces and the entry count after commit.
#[derive(Debug)]
pub struct Prepared<K, V> {
    /// The pieces.
    pub change: Change<K, V>,
    /// Entries after the change.
    pub new_len: usize,
}

/// What a commit replaced: free after readers are gone (in the kernel:
/// after `epoch_wait_preempt`).
pub type Retired<K, V> = Change<K, V>;

/// Build the new pieces for `ops` (applied in order) against `slots`.
pub fn prepare<K, V, S>(slots: &S, ops: &[MapOp<K, V>]) -> Result<Prepared<K, V>>
where
    K: TableKey,
    V: Clone,
    S: MapSlots<K, V> + ?Sized,
{
    let n = slots.bucket_count();
    let mut staged: Vec<(usize, Bucket<K, V>)> = Vec::new();
    staged.try_reserve_exact(ops.len())?;
    let mut len = slots.len() as isize;
    for op in ops {
        let i = index_of(hash(op.key(), slots.seed()), n);
        let (b, delta) = match staged.iter_mut().find(|(j, _)| *j == i) {
            Some((_, cur)) => {
                let (b, d) = cur.apply(op)?;
                *cur = b;
                (None, d)
            }
            None => {
                let cur = slots.bucket(i).ok_or(Errno::EINVAL)?;
                let (b, d) = cur.apply(op)?;
                (Some(b), d)
            }
        };
        if let Some(b) = b {
            push_reserved(&mut staged, (i, b))?;
        }
        len += delta;
    }
    let new_len = usize::try_from(len).map_err(|_| Errno::EINVAL)?;
    let target = target_buckets(n, new_len);
    if target == n {
        return Ok(Prepared {
            change: Change::Buckets(staged),
            new_len,
        });
    }
    let dir = rebuild(slots, &staged, target)?;
    Ok(Prepared {
        change: Change::Directory(dir),
        new_len,
    })
}

/// A directory of `target` buckets holding `slots` with `staged` applied.
fn rebuild<K, V, S>(
    slots: &S,
    staged: &[(usize, Bucket<K, V>)],
    target: usize,
) -> Result<Vec<Bucket<K, V>>>
where
    K: TableKey,
    V: Clone,
    S: MapSlots<K, V> + ?Sized,
{
    let mut dir: Vec<Bucket<K, V>> = Vec::new();
    try_resize_with(&mut dir, target, Bucket::default)?;
    for i in 0..slots.bucket_count() {
        let src = match staged.iter().find(|(j, _)| *j == i) {
            Some((_, b)) => b,
            None => slots.bucket(i).ok_or(Errno::EINVAL)?,
        };
        for (k, v) in src.iter() {
            let j = index_of(hash(k, slots.seed()), target);
            dir.get_mut(j)
                .ok_or(Errno::EINVAL)?
                .push_building(k.clone(), v.clone())?;
        }
    }
    Ok(dir)
}

/// The pieces of a [`Prepared`] one by one, in publication order: a
/// directory alone, or each bucket as a [`Change::Bucket`] (no allocation).
/// Every piece carries the final entry count.
#[derive(Debug)]
pub struct Pieces<K, V> {
    dir: Option<Vec<Bucket<K, V>>>,
    buckets: alloc::vec::IntoIter<(usize, Bucket<K, V>)>,
    one: Option<(usize, Bucket<K, V>)>,
    new_len: usize,
}

impl<K, V> Pieces<K, V> {
    /// Split `p` (or nothing).
    pub fn new(p: Option<Prepared<K, V>>) -> Self {
        let mut out = Pieces {
            dir: None,
            buckets: Vec::new().into_iter(),
            one: None,
            new_len: 0,
        };
        if let Some(p) = p {
            out.new_len = p.new_len;
            match p.change {
                Change::Buckets(v) => out.buckets = v.into_iter(),
                Change::Bucket(i, b) => out.one = Some((i, b)),
                Change::Directory(d) => out.dir = Some(d),
            }
        }
        out
    }
}

impl<K, V> Iterator for Pieces<K, V> {
    type Item = Prepared<K, V>;
    fn next(&mut self) -> Option<Prepared<K, V>> {
        let change = match self.dir.take() {
            Some(d) => Change::Directory(d),
            None => {
                let (i, b) = self.one.take().or_else(|| self.buckets.next())?;
                Change::Bucket(i, b)
            }
        };
        Some(Prepared {
            change,
            new_len: self.new_len,
        })
    }
}

/// Read access to one map, as readers use it: each `get` must read one
/// consistent directory (in the kernel: load the directory pointer once,
/// then one bucket pointer, both with acquire ordering, inside the net
/// epoch).
pub trait MapRead<K, V> {
    /// Value of `key`.
    fn get(&self, key: &K) -> Option<&V>;
}

/// Single-threaded composition of the pieces: what host tests, benches and
/// writer-only state use.
#[derive(Debug)]
pub struct CowMap<K, V> {
    seed: u64,
    dir: Vec<Bucket<K, V>>,
    len: usize,
}

impl<K: TableKey, V: Clone> CowMap<K, V> {
    /// An empty map ([`MIN_BUCKETS`] buckets).
    pub fn new(seed: u64) -> Result<Self> {
        let mut dir = Vec::new();
        try_resize_with(&mut dir, MIN_BUCKETS, Bucket::default)?;
        Ok(CowMap { seed, dir, len: 0 })
    }

    /// Value of `key`: one hash, one bucket scan.
    pub fn get(&self, key: &K) -> Option<&V> {
        let i = index_of(hash(key, self.seed), self.dir.len());
        self.dir.get(i).and_then(|b| b.get(key))
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.len
    }

    /// True if empty.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Every entry (any order).
    pub fn iter(&self) -> impl Iterator<Item = &(K, V)> {
        self.dir.iter().flat_map(|b| b.iter())
    }

    /// Longest bucket (for tests and benches).
    pub fn max_bucket_len(&self) -> usize {
        self.dir.iter().map(|b| b.len()).max().unwrap_or(0)
    }

    /// Publish prepared pieces in order; returns what they replaced.
    pub fn commit(&mut self, p: Prepared<K, V>) -> Retired<K, V> {
        self.len = p.new_len;
        match p.change {
            Change::Buckets(mut pieces) => {
                for (i, b) in pieces.iter_mut() {
                    if let Some(slot) = self.dir.get_mut(*i) {
                        mem::swap(slot, b);
                    }
                }
                Change::Buckets(pieces)
            }
            Change::Bucket(i, mut b) => {
                if let Some(slot) = self.dir.get_mut(i) {
                    mem::swap(slot, &mut b);
                }
                Change::Bucket(i, b)
            }
            Change::Directory(dir) => Change::Directory(mem::replace(&mut self.dir, dir)),
        }
    }

    /// Remove `k` by editing its bucket in place, without allocating.
    /// Only for maps no reader can see (writer-only state).
    pub fn remove_in_place(&mut self, k: &K) {
        let i = index_of(hash(k, self.seed), self.dir.len());
        if let Some(b) = self.dir.get_mut(i) {
            if b.remove_building(k) {
                self.len = self.len.saturating_sub(1);
            }
        }
    }

    /// Prepare and commit `ops`.
    pub fn update(&mut self, ops: &[MapOp<K, V>]) -> Result<()> {
        let p = prepare(self, ops)?;
        self.commit(p);
        Ok(())
    }

    /// Insert or replace.
    pub fn insert(&mut self, k: K, v: V) -> Result<()> {
        self.update(&[MapOp::Insert(k, v)])
    }

    /// Remove (no-op if absent).
    pub fn remove(&mut self, k: K) -> Result<()> {
        self.update(&[MapOp::Remove(k)])
    }
}

impl<K: TableKey, V: Clone> MapRead<K, V> for CowMap<K, V> {
    fn get(&self, key: &K) -> Option<&V> {
        CowMap::get(self, key)
    }
}

impl<K: TableKey, V: Clone> MapSlots<K, V> for CowMap<K, V> {
    fn seed(&self) -> u64 {
        self.seed
    }
    fn bucket_count(&self) -> usize {
        self.dir.len()
    }
    fn bucket(&self, i: usize) -> Option<&Bucket<K, V>> {
        self.dir.get(i)
    }
    fn len(&self) -> usize {
        self.len
    }
}
