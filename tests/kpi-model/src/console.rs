//! printf(9), log(9) and panic(9) (sys/kern/subr_prf.c,
//! sys/kern/kern_shutdown.c; FreeBSD 14.2 b66633d79ade).
//!
//! The host link names are `kpi_model_printf` / `kpi_model_log` (libc owns
//! `printf`, libm `log`; see sys_bindings::kern::printf).  Stable Rust
//! cannot define C-variadic functions, so these take the first variadic
//! argument as a pointer-sized value, which is ABI-compatible on x86-64
//! SysV for integer/pointer arguments; the module formats its messages
//! itself and passes them as `"%s"`.
use std::ffi::{c_char, c_int, CStr};
use std::sync::Mutex;

static LINES: Mutex<Vec<String>> = Mutex::new(Vec::new());

fn render(fmt: *const c_char, a1: *const c_char) -> String {
    if fmt.is_null() {
        return String::new();
    }
    // SAFETY: NUL-terminated format string.
    let f = unsafe { CStr::from_ptr(fmt) }
        .to_string_lossy()
        .into_owned();
    if f.contains("%s") && !a1.is_null() {
        // SAFETY: "%s" takes a NUL-terminated string.
        let s = unsafe { CStr::from_ptr(a1) }.to_string_lossy();
        return f.replacen("%s", &s, 1);
    }
    f
}

pub(crate) fn push(s: String) {
    crate::malloc::untracked(|| LINES.lock().unwrap_or_else(|e| e.into_inner()).push(s));
}

pub(crate) fn reset() {
    crate::malloc::untracked(|| LINES.lock().unwrap_or_else(|e| e.into_inner()).clear());
}

/// What the module printed or logged, in order.
pub fn lines() -> Vec<String> {
    crate::malloc::untracked(|| LINES.lock().unwrap_or_else(|e| e.into_inner()).clone())
}

/// printf(9).
#[no_mangle]
pub extern "C" fn kpi_model_printf(fmt: *const c_char, a1: *const c_char) -> c_int {
    let _model = crate::malloc::Internal::enter();
    let s = render(fmt, a1);
    let n = c_int::try_from(s.len()).unwrap_or(c_int::MAX);
    push(s);
    n
}

/// log(9).
#[no_mangle]
pub extern "C" fn kpi_model_log(level: c_int, fmt: *const c_char, a1: *const c_char) {
    let _model = crate::malloc::Internal::enter();
    push(format!("<{level}>{}", render(fmt, a1)));
}

/// panic(9): the test process cannot continue (the kernel would not).
#[no_mangle]
pub extern "C" fn panic(fmt: *const c_char, a1: *const c_char) -> ! {
    let _model = crate::malloc::Internal::enter();
    eprintln!("KPI model: kernel panic: {}", render(fmt, a1));
    std::process::abort()
}
