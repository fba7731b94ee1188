//! Wall-clock seconds and pause(9) (FreeBSD 14.2 sys/sys/time.h,
//! sys/sys/systm.h, b66633d79ade).
use super::epoch::Sleepable;
use core::ffi::CStr;
use sys_bindings::kern::time::{pause_sbt, tick_sbt, time_second, C_HARDCLOCK};

/// `time_second` (C if_ipsec stamps its policies' `created` with it).
pub fn now_seconds() -> i64 {
    // SAFETY: a kernel variable the clock updates; a volatile read of an
    // aligned word.
    unsafe { core::ptr::read_volatile(&raw const time_second) }
}

/// pause(9): sleep about `ticks` clock ticks (at least one).
pub fn pause_ticks(_: &mut Sleepable, wmesg: &'static CStr, ticks: u32) {
    // SAFETY: read of a kernel variable set at boot.
    let t = unsafe { core::ptr::read_volatile(&raw const tick_sbt) };
    let sbt = t.saturating_mul(i64::from(ticks.max(1)));
    // SAFETY: the token proves a sleepable context; wmesg is 'static.
    unsafe { pause_sbt(wmesg.as_ptr(), sbt, 0, C_HARDCLOCK) };
}
