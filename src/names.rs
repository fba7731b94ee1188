//! Interface names and units of the cloner.
//!
//! Names are `ipsec` (any free unit) or `ipsec<N>`: N decimal, no leading
//! zeros (except `ipsec0`), the whole name plus NUL within IF_NAMESIZE
//! (16), and N within `int` (if_initname takes an int unit).  Anything
//! else is not ours (the cloner's match function says no).
//!
//! Auto-unit picks the lowest unit that is neither one of ours nor taken by
//! another interface with the same name (the glue reports those, e.g. an
//! interface renamed to `ipsec3`); a requested unit already taken is
//! EEXIST.  As FreeBSD 14.2 sys/net/if_clone.c (b66633d79ade) does for
//! simple cloners (ifc_alloc_unit: lowest free unit, EEXIST if the name
//! exists), without its IF_MAXUNIT (0x7fff) ceiling.
//!
//! Units are writer-only state (touched under the sx lock, never by epoch
//! readers): a bitmap for units below [`DENSE_UNITS`] with a summary of
//! full words, so the lowest free unit costs a scan of at most
//! DENSE_UNITS/4096 summary words, plus a set for larger explicit units.

use alloc::vec::Vec;

use sys_bindings::net::IFNAMSIZ;

use crate::errno::{Errno, Result};
use crate::fallible::try_resize_with;
use crate::tables::CowMap;

/// The cloner's name.
pub const NAME: &[u8] = b"ipsec";

/// Largest unit (`int` unit of if_initname).
pub const MAX_UNIT: u32 = i32::MAX as u32;

/// Units below this live in the bitmap.
pub const DENSE_UNITS: u32 = 1 << 20;

/// What a name asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UnitRequest {
    /// `ipsec`: lowest free unit.
    Any,
    /// `ipsecN`.
    Unit(u32),
}

/// Parse a cloner name (without NUL); `None` if it is not ours.
pub fn parse_name(name: &[u8]) -> Option<UnitRequest> {
    let digits = name.strip_prefix(NAME)?;
    if name.len() >= IFNAMSIZ {
        return None;
    }
    if digits.is_empty() {
        return Some(UnitRequest::Any);
    }
    if digits.len() > 1 && digits.first() == Some(&b'0') {
        return None;
    }
    let mut unit: u32 = 0;
    for d in digits {
        if !d.is_ascii_digit() {
            return None;
        }
        unit = unit.checked_mul(10)?.checked_add(u32::from(d - b'0'))?;
    }
    (unit <= MAX_UNIT).then_some(UnitRequest::Unit(unit))
}

/// `ipsec<unit>` NUL-padded, as `if_initname` would produce.
pub fn format_name(unit: u32) -> [u8; IFNAMSIZ] {
    let mut out = [0u8; IFNAMSIZ];
    let mut digits = [0u8; 10];
    let mut n = 0;
    let mut u = unit;
    loop {
        if let Some(d) = digits.get_mut(n) {
            *d = b'0' + (u % 10) as u8;
        }
        n += 1;
        u /= 10;
        if u == 0 || n == digits.len() {
            break;
        }
    }
    let it = NAME
        .iter()
        .copied()
        .chain(digits.iter().take(n).rev().copied());
    for (o, c) in out.iter_mut().zip(it) {
        *o = c;
    }
    out
}

/// Units in use by this cloner (one VNET).
#[derive(Debug)]
pub struct Units {
    words: Vec<u64>,
    full: Vec<u64>,
    sparse: CowMap<u32, ()>,
}

fn split(u: u32) -> (usize, u64) {
    ((u / 64) as usize, 1u64 << (u % 64))
}

impl Units {
    /// No unit in use.
    pub fn new(seed: u64) -> Result<Units> {
        Ok(Units {
            words: Vec::new(),
            full: Vec::new(),
            sparse: CowMap::new(seed)?,
        })
    }

    /// True if `u` is ours.
    pub fn contains(&self, u: u32) -> bool {
        if u < DENSE_UNITS {
            let (w, b) = split(u);
            self.words.get(w).is_some_and(|x| x & b != 0)
        } else {
            self.sparse.get(&u).is_some()
        }
    }

    /// Mark `u` used; EEXIST if it already is.
    pub fn take(&mut self, u: u32) -> Result<()> {
        if u > MAX_UNIT {
            return Err(Errno::EINVAL);
        }
        if self.contains(u) {
            return Err(Errno::EEXIST);
        }
        if u >= DENSE_UNITS {
            return self.sparse.insert(u, ());
        }
        let (w, b) = split(u);
        if w >= self.words.len() {
            self.words.try_reserve(w + 1 - self.words.len())?;
            let fw = w / 64 + 1;
            try_resize_with(&mut self.full, fw, || 0)?;
            try_resize_with(&mut self.words, w + 1, || 0)?;
        }
        if let Some(x) = self.words.get_mut(w) {
            *x |= b;
            if *x == u64::MAX {
                set_bit(&mut self.full, w, true);
            }
        }
        Ok(())
    }

    /// Mark `u` free (no-op if it was not used); never fails.
    pub fn release(&mut self, u: u32) {
        if u >= DENSE_UNITS {
            self.sparse.remove_in_place(&u);
            return;
        }
        let (w, b) = split(u);
        if let Some(x) = self.words.get_mut(w) {
            *x &= !b;
            set_bit(&mut self.full, w, false);
        }
    }

    /// Lowest unit >= `from` that is not ours.
    fn next_free(&self, from: u32) -> Option<u32> {
        let mut u = from;
        while u < DENSE_UNITS {
            let w = (u / 64) as usize;
            let Some(x) = self.words.get(w) else {
                return Some(u);
            };
            let free = !x & (u64::MAX << (u % 64));
            if free != 0 {
                return Some((w as u32) * 64 + free.trailing_zeros());
            }
            // Skip whole full words using the summary.
            let mut wi = w + 1;
            while get_bit(&self.full, wi) {
                wi += 1;
            }
            u = u32::try_from(wi).ok()?.checked_mul(64)?;
        }
        while self.sparse.get(&u).is_some() {
            u = u.checked_add(1)?;
        }
        Some(u)
    }

    /// The lowest unit free here and not `taken_elsewhere`; EEXIST if none.
    pub fn lowest_free(&self, mut taken_elsewhere: impl FnMut(u32) -> bool) -> Result<u32> {
        let mut from = 0;
        loop {
            let u = self.next_free(from).ok_or(Errno::EEXIST)?;
            if u > MAX_UNIT {
                return Err(Errno::EEXIST);
            }
            if !taken_elsewhere(u) {
                return Ok(u);
            }
            from = u.checked_add(1).ok_or(Errno::EEXIST)?;
        }
    }

    /// The unit a create request gets: a named one must be free here and
    /// elsewhere (EEXIST), `ipsec` gets [`Self::lowest_free`].
    pub fn choose(
        &self,
        req: UnitRequest,
        taken_elsewhere: impl FnMut(u32) -> bool,
    ) -> Result<u32> {
        let mut taken_elsewhere = taken_elsewhere;
        match req {
            UnitRequest::Any => self.lowest_free(taken_elsewhere),
            UnitRequest::Unit(u) if self.contains(u) || taken_elsewhere(u) => Err(Errno::EEXIST),
            UnitRequest::Unit(u) => Ok(u),
        }
    }
}

fn get_bit(v: &[u64], i: usize) -> bool {
    v.get(i / 64).is_some_and(|x| x & (1 << (i % 64)) != 0)
}

fn set_bit(v: &mut [u64], i: usize, on: bool) {
    if let Some(x) = v.get_mut(i / 64) {
        if on {
            *x |= 1 << (i % 64);
        } else {
            *x &= !(1 << (i % 64));
        }
    }
}
