//! Fallible boxing: `Box::new` aborts (in the kernel: panics) when the
//! allocator fails; kernel code must get an errno instead.  Stable Rust has
//! no `Box::try_new`, so this allocates through the global allocator
//! (malloc(9) with M_NOWAIT in the kernel) and hands back a normal `Box`.
use alloc::alloc::{alloc, Layout};
use alloc::boxed::Box;
use core::ffi::c_int;
use sys_bindings::errno::ENOMEM;

/// `Box::new(v)`, or `Err(ENOMEM)` (dropping `v`) when memory is short.
pub fn try_box<T>(v: T) -> Result<Box<T>, c_int> {
    let layout = Layout::new::<T>();
    if layout.size() == 0 {
        return Ok(Box::new(v)); // zero-sized: no allocation happens
    }
    // SAFETY: layout has a nonzero size.
    let p = unsafe { alloc(layout) }.cast::<T>();
    if p.is_null() {
        return Err(ENOMEM);
    }
    // SAFETY: p is fresh, properly sized and aligned for T; writing v
    // initialises it, after which Box owns exactly this allocation made
    // with the global allocator and T's layout, as Box::from_raw requires.
    unsafe {
        p.write(v);
        Ok(Box::from_raw(p))
    }
}

/// `v.push(x)` without the infallible grow path (`Vec::push` keeps a call
/// to the panicking grow routine even after `try_reserve`, which
/// tests/ko-check refuses): reserve fallibly, then write into the spare
/// capacity.  `Err(ENOMEM)` (dropping `x`) when memory is short.
pub fn try_push<T>(v: &mut alloc::vec::Vec<T>, x: T) -> Result<(), c_int> {
    if v.len() == v.capacity() {
        v.try_reserve(1).map_err(|_| ENOMEM)?;
    }
    let Some(slot) = v.spare_capacity_mut().first_mut() else {
        return Err(ENOMEM);
    };
    slot.write(x);
    let n = v.len() + 1;
    // SAFETY: the element at the old length was just initialised and
    // n <= capacity (a spare slot existed).
    unsafe { v.set_len(n) };
    Ok(())
}
