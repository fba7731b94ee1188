//! The Rust panic handler: panic(9) with the message.
//!
//! Kernel code is written not to panic (clippy denies unwrap/expect/
//! indexing/panic), and the .ko checks report whether any panic path is
//! left in the module.  If one runs anyway, the machine panics with the
//! Rust message and location, like a failed KASSERT.  The message is
//! formatted into a 256-byte stack buffer: no allocation.

#[cfg(target_os = "none")]
#[panic_handler]
fn on_panic(info: &core::panic::PanicInfo<'_>) -> ! {
    use core::fmt::Write;

    let mut buf = super::printf::FmtBuf::<256>::new();
    // `FmtBuf::write_str` never fails; truncation is fine here.
    let _ = write!(buf, "if_ipsec: Rust {info}");
    // SAFETY: constant "%s" format with one NUL-terminated string that
    // lives on this stack frame, which panic(9) never returns from.
    unsafe { sys_bindings::kern::printf::panic(c"%s".as_ptr(), buf.as_c_ptr()) }
}
