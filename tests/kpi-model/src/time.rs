//! `time_second`, `tick_sbt` and `pause_sbt` (FreeBSD 14.2 sys/sys/time.h,
//! sys/sys/systm.h; sys/kern/kern_tc.c, kern_clock.c, kern_synch.c,
//! b66633d79ade).  The model's clock (`time_second`, in netinet.rs) is frozen, so a
//! policy stamped with it is recognisable; pause sleeps 1 ms a tick and
//! is a sleep (illegal inside the epoch).
use std::ffi::{c_char, c_int};

/// What the model's `time_second` (defined in netinet.rs) reads.
pub const MODEL_TIME_SECOND: i64 = 1_700_000_000;

/// `tick_sbt` at hz=1000: 2^32 / 1000.
#[no_mangle]
pub static tick_sbt: i64 = (1i64 << 32) / 1000;

/// kern_synch.c `pause_sbt`.
#[no_mangle]
pub extern "C" fn pause_sbt(_wmesg: *const c_char, sbt: i64, _pr: i64, _flags: c_int) -> c_int {
    let _model = crate::malloc::Internal::enter();
    crate::epoch::may_sleep("pause_sbt");
    let ms = (sbt.max(tick_sbt) / tick_sbt).clamp(1, 1000) as u64;
    std::thread::sleep(std::time::Duration::from_millis(ms));
    0
}
