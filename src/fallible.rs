//! Growing a `Vec` without an infallible-allocation path.
//!
//! `Vec::push` after `try_reserve` is correct but still carries the
//! grow-or-abort branch in the binary (`grow_one` → `handle_alloc_error`),
//! and in the kernel that branch would be a panic(9).  The stable
//! `push_within_capacity` does not exist yet, so these helpers guard every
//! push with `len < capacity`: after inlining, LLVM sees the grow branch is
//! dead and drops it.  tests/ko-check proves that on the built .ko (no
//! `handle_alloc_error`, no `core::panicking` symbol may remain).

use crate::errno::{Errno, Result};
use alloc::vec::Vec;

/// Appends `x`, reserving room first; ENOMEM if the allocation fails.
#[inline(always)]
pub fn try_push<T>(v: &mut Vec<T>, x: T) -> Result<()> {
    if v.len() == v.capacity() {
        v.try_reserve(1)?;
    }
    push_reserved(v, x)
}

/// Appends `x` into room reserved earlier; ENOMEM (never a grow) if there is
/// none, so a caller that miscounted its reservation gets an errno.
#[inline(always)]
pub fn push_reserved<T>(v: &mut Vec<T>, x: T) -> Result<()> {
    if v.len() < v.capacity() {
        v.push(x);
        Ok(())
    } else {
        Err(Errno::ENOMEM)
    }
}

/// Grows `v` to `n` elements made by `f` (no-op if it is already longer).
pub fn try_resize_with<T>(v: &mut Vec<T>, n: usize, mut f: impl FnMut() -> T) -> Result<()> {
    if n > v.len() {
        v.try_reserve_exact(n - v.len())?;
    }
    while v.len() < n {
        push_reserved(v, f())?;
    }
    Ok(())
}
