//! The kernel side of the core's copy-on-write maps
//! (`if_ipsec::tables`): a directory slot whose buckets are slots too, so
//! a change is published bucket by bucket (or as a whole new directory on
//! resize) exactly as the core's concurrency contract describes
//! (src/tables/mod.rs).  Readers run in the net epoch and never block;
//! the one writer holds the configuration lock.
//!
//! Each published bucket may carry, per entry, a glue-side note `X`
//! computed when the bucket is staged (the demux map notes the ifnet of
//! each entry's handle, so input needs one lookup, not two); maps without
//! notes use `X = ()`, which costs nothing.
use alloc::vec::Vec;
use core::ffi::c_int;
use core::sync::atomic::{AtomicUsize, Ordering};

use crate::kpi::epoch::InEpoch;
use crate::kpi::epoch_slot::{Gone, Slot, Waited};
use crate::kpi::sx::ConfigGuard;
use crate::kpi::tryalloc::{try_box, try_push};
use if_ipsec::tables::cowmap::MIN_BUCKETS;
use if_ipsec::tables::hash::{hash, TableKey};
use if_ipsec::tables::{index_of, Bucket, Change, MapRead, MapSlots, Prepared};

/// One published bucket: the core's bucket and one note per entry, in
/// the bucket's order (immutable, like the bucket).
pub struct Noted<K, V, X> {
    core: Bucket<K, V>,
    notes: Vec<X>,
}

impl<K: TableKey, V: Clone, X> Noted<K, V, X> {
    /// Value and note of `key`.
    #[inline(always)]
    fn get(&self, key: &K) -> Option<(&V, &X)> {
        self.core
            .iter()
            .zip(self.notes.iter())
            .find(|((k, _), _)| k == key)
            .map(|((_, v), x)| (v, x))
    }
}

/// One published directory: immutable length and seed, bucket slots.
pub struct Dir<K, V, X = ()> {
    seed: u64,
    buckets: Vec<Slot<Noted<K, V, X>>>,
}

/// An epoch-readable map.
pub struct EpochMap<K, V, X = ()> {
    dir: Slot<Dir<K, V, X>>,
    len: AtomicUsize,
}

/// A replaced piece, freed after an epoch wait.
pub enum GonePiece<K, V, X = ()> {
    /// One bucket.
    Bucket(Gone<Noted<K, V, X>>),
    /// A whole directory (with its buckets).
    Dir(Gone<Dir<K, V, X>>),
}

/// Pieces built before anything is published (all allocation done).
pub struct Staged<K, V, X = ()> {
    change: StagedChange<K, V, X>,
    new_len: usize,
}

/// A new bucket and its directory index.
type NewBucket<K, V, X> = (usize, alloc::boxed::Box<Noted<K, V, X>>);

enum StagedChange<K, V, X> {
    Buckets(Vec<NewBucket<K, V, X>>),
    Dir(alloc::boxed::Box<Dir<K, V, X>>),
}

impl<K, V, X> Staged<K, V, X> {
    /// How many pieces publishing retires (to reserve room for them).
    pub fn pieces(&self) -> usize {
        match &self.change {
            StagedChange::Buckets(v) => v.len(),
            StagedChange::Dir(_) => 1,
        }
    }
}

/// A bucket with its notes (fallible: one allocation for the notes,
/// none when `X` is zero-sized).
fn noted<K: TableKey, V: Clone, X>(
    core: Bucket<K, V>,
    note: &impl Fn(&K, &V) -> X,
) -> Result<Noted<K, V, X>, c_int> {
    let mut notes = Vec::new();
    notes
        .try_reserve_exact(core.len())
        .map_err(|_| sys_bindings::errno::ENOMEM)?;
    for (k, v) in core.iter() {
        try_push(&mut notes, note(k, v))?;
    }
    Ok(Noted { core, notes })
}

fn boxed_dir<K: TableKey + Send + Sync, V: Clone + Send + Sync, X: Send + Sync>(
    seed: u64,
    buckets: Vec<Bucket<K, V>>,
    note: &impl Fn(&K, &V) -> X,
) -> Result<Dir<K, V, X>, c_int> {
    let mut slots = Vec::new();
    slots
        .try_reserve_exact(buckets.len())
        .map_err(|_| sys_bindings::errno::ENOMEM)?;
    for b in buckets {
        let s: Slot<Noted<K, V, X>> = Slot::null();
        s.fill_unpublished(try_box(noted(b, note)?)?);
        try_push(&mut slots, s)?;
    }
    Ok(Dir {
        seed,
        buckets: slots,
    })
}

impl<
        K: TableKey + Send + Sync + 'static,
        V: Clone + Send + Sync + 'static,
        X: Default + Send + Sync + 'static,
    > EpochMap<K, V, X>
{
    /// An empty map with [`MIN_BUCKETS`] buckets.
    pub fn new(seed: u64) -> Result<Self, c_int> {
        let mut b = Vec::new();
        b.try_reserve_exact(MIN_BUCKETS)
            .map_err(|_| sys_bindings::errno::ENOMEM)?;
        for _ in 0..MIN_BUCKETS {
            try_push(&mut b, Bucket::default())?;
        }
        let d = try_box(boxed_dir(seed, b, &|_: &K, _: &V| X::default())?)?;
        let m = EpochMap {
            dir: Slot::null(),
            len: AtomicUsize::new(0),
        };
        m.dir.fill_unpublished(d);
        Ok(m)
    }

    /// Reader: value of `key` (one directory load, one bucket load).
    #[inline(always)]
    pub fn get<'e>(&self, key: &K, e: &'e InEpoch) -> Option<&'e V> {
        self.get_noted(key, e).map(|(v, _)| v)
    }

    /// Reader: value and note of `key` (one directory load, one bucket
    /// load).
    #[inline(always)]
    pub fn get_noted<'e>(&self, key: &K, e: &'e InEpoch) -> Option<(&'e V, &'e X)> {
        let d = self.dir.get(e)?;
        let i = index_of(hash(key, d.seed), d.buckets.len());
        d.buckets.get(i)?.get(e)?.get(key)
    }

    /// Writer view for `prepare`.
    pub fn locked<'g, 'l>(&'g self, g: &'g ConfigGuard<'l>) -> Locked<'g, 'l, K, V, X> {
        Locked {
            dir: self.dir.get_locked(g),
            len: self.len.load(Ordering::Relaxed),
            g,
        }
    }

    /// Box the prepared pieces (fallible; nothing published); notes are
    /// `X::default()`.
    pub fn stage(&self, p: Prepared<K, V>, g: &ConfigGuard<'_>) -> Result<Staged<K, V, X>, c_int> {
        self.stage_noted(p, g, &|_: &K, _: &V| X::default())
    }

    /// Box the prepared pieces with `note` for each entry of each new
    /// bucket (fallible; nothing published).
    pub fn stage_noted(
        &self,
        p: Prepared<K, V>,
        g: &ConfigGuard<'_>,
        note: &impl Fn(&K, &V) -> X,
    ) -> Result<Staged<K, V, X>, c_int> {
        let seed = self.dir.get_locked(g).map_or(0, |d| d.seed);
        let change = match p.change {
            Change::Buckets(v) => {
                let mut out = Vec::new();
                out.try_reserve_exact(v.len())
                    .map_err(|_| sys_bindings::errno::ENOMEM)?;
                for (i, b) in v {
                    try_push(&mut out, (i, try_box(noted(b, note)?)?))?;
                }
                StagedChange::Buckets(out)
            }
            Change::Bucket(i, b) => {
                let mut out = Vec::new();
                out.try_reserve_exact(1)
                    .map_err(|_| sys_bindings::errno::ENOMEM)?;
                try_push(&mut out, (i, try_box(noted(b, note)?)?))?;
                StagedChange::Buckets(out)
            }
            Change::Directory(v) => StagedChange::Dir(try_box(boxed_dir(seed, v, note)?)?),
        };
        Ok(Staged {
            change,
            new_len: p.new_len,
        })
    }

    /// Publish in order (infallible); replaced pieces go to `gone`, which
    /// must have room for [`Staged::pieces`] more (else they leak).
    pub fn publish(
        &self,
        s: Staged<K, V, X>,
        g: &ConfigGuard<'_>,
        gone: &mut Vec<GonePiece<K, V, X>>,
    ) {
        self.len.store(s.new_len, Ordering::Relaxed);
        match s.change {
            StagedChange::Buckets(v) => {
                let Some(d) = self.dir.get_locked(g) else {
                    return;
                };
                for (i, b) in v {
                    if let Some(slot) = d.buckets.get(i) {
                        keep(gone, GonePiece::Bucket(slot.publish(Some(b), g)));
                    }
                }
            }
            StagedChange::Dir(d) => keep(gone, GonePiece::Dir(self.dir.publish(Some(d), g))),
        }
    }
}

/// Keep a retired piece; room was reserved at staging, so this never
/// allocates (a piece without room would leak, never be freed early).
fn keep<T>(v: &mut Vec<T>, x: T) {
    if v.len() < v.capacity() {
        let _ = try_push(v, x);
    }
}

/// Free retired pieces behind `w`.
pub fn free_pieces<K, V, X>(v: &mut Vec<GonePiece<K, V, X>>, w: &Waited, g: &mut ConfigGuard<'_>) {
    for p in v.drain(..) {
        let _leaked_if_early = match p {
            GonePiece::Bucket(b) => b.free(w, g).is_err(),
            GonePiece::Dir(d) => d.free(w, g).is_err(),
        };
    }
}

/// The writer's view of an [`EpochMap`] (for `tables::prepare`).
pub struct Locked<'g, 'l, K, V, X = ()> {
    dir: Option<&'g Dir<K, V, X>>,
    len: usize,
    g: &'g ConfigGuard<'l>,
}

impl<K: TableKey, V: Clone, X> MapSlots<K, V> for Locked<'_, '_, K, V, X> {
    fn seed(&self) -> u64 {
        self.dir.map_or(0, |d| d.seed)
    }
    fn bucket_count(&self) -> usize {
        self.dir.map_or(0, |d| d.buckets.len())
    }
    fn bucket(&self, i: usize) -> Option<&Bucket<K, V>> {
        self.dir?
            .buckets
            .get(i)?
            .get_locked(self.g)
            .map(|n| &n.core)
    }
    fn len(&self) -> usize {
        self.len
    }
}

/// A reader's view of an [`EpochMap`] inside one epoch section.
pub struct Reader<'e, K, V, X = ()> {
    /// The map.
    pub map: &'e EpochMap<K, V, X>,
    /// The section.
    pub e: &'e InEpoch,
}

impl<
        K: TableKey + Send + Sync + 'static,
        V: Clone + Send + Sync + 'static,
        X: Default + Send + Sync + 'static,
    > MapRead<K, V> for Reader<'_, K, V, X>
{
    fn get(&self, key: &K) -> Option<&V> {
        self.map.get(key, self.e)
    }
}
