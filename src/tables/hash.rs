//! Seeded hashing of table keys.
//!
//! A folded 64x64->128 multiply per word (no floats, no SIMD, no tables),
//! finished with an xor-shift so the low bits used as bucket index depend
//! on every input bit.  The seed comes from the glue (e.g. arc4random at
//! VNET init) so bucket placement is not predictable from outside.

use crate::addr::Addr;

const K: u64 = 0x9e37_79b9_7f4a_7c15;

fn fold(a: u64, b: u64) -> u64 {
    let r = u128::from(a).wrapping_mul(u128::from(b));
    (r as u64) ^ ((r >> 64) as u64)
}

/// Hasher state: a seed mixed with each word.
#[derive(Clone, Copy, Debug)]
pub struct Hasher(u64);

impl Hasher {
    /// Start from `seed`.
    pub const fn new(seed: u64) -> Hasher {
        Hasher(seed ^ K)
    }
    /// Mix in one word.
    #[must_use]
    pub fn word(self, w: u64) -> Hasher {
        Hasher(fold(self.0 ^ w, K))
    }
    /// Final value.
    pub fn finish(self) -> u64 {
        let h = self.0;
        h ^ (h >> 29) ^ (h >> 47)
    }
}

/// A key of a copy-on-write table.
pub trait TableKey: Clone + Eq {
    /// Mix the key into `h`.
    fn hash_into(&self, h: Hasher) -> Hasher;
}

impl TableKey for u32 {
    fn hash_into(&self, h: Hasher) -> Hasher {
        h.word(u64::from(*self))
    }
}

impl TableKey for Addr {
    fn hash_into(&self, h: Hasher) -> Hasher {
        match self {
            Addr::V4(a) => h.word(u64::from(u32::from_ne_bytes(*a))),
            Addr::V6 { addr, scope_id } => {
                let [a0, a1, a2, a3, a4, a5, a6, a7, b0, b1, b2, b3, b4, b5, b6, b7] = *addr;
                h.word(u64::from_ne_bytes([a0, a1, a2, a3, a4, a5, a6, a7]))
                    .word(u64::from_ne_bytes([b0, b1, b2, b3, b4, b5, b6, b7]))
                    .word(u64::from(*scope_id) | 1 << 32)
            }
        }
    }
}

impl<A: TableKey, B: TableKey> TableKey for (A, B) {
    fn hash_into(&self, h: Hasher) -> Hasher {
        self.1.hash_into(self.0.hash_into(h))
    }
}

/// Hash of `key` under `seed`.
pub fn hash<K: TableKey>(key: &K, seed: u64) -> u64 {
    key.hash_into(Hasher::new(seed)).finish()
}
