//! malloc(9) types and the Rust global allocator over malloc(9)/free(9)
//! (FreeBSD 14.2 sys/sys/malloc.h, sys/kern/kern_malloc.c; b66633d79ade).
//!
//! Allocator behaviour:
//! - every allocation is `M_NOWAIT`: it never sleeps, so it may run in the
//!   net epoch or with a default (sleep-) mutex held, and it can fail.  Code
//!   running in the kernel must use fallible APIs (`Vec::try_reserve`, ...):
//!   an infallible allocation that fails calls `handle_alloc_error`, which
//!   panics the kernel (the .ko checks assert no such path is linked in).
//!   Like malloc(9) itself it must not be called in a critical section or
//!   with a spin mutex held.
//! - alignment: malloc(9) guarantees pointer alignment (8) for every size
//!   (`UMA_ALIGN_PTR` zones).  Larger alignments up to `PAGE_SIZE` use
//!   `malloc_aligned(9)` (rounds the size up to a power of two);
//!   alignments above `PAGE_SIZE` over-allocate by `align` and keep the
//!   original pointer in the word just below the returned block.
//! - `alloc_zeroed` passes `M_ZERO`; `realloc` uses realloc(9) when the
//!   block came from plain malloc(9) (alignment <= 8), which keeps the old
//!   block intact on failure as `GlobalAlloc::realloc` requires.

use core::alloc::{GlobalAlloc, Layout};
use core::cell::UnsafeCell;
use core::ffi::{c_void, CStr};
use sys_bindings::kern::malloc::{
    self as m, malloc_type, malloc_type_internal, MALLOC_MIN_ALIGN, M_NOWAIT, M_VERSION, M_ZERO,
    PAGE_SIZE,
};

/// A `struct malloc_type` (what `MALLOC_DEFINE` defines).  Register it with
/// [`malloc_define!`](crate::malloc_define), which adds the `malloc_init`
/// SYSINIT and `malloc_uninit` SYSUNINIT records.
#[repr(transparent)]
pub struct MallocType(UnsafeCell<malloc_type>);

// SAFETY: the kernel owns the contents after `malloc_init`: it links
// `ks_next` under `malloc_mtx` and updates statistics per CPU inside
// critical sections.  Rust code only passes the address to malloc(9).
unsafe impl Sync for MallocType {}

impl MallocType {
    /// `{ .ks_next = NULL, .ks_version = M_VERSION, .ks_shortdesc = desc }`,
    /// the rest zero, as `MALLOC_DEFINE` initialises it.
    pub const fn new(shortdesc: &'static CStr) -> Self {
        Self(UnsafeCell::new(malloc_type {
            ks_next: core::ptr::null_mut(),
            ks_version: M_VERSION,
            ks_shortdesc: shortdesc.as_ptr(),
            ks_mti: malloc_type_internal {
                mti_probes: [0; m::DTMALLOC_PROBE_MAX],
                mti_zone: 0,
                mti_stats: core::ptr::null_mut(),
                mti_spare: [0; 8],
            },
        }))
    }

    /// The address the KPIs take.
    pub const fn as_ptr(&self) -> *mut malloc_type {
        self.0.get()
    }

    /// The address as a SYSINIT argument.
    pub const fn as_udata(&self) -> *mut c_void {
        self.0.get().cast()
    }
}

/// `MALLOC_DEFINE(name, shortdesc, ...)`: defines `static $name:
/// MallocType` plus `SYSINIT(SI_SUB_KMEM, SI_ORDER_THIRD, malloc_init)`
/// and `SYSUNINIT(SI_SUB_KMEM, SI_ORDER_ANY, malloc_uninit)`.
#[macro_export]
macro_rules! malloc_define {
    ($vis:vis $name:ident, $shortdesc:expr) => {
        $vis static $name: $crate::kpi::malloc::MallocType =
            $crate::kpi::malloc::MallocType::new($shortdesc);
        $crate::sysinit!(
            ::sys_bindings::kern::sysinit::SI_SUB_KMEM,
            ::sys_bindings::kern::sysinit::SI_ORDER_THIRD,
            ::sys_bindings::kern::malloc::malloc_init,
            $name.as_udata(),
        );
        $crate::sysuninit!(
            ::sys_bindings::kern::sysinit::SI_SUB_KMEM,
            ::sys_bindings::kern::sysinit::SI_ORDER_ANY,
            ::sys_bindings::kern::malloc::malloc_uninit,
            $name.as_udata(),
        );
    };
}

/// How a layout is served (pure, host-tested).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Strategy {
    /// malloc(9): alignment <= 8.
    Plain,
    /// malloc_aligned(9): 8 < alignment <= PAGE_SIZE.
    Aligned,
    /// Over-allocate `size + align` with malloc(9), store the original
    /// pointer below the block.
    OverAligned,
}

impl Strategy {
    /// The strategy for an alignment (a power of two, as `Layout` ensures).
    pub const fn for_align(align: usize) -> Self {
        if align <= MALLOC_MIN_ALIGN {
            Strategy::Plain
        } else if align <= PAGE_SIZE {
            Strategy::Aligned
        } else {
            Strategy::OverAligned
        }
    }
}

/// Where an over-aligned block starts inside a raw allocation at `raw`:
/// the first multiple of `align` strictly above `raw` (leaves at least
/// `align` >= 8 bytes below it for the back pointer).  `None` on overflow.
pub const fn over_aligned_start(raw: usize, align: usize) -> Option<usize> {
    match raw.checked_add(align) {
        Some(end) => Some(end & !(align - 1)),
        None => None,
    }
}

/// The Rust global allocator over malloc(9) with one malloc type.
pub struct KernelAllocator {
    ty: &'static MallocType,
}

impl KernelAllocator {
    /// An allocator charging `ty` (see `vmstat -m`).
    pub const fn new(ty: &'static MallocType) -> Self {
        Self { ty }
    }

    /// # Safety
    /// `layout.size() != 0` (the `GlobalAlloc` contract).
    unsafe fn alloc_flags(&self, layout: Layout, flags: core::ffi::c_int) -> *mut u8 {
        let ty = self.ty.as_ptr();
        match Strategy::for_align(layout.align()) {
            // SAFETY: malloc(9) with M_NOWAIT never sleeps and returns NULL
            // or a block of at least `size` bytes aligned to 8; `ty` is a
            // registered malloc type living as long as the module.
            Strategy::Plain => unsafe { m::malloc(layout.size(), ty, flags).cast() },
            // SAFETY: `align` is a power of two <= PAGE_SIZE, which
            // malloc_aligned asserts; the block is freed with free(9).
            Strategy::Aligned => unsafe {
                m::malloc_aligned(layout.size(), layout.align(), ty, flags).cast()
            },
            // SAFETY: see `alloc_over_aligned`.
            Strategy::OverAligned => unsafe { self.alloc_over_aligned(layout, flags) },
        }
    }

    /// # Safety
    /// `layout.align() > PAGE_SIZE`.
    unsafe fn alloc_over_aligned(&self, layout: Layout, flags: core::ffi::c_int) -> *mut u8 {
        let Some(total) = layout.size().checked_add(layout.align()) else {
            return core::ptr::null_mut();
        };
        // SAFETY: plain M_NOWAIT malloc(9) of `total` bytes.
        let raw: *mut u8 = unsafe { m::malloc(total, self.ty.as_ptr(), flags).cast() };
        if raw.is_null() {
            return raw;
        }
        let Some(start) = over_aligned_start(raw as usize, layout.align()) else {
            // SAFETY: `raw` came from malloc(9) with this type just above.
            unsafe { m::free(raw.cast(), self.ty.as_ptr()) };
            return core::ptr::null_mut();
        };
        let offset = start - raw as usize;
        // SAFETY: 8 <= align <= offset <= align, so `start` is inside the
        // raw block, `start + size <= raw + total`, and the 8 bytes below
        // `start` are inside the block too; `start` is 8-aligned (a multiple
        // of align), so the write of the back pointer is aligned.
        unsafe {
            let block = raw.add(offset);
            block.cast::<*mut u8>().sub(1).write(raw);
            block
        }
    }
}

// SAFETY: every method forwards to malloc(9)/realloc(9)/free(9) with the
// same malloc type, honours `layout.align()` as described in the module
// documentation, and returns NULL on failure (never unwinds or panics).
unsafe impl GlobalAlloc for KernelAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller guarantees a nonzero size.
        unsafe { self.alloc_flags(layout, M_NOWAIT) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: as in `alloc`; M_ZERO zeroes the whole block.
        unsafe { self.alloc_flags(layout, M_NOWAIT | M_ZERO) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        let raw = match Strategy::for_align(layout.align()) {
            Strategy::Plain | Strategy::Aligned => ptr,
            // SAFETY: `ptr` was returned by `alloc_over_aligned` for this
            // layout, which stored the raw pointer just below it.
            Strategy::OverAligned => unsafe { ptr.cast::<*mut u8>().sub(1).read() },
        };
        // SAFETY: `raw` is a live malloc(9) block of this malloc type.
        unsafe { m::free(raw.cast(), self.ty.as_ptr()) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if Strategy::for_align(layout.align()) == Strategy::Plain {
            // SAFETY: `ptr` is a live plain malloc(9) block of this type;
            // realloc(9) returns a block aligned to 8 or NULL, leaving `ptr`
            // allocated on failure.
            return unsafe { m::realloc(ptr.cast(), new_size, self.ty.as_ptr(), M_NOWAIT).cast() };
        }
        // Aligned blocks: malloc(9)'s realloc would lose the alignment, so
        // allocate, copy, free.
        let Ok(new_layout) = Layout::from_size_align(new_size, layout.align()) else {
            return core::ptr::null_mut();
        };
        // SAFETY: `new_size` is nonzero per the `GlobalAlloc` contract.
        let new = unsafe { self.alloc(new_layout) };
        if !new.is_null() {
            // SAFETY: both blocks are live, distinct, and at least
            // `min(old, new)` bytes long.
            unsafe {
                core::ptr::copy_nonoverlapping(ptr, new, layout.size().min(new_size));
                self.dealloc(ptr, layout);
            }
        }
        new
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strategy_by_alignment() {
        assert_eq!(Strategy::for_align(1), Strategy::Plain);
        assert_eq!(Strategy::for_align(8), Strategy::Plain);
        assert_eq!(Strategy::for_align(16), Strategy::Aligned);
        assert_eq!(Strategy::for_align(4096), Strategy::Aligned);
        assert_eq!(Strategy::for_align(8192), Strategy::OverAligned);
    }

    #[test]
    fn over_aligned_start_leaves_room_for_back_pointer() {
        for raw in [0x1000usize, 0x1008, 0x1ff8, 0x2000] {
            let start = over_aligned_start(raw, 8192);
            assert!(start.is_some_and(|s| s % 8192 == 0 && s >= raw + 8 && s <= raw + 8192));
        }
        assert_eq!(over_aligned_start(usize::MAX - 8, 8192), None);
    }

    /// mirrors sys/sys/malloc.h MALLOC_DEFINE initialiser
    #[test]
    fn malloc_type_initialised_like_malloc_define() {
        static T: MallocType = MallocType::new(c"if_ipsec");
        // SAFETY: test-only read of a record nothing else touches.
        let raw = unsafe { &*T.as_ptr() };
        assert_eq!(raw.ks_version, M_VERSION);
        assert!(raw.ks_next.is_null());
        // SAFETY: ks_shortdesc points at the 'static C string above.
        assert_eq!(unsafe { CStr::from_ptr(raw.ks_shortdesc) }, c"if_ipsec");
    }
}
