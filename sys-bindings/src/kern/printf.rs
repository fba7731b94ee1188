//! Console and log output, and panic(9).
//!
//! Sources: FreeBSD 14.2 sys/sys/systm.h (`printf`, `log`),
//! sys/sys/kassert.h (`panic`), sys/sys/syslog.h (`LOG_*`), all at
//! b66633d79ade; definitions in sys/kern/subr_prf.c and
//! sys/kern/kern_shutdown.c.
//!
//! Host builds: `printf` and `log` share their names with libc's (`log` is
//! libm's logarithm), so on targets other than the kernel's
//! (`target_os = "none"`) they link to `kpi_model_printf` / `kpi_model_log`,
//! which the host KPI model defines.

use core::ffi::{c_char, c_int};

extern "C" {
    /// `int printf(const char *, ...)`.
    #[cfg_attr(not(target_os = "none"), link_name = "kpi_model_printf")]
    pub fn printf(fmt: *const c_char, ...) -> c_int;
    /// `void log(int, const char *, ...)`: to the message buffer and syslog
    /// at `level` (`LOG_*`).
    #[cfg_attr(not(target_os = "none"), link_name = "kpi_model_log")]
    pub fn log(level: c_int, fmt: *const c_char, ...);
    /// `void panic(const char *, ...) __dead2`.
    pub fn panic(fmt: *const c_char, ...) -> !;
}

/// `LOG_EMERG`.
pub const LOG_EMERG: c_int = 0;
/// `LOG_ALERT`.
pub const LOG_ALERT: c_int = 1;
/// `LOG_CRIT`.
pub const LOG_CRIT: c_int = 2;
/// `LOG_ERR`.
pub const LOG_ERR: c_int = 3;
/// `LOG_WARNING`.
pub const LOG_WARNING: c_int = 4;
/// `LOG_NOTICE`.
pub const LOG_NOTICE: c_int = 5;
/// `LOG_INFO`.
pub const LOG_INFO: c_int = 6;
/// `LOG_DEBUG`.
pub const LOG_DEBUG: c_int = 7;
