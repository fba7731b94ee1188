//! printf(9) and log(9) for Rust: [`kprintln!`](crate::kprintln) and
//! [`klog!`](crate::klog).
//!
//! Rust formats the message into a fixed stack buffer (no allocation) which
//! is handed to the kernel as the argument of a constant `"%s"` format, so
//! text from anywhere (interface names, user input) is never interpreted as
//! a format string.  Messages longer than the buffer are truncated.

use core::ffi::{c_char, c_int};
use core::fmt;
use sys_bindings::kern::printf as k;

/// Capacity of the message buffer, including the newline and the NUL.
pub const LINE_MAX: usize = 256;

/// A fixed buffer implementing `fmt::Write`; keeps room for a NUL and
/// truncates what does not fit.
pub struct FmtBuf<const N: usize> {
    buf: [u8; N],
    len: usize,
    truncated: bool,
}

impl<const N: usize> Default for FmtBuf<N> {
    fn default() -> Self {
        Self::new()
    }
}

impl<const N: usize> FmtBuf<N> {
    /// An empty buffer.
    pub const fn new() -> Self {
        Self {
            buf: [0; N],
            len: 0,
            truncated: false,
        }
    }

    /// Appends bytes, truncating at `N - 1` (one byte stays for the NUL).
    pub fn push_bytes(&mut self, bytes: &[u8]) {
        let room = N.saturating_sub(1).saturating_sub(self.len);
        let take = bytes.len().min(room);
        if take < bytes.len() {
            self.truncated = true;
        }
        if let (Some(dst), Some(src)) = (
            self.buf.get_mut(self.len..self.len + take),
            bytes.get(..take),
        ) {
            dst.copy_from_slice(src);
            self.len += take;
        }
    }

    /// Ends the text with a newline, replacing the last byte if full.
    pub fn end_line(&mut self) {
        if self.len + 1 >= N {
            self.len = N.saturating_sub(2);
        }
        self.push_bytes(b"\n");
    }

    /// The text so far (without NUL).
    pub fn as_bytes(&self) -> &[u8] {
        self.buf.get(..self.len).unwrap_or_default()
    }

    /// Whether anything was cut off.
    pub const fn truncated(&self) -> bool {
        self.truncated
    }

    /// A pointer to the NUL-terminated text.  Every byte past `len` is
    /// still zero or was zeroed by `nul_terminate`.
    pub fn as_c_ptr(&mut self) -> *const c_char {
        if let Some(b) = self.buf.get_mut(self.len) {
            *b = 0;
        }
        self.buf.as_ptr().cast()
    }
}

impl<const N: usize> fmt::Write for FmtBuf<N> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        self.push_bytes(s.as_bytes());
        Ok(())
    }
}

/// Formats `args` into a line buffer; literal-only messages skip the
/// formatting machinery.
pub fn format_line(args: fmt::Arguments<'_>) -> FmtBuf<LINE_MAX> {
    let mut line = FmtBuf::<LINE_MAX>::new();
    match args.as_str() {
        Some(s) => line.push_bytes(s.as_bytes()),
        None => {
            // Our `write_str` never fails; a `Display` impl that fails just
            // leaves its output partial.
            let _ = fmt::write(&mut line, args);
        }
    }
    line.end_line();
    line
}

/// printf(9) of one formatted line (use [`kprintln!`](crate::kprintln)).
pub fn print_line(args: fmt::Arguments<'_>) {
    let mut line = format_line(args);
    // SAFETY: constant "%s" format with one NUL-terminated string argument
    // that lives across the call; printf(9) does not keep the pointer.
    unsafe {
        k::printf(c"%s".as_ptr(), line.as_c_ptr());
    }
}

/// log(9) of one formatted line at `level` (`LOG_*`; use
/// [`klog!`](crate::klog)).
pub fn log_line(level: c_int, args: fmt::Arguments<'_>) {
    let mut line = format_line(args);
    // SAFETY: as in `print_line`.
    unsafe {
        k::log(level, c"%s".as_ptr(), line.as_c_ptr());
    }
}

/// `kprintln!("if_ipsec: {}", x)`: one line to the console via printf(9).
#[macro_export]
macro_rules! kprintln {
    ($($arg:tt)*) => {
        $crate::kpi::printf::print_line(::core::format_args!($($arg)*))
    };
}

/// `klog!(LOG_ERR, "...", ...)`: one line to syslog via log(9).
#[macro_export]
macro_rules! klog {
    ($level:expr, $($arg:tt)*) => {
        $crate::kpi::printf::log_line($level, ::core::format_args!($($arg)*))
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_line_gets_newline() {
        let line = format_line(format_args!("if_ipsec: {}", 7));
        assert_eq!(line.as_bytes(), b"if_ipsec: 7\n");
        assert!(!line.truncated());
    }

    #[test]
    fn long_line_is_truncated_and_terminated() {
        let long = [b'x'; 400];
        let s = core::str::from_utf8(&long).unwrap_or_default();
        let mut line = format_line(format_args!("{s}"));
        assert!(line.truncated());
        assert_eq!(line.as_bytes().len(), LINE_MAX - 1);
        assert_eq!(line.as_bytes().last(), Some(&b'\n'));
        let p = line.as_c_ptr();
        // SAFETY: `p` points at the NUL-terminated buffer inside `line`.
        assert_eq!(
            unsafe { core::ffi::CStr::from_ptr(p) }.to_bytes().len(),
            LINE_MAX - 1
        );
    }

    #[test]
    fn format_directives_in_text_are_just_text() {
        let line = format_line(format_args!("{}", "%s%n"));
        assert_eq!(line.as_bytes(), b"%s%n\n");
    }
}
