//! An immutable bucket: the unit the kernel layer publishes to readers.
//!
//! A bucket is never changed after it is built.  An update builds a new
//! bucket from the current one plus the operations that hit it
//! ([`Bucket::apply`]), allocating fallibly; the old one stays valid for
//! readers until the writer retires it after an epoch wait.

use alloc::vec::Vec;

use super::hash::TableKey;
use crate::errno::Result;
use crate::fallible::{push_reserved, try_push};

/// One change to a map.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MapOp<K, V> {
    /// Insert or replace the value of a key.
    Insert(K, V),
    /// Remove a key (no-op if absent).
    Remove(K),
}

impl<K, V> MapOp<K, V> {
    /// The key the operation touches.
    pub fn key(&self) -> &K {
        match self {
            MapOp::Insert(k, _) | MapOp::Remove(k) => k,
        }
    }
}

/// Immutable list of the (key, value) pairs that hash to one slot.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Bucket<K, V> {
    entries: Vec<(K, V)>,
}

impl<K, V> Default for Bucket<K, V> {
    fn default() -> Self {
        Bucket {
            entries: Vec::new(),
        }
    }
}

impl<K: TableKey, V: Clone> Bucket<K, V> {
    /// Value of `key`, if present.
    pub fn get(&self, key: &K) -> Option<&V> {
        self.entries.iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True if empty.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// All entries.
    pub fn iter(&self) -> impl Iterator<Item = &(K, V)> {
        self.entries.iter()
    }

    /// A new bucket: this one with `op` applied.  Returns it and the
    /// change in entry count (-1, 0 or +1).
    pub fn apply(&self, op: &MapOp<K, V>) -> Result<(Bucket<K, V>, isize)> {
        let present = self.get(op.key()).is_some();
        let (extra, delta) = match (op, present) {
            (MapOp::Insert(..), false) => (1, 1),
            (MapOp::Remove(_), true) => (0, -1),
            _ => (0, 0),
        };
        let mut entries = Vec::new();
        entries.try_reserve_exact(self.entries.len() + extra)?;
        for (k, v) in &self.entries {
            if k == op.key() {
                if let MapOp::Insert(_, nv) = op {
                    push_reserved(&mut entries, (k.clone(), nv.clone()))?;
                }
            } else {
                push_reserved(&mut entries, (k.clone(), v.clone()))?;
            }
        }
        if let (MapOp::Insert(k, v), false) = (op, present) {
            push_reserved(&mut entries, (k.clone(), v.clone()))?;
        }
        Ok((Bucket { entries }, delta))
    }

    /// Remove `k` in place (writer-only maps); true if it was there.
    pub(super) fn remove_building(&mut self, k: &K) -> bool {
        let before = self.entries.len();
        self.entries.retain(|(x, _)| x != k);
        self.entries.len() != before
    }

    /// Append one entry to a bucket being built for a resize (not yet
    /// visible to anyone, so mutation is fine).
    pub(super) fn push_building(&mut self, k: K, v: V) -> Result<()> {
        try_push(&mut self.entries, (k, v))
    }
}
