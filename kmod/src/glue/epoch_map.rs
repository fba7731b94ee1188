//! The kernel side of the core's copy-on-write maps
//! (`if_ipsec::tables`): a directory slot whose buckets are slots too, so
//! a change is published bucket by bucket (or as a whole new directory on
//! resize) exactly as the core's concurrency contract describes
//! (src/tables/mod.rs).  Readers run in the net epoch and never block;
//! the one writer holds the configuration lock.
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

/// One published directory: immutable length and seed, bucket slots.
pub struct Dir<K, V> {
    seed: u64,
    buckets: Vec<Slot<Bucket<K, V>>>,
}

/// An epoch-readable map.
pub struct EpochMap<K, V> {
    dir: Slot<Dir<K, V>>,
    len: AtomicUsize,
}

/// A replaced piece, freed after an epoch wait.
pub enum GonePiece<K, V> {
    /// One bucket.
    Bucket(Gone<Bucket<K, V>>),
    /// A whole directory (with its buckets).
    Dir(Gone<Dir<K, V>>),
}

/// Pieces built before anything is published (all allocation done).
pub struct Staged<K, V> {
    change: StagedChange<K, V>,
    new_len: usize,
}

enum StagedChange<K, V> {
    Buckets(Vec<(usize, alloc::boxed::Box<Bucket<K, V>>)>),
    Dir(alloc::boxed::Box<Dir<K, V>>),
}

impl<K, V> Staged<K, V> {
    /// How many pieces publishing retires (to reserve room for them).
    pub fn pieces(&self) -> usize {
        match &self.change {
            StagedChange::Buckets(v) => v.len(),
            StagedChange::Dir(_) => 1,
        }
    }
}

fn boxed_dir<K: Send + Sync, V: Send + Sync>(
    seed: u64,
    buckets: Vec<Bucket<K, V>>,
) -> Result<Dir<K, V>, c_int> {
    let mut slots = Vec::new();
    slots
        .try_reserve_exact(buckets.len())
        .map_err(|_| sys_bindings::errno::ENOMEM)?;
    for b in buckets {
        let s: Slot<Bucket<K, V>> = Slot::null();
        s.fill_unpublished(try_box(b)?);
        try_push(&mut slots, s)?;
    }
    Ok(Dir {
        seed,
        buckets: slots,
    })
}

impl<K: TableKey + Send + Sync + 'static, V: Clone + Send + Sync + 'static> EpochMap<K, V> {
    /// An empty map with [`MIN_BUCKETS`] buckets.
    pub fn new(seed: u64) -> Result<Self, c_int> {
        let mut b = Vec::new();
        b.try_reserve_exact(MIN_BUCKETS)
            .map_err(|_| sys_bindings::errno::ENOMEM)?;
        for _ in 0..MIN_BUCKETS {
            try_push(&mut b, Bucket::default())?;
        }
        let d = try_box(boxed_dir(seed, b)?)?;
        let m = EpochMap {
            dir: Slot::null(),
            len: AtomicUsize::new(0),
        };
        m.dir.fill_unpublished(d);
        Ok(m)
    }

    /// Reader: value of `key` (one directory load, one bucket load).
    pub fn get<'e>(&self, key: &K, e: &'e InEpoch) -> Option<&'e V> {
        let d = self.dir.get(e)?;
        let i = index_of(hash(key, d.seed), d.buckets.len());
        d.buckets.get(i)?.get(e)?.get(key)
    }

    /// Writer view for `prepare`.
    pub fn locked<'g, 'l>(&'g self, g: &'g ConfigGuard<'l>) -> Locked<'g, 'l, K, V> {
        Locked {
            dir: self.dir.get_locked(g),
            len: self.len.load(Ordering::Relaxed),
            g,
        }
    }

    /// Box the prepared pieces (fallible; nothing published).
    pub fn stage(&self, p: Prepared<K, V>, g: &ConfigGuard<'_>) -> Result<Staged<K, V>, c_int> {
        let seed = self.dir.get_locked(g).map_or(0, |d| d.seed);
        let change = match p.change {
            Change::Buckets(v) => {
                let mut out = Vec::new();
                out.try_reserve_exact(v.len())
                    .map_err(|_| sys_bindings::errno::ENOMEM)?;
                for (i, b) in v {
                    try_push(&mut out, (i, try_box(b)?))?;
                }
                StagedChange::Buckets(out)
            }
            Change::Bucket(i, b) => {
                let mut out = Vec::new();
                out.try_reserve_exact(1)
                    .map_err(|_| sys_bindings::errno::ENOMEM)?;
                try_push(&mut out, (i, try_box(b)?))?;
                StagedChange::Buckets(out)
            }
            Change::Directory(v) => StagedChange::Dir(try_box(boxed_dir(seed, v)?)?),
        };
        Ok(Staged {
            change,
            new_len: p.new_len,
        })
    }

    /// Publish in order (infallible); replaced pieces go to `gone`, which
    /// must have room for [`Staged::pieces`] more (else they leak).
    pub fn publish(&self, s: Staged<K, V>, g: &ConfigGuard<'_>, gone: &mut Vec<GonePiece<K, V>>) {
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
pub fn free_pieces<K, V>(v: &mut Vec<GonePiece<K, V>>, w: &Waited, g: &mut ConfigGuard<'_>) {
    for p in v.drain(..) {
        let _leaked_if_early = match p {
            GonePiece::Bucket(b) => b.free(w, g).is_err(),
            GonePiece::Dir(d) => d.free(w, g).is_err(),
        };
    }
}

/// The writer's view of an [`EpochMap`] (for `tables::prepare`).
pub struct Locked<'g, 'l, K, V> {
    dir: Option<&'g Dir<K, V>>,
    len: usize,
    g: &'g ConfigGuard<'l>,
}

impl<K: TableKey, V: Clone> MapSlots<K, V> for Locked<'_, '_, K, V> {
    fn seed(&self) -> u64 {
        self.dir.map_or(0, |d| d.seed)
    }
    fn bucket_count(&self) -> usize {
        self.dir.map_or(0, |d| d.buckets.len())
    }
    fn bucket(&self, i: usize) -> Option<&Bucket<K, V>> {
        self.dir?.buckets.get(i)?.get_locked(self.g)
    }
    fn len(&self) -> usize {
        self.len
    }
}

/// A reader's view of an [`EpochMap`] inside one epoch section.
pub struct Reader<'e, K, V> {
    /// The map.
    pub map: &'e EpochMap<K, V>,
    /// The section.
    pub e: &'e InEpoch,
}

impl<K: TableKey + Send + Sync + 'static, V: Clone + Send + Sync + 'static> MapRead<K, V>
    for Reader<'_, K, V>
{
    fn get(&self, key: &K) -> Option<&V> {
        self.map.get(key, self.e)
    }
}
