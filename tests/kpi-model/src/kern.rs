//! Module events: kern_module.c `module_register_init` (the SYSINIT of
//! DECLARE_MODULE) and the kldload/kldunload sequence of kern_linker.c
//! (FreeBSD 14.2 b66633d79ade): MOD_LOAD, and on error MOD_UNLOAD; unload
//! = MOD_QUIESCE (an error refuses a non-forced unload), then MOD_UNLOAD
//! (an error refuses it too).
use std::ffi::{c_char, c_int, c_void, CStr};
use std::sync::Mutex;

/// sys/sys/module.h `enum modeventtype`.
pub const MOD_LOAD: c_int = 0;
pub const MOD_UNLOAD: c_int = 1;
pub const MOD_SHUTDOWN: c_int = 2;
pub const MOD_QUIESCE: c_int = 3;

/// `moduledata_t` (sys/sys/module.h): { name, evhand, priv }.
#[repr(C)]
pub struct ModuleData {
    pub name: *const c_char,
    pub evhand: Option<unsafe extern "C" fn(*mut c_void, c_int, *mut c_void) -> c_int>,
    pub priv_: *mut c_void,
}

static LOADED: Mutex<Vec<usize>> = Mutex::new(Vec::new());

pub(crate) fn reset() {
    crate::malloc::untracked(|| LOADED.lock().unwrap_or_else(|e| e.into_inner()).clear());
    set_osreldate(1_402_000);
}

/// Send event `what` to the module described by `data`.
pub fn event(data: *const ModuleData, what: c_int) -> c_int {
    // SAFETY: a moduledata_t of the module.
    let Some(h) = (unsafe { (*data).evhand }) else {
        return 0;
    };
    // SAFETY: the module's event handler, called as MOD_EVENT does (mod
    // pointer unused by the module), in module context.
    crate::malloc::in_module(|| unsafe { h(std::ptr::null_mut(), what, (*data).priv_) })
}

/// kern_module.c `module_register_init`: MOD_LOAD; on error MOD_UNLOAD
/// and a console message.
#[no_mangle]
pub extern "C" fn module_register_init(arg: *const c_void) {
    let _model = crate::malloc::Internal::enter();
    let data = arg.cast::<ModuleData>();
    let e = event(data, MOD_LOAD);
    if e != 0 {
        event(data, MOD_UNLOAD);
        // SAFETY: the module's name string.
        let n = unsafe { CStr::from_ptr((*data).name) }
            .to_string_lossy()
            .into_owned();
        crate::console::push(format!("module_register_init: MOD_LOAD ({n}) error {e}"));
    } else {
        crate::malloc::untracked(|| {
            LOADED
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push(data as usize)
        });
    }
}

/// kldload: MOD_LOAD through module_register_init; 0, or 1 when the
/// module refused (the kernel then unloads it).
pub fn kldload(data: *const ModuleData) -> c_int {
    crate::epoch::may_sleep("kldload");
    let count =
        || crate::malloc::untracked(|| LOADED.lock().unwrap_or_else(|e| e.into_inner()).len());
    let before = count();
    module_register_init(data.cast());
    c_int::from(count() <= before)
}

/// kldunload (not forced): MOD_QUIESCE, then MOD_UNLOAD; 0 or the errno.
pub fn kldunload(data: *const ModuleData) -> c_int {
    crate::epoch::may_sleep("kldunload");
    let e = event(data, MOD_QUIESCE);
    if e != 0 {
        return e;
    }
    let e = event(data, MOD_UNLOAD);
    if e == 0 {
        crate::malloc::untracked(|| {
            LOADED
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .retain(|&x| x != data as usize)
        });
    }
    e
}

/// `const int osreldate` (sys/sys/systm.h; vers.c): the model's kernel
/// is 14.2 (1402000) unless a test says otherwise.
#[no_mangle]
pub static mut osreldate: c_int = 1_402_000;

/// Pretend the running kernel has `__FreeBSD_version` `v`.
pub fn set_osreldate(v: c_int) {
    // SAFETY: tests are serialised by Model::start; the module reads it
    // with a volatile load.
    unsafe { (&raw mut osreldate).write_volatile(v) };
}
