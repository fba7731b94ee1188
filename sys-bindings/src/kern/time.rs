//! Time and sleeping: `time_second`, `tick_sbt`, `pause_sbt`.
//!
//! Sources: FreeBSD 14.2 sys/sys/time.h (`extern volatile time_t
//! time_second; extern sbintime_t tick_sbt;`), sys/sys/systm.h
//! (`int pause_sbt(const char *wmesg, sbintime_t sbt, sbintime_t pr, int
//! flags)`; `pause(wmesg, timo)` is the inline
//! `pause_sbt(wmesg, tick_sbt*timo, 0, C_HARDCLOCK)`), sys/sys/callout.h
//! (`C_HARDCLOCK`), all at
//! b66633d79ade; defined in sys/kern/kern_tc.c (time_second),
//! sys/kern/kern_clock.c (tick_sbt) and sys/kern/kern_synch.c
//! (pause_sbt).

use core::ffi::{c_char, c_int};

/// `sbintime_t` (sys/sys/types.h: `int64_t`, 32.32 fixed point seconds).
pub type sbintime_t = i64;

/// `C_HARDCLOCK` (sys/sys/callout.h): align the wake-up to hardclock().
pub const C_HARDCLOCK: c_int = 0x0100;

extern "C" {
    /// `time_second`: wall-clock seconds (what `setkey -DP` prints as
    /// "created").
    pub static time_second: i64;
    /// `tick_sbt`: one clock tick as an `sbintime_t`.
    pub static tick_sbt: sbintime_t;
    /// `pause_sbt`: sleep `sbt` (never 0: kern_synch.c turns 0 into 1
    /// tick).  Sleeps: not in an epoch section or under a mutex.
    pub fn pause_sbt(wmesg: *const c_char, sbt: sbintime_t, pr: sbintime_t, flags: c_int) -> c_int;
}
