//! Self-tests of the KPI model: it catches what an INVARIANTS/WITNESS
//! kernel would (each test names the FreeBSD function whose check it
//! mirrors).
use kpi_model::{Model, ViolationKind as V};
use std::ffi::c_void;
use sys_bindings::ipsec::secpolicy;

/// kern_mbuf.c m_freem: a second free of the same chain is caught.
#[test]
fn mbuf_double_free_is_caught() {
    let m = Model::start();
    let p = kpi_model::mbuf::packet(&[&[0x45, 0, 0, 20]]);
    kpi_model::mbuf::m_freem(p);
    m.assert_clean();
    kpi_model::mbuf::m_freem(p);
    assert!(m.took(V::MbufDoubleFree));
}

/// A packet neither freed nor handed on is a leak at the end of the test.
#[test]
fn mbuf_leak_is_caught() {
    let m = Model::start();
    let _p = kpi_model::mbuf::packet(&[&[0x60; 40]]);
    assert!(m.problems().iter().any(|v| v.kind == V::MbufLeak));
}

/// A freed mbuf is poisoned (use after free reads 0xdeadc0de).
#[test]
fn freed_mbuf_is_poisoned() {
    let _m = Model::start();
    let p = kpi_model::mbuf::packet(&[&[1, 2, 3]]);
    kpi_model::mbuf::m_freem(p);
    // SAFETY: the model quarantines freed mbufs until the next reset.
    let word = unsafe { *(p as *const u32) };
    assert_eq!(word, 0xdeadc0de);
}

/// key.c key_freesp: one release too many is caught.
#[test]
fn policy_over_release_is_caught() {
    let m = Model::start();
    let mut sp = kpi_model::ipsec::key_newsp();
    let keep = sp;
    kpi_model::ipsec::key_freesp(&mut sp);
    assert!(
        sp.is_null(),
        "key_freesp NULLs the pointer on the last release"
    );
    m.assert_clean();
    let mut again = keep;
    kpi_model::ipsec::key_freesp(&mut again);
    assert!(m.took(V::RefcountUnderflow));
}

/// key.c: a reference never released is reported with its count.
#[test]
fn policy_unbalanced_refcount_is_caught() {
    let m = Model::start();
    let mut sp = kpi_model::ipsec::key_newsp();
    kpi_model::ipsec::key_addref(sp);
    kpi_model::ipsec::key_freesp(&mut sp);
    let p = m.problems();
    assert!(p.iter().any(|v| v.kind == V::RefcountLeak), "{p:?}");
    let mut sp2 = sp;
    kpi_model::ipsec::key_freesp(&mut sp2);
    m.assert_clean();
}

/// key.c key_freesp after key_register_ifnet without key_unregister_ifnet:
/// the SPD would keep a dangling pointer.
#[test]
fn policy_freed_while_registered_is_caught() {
    let m = Model::start();
    let mut sp: *mut secpolicy = kpi_model::ipsec::key_newsp();
    // SAFETY: fresh policy.
    unsafe { (*sp).spidx.dir = 2 };
    assert_eq!(kpi_model::ipsec::key_register_ifnet(&mut sp, 1), 0);
    assert_eq!(m.spd_ifnet().len(), 1);
    kpi_model::ipsec::key_freesp(&mut sp);
    assert!(m.took(V::RefcountUnderflow));
}

fn tracker() -> Box<[u64; 8]> {
    Box::new([0; 8])
}

fn net_epoch() -> *const c_void {
    kpi_model::epoch::net_epoch_preempt.0.cast()
}

/// subr_epoch.c epoch_exit_preempt with a tracker that was never entered.
#[test]
fn epoch_exit_without_enter_is_caught() {
    let m = Model::start();
    let mut et = tracker();
    kpi_model::epoch::_epoch_exit_preempt(net_epoch(), et.as_mut_ptr().cast());
    assert!(m.took(V::EpochUnbalanced));
}

/// A test (or path) ending inside an epoch section is reported.
#[test]
fn epoch_left_open_is_caught() {
    let m = Model::start();
    let mut et = tracker();
    kpi_model::epoch::_epoch_enter_preempt(net_epoch(), et.as_mut_ptr().cast());
    assert!(m.problems().iter().any(|v| v.kind == V::EpochUnbalanced));
    kpi_model::epoch::_epoch_exit_preempt(net_epoch(), et.as_mut_ptr().cast());
    m.assert_clean();
}

/// subr_epoch.c epoch_wait_preempt inside a section (would deadlock).
#[test]
fn epoch_wait_inside_epoch_is_caught() {
    let m = Model::start();
    let mut et = tracker();
    kpi_model::epoch::_epoch_enter_preempt(net_epoch(), et.as_mut_ptr().cast());
    kpi_model::epoch::epoch_wait_preempt(net_epoch());
    kpi_model::epoch::_epoch_exit_preempt(net_epoch(), et.as_mut_ptr().cast());
    assert!(m.took(V::SleepInEpoch));
    m.assert_clean();
}

/// kern_malloc.c malloc_dbg: M_WAITOK with sleeping prohibited.
#[test]
fn malloc_waitok_in_epoch_is_caught() {
    let m = Model::start();
    let mut et = tracker();
    kpi_model::epoch::_epoch_enter_preempt(net_epoch(), et.as_mut_ptr().cast());
    let p = kpi_model::malloc::kmalloc(64, "test", kpi_model::malloc::M_WAITOK);
    kpi_model::epoch::_epoch_exit_preempt(net_epoch(), et.as_mut_ptr().cast());
    assert!(m.took(V::SleepInEpoch));
    kpi_model::malloc::kfree(p.unwrap_or(std::ptr::null_mut()), "test");
    m.assert_clean();
}

/// kern_malloc.c: free with the wrong type, double free, and leaks per type.
#[test]
fn malloc_balance_per_type() {
    let m = Model::start();
    let p = kpi_model::malloc::kmalloc(8, "a", kpi_model::malloc::M_NOWAIT)
        .unwrap_or(std::ptr::null_mut());
    assert_eq!(m.malloc_in_use("a"), (1, 8));
    assert!(m.problems().iter().any(|v| v.kind == V::Malloc));
    kpi_model::malloc::kfree(p, "b");
    assert!(m.took(V::Malloc));
    kpi_model::malloc::kfree(p, "a");
    assert!(m.took(V::Malloc));
    m.assert_clean();
}

/// MALLOC_MAKE_FAILURES semantics: only M_NOWAIT fails; M_WAITOK never.
#[test]
fn fail_on_demand_only_hits_nowait() {
    let m = Model::start();
    m.fail_alloc_nth(1);
    let a = kpi_model::malloc::kmalloc(8, "t", kpi_model::malloc::M_NOWAIT);
    let w = kpi_model::malloc::kmalloc(8, "t", kpi_model::malloc::M_WAITOK);
    let b = kpi_model::malloc::kmalloc(8, "t", kpi_model::malloc::M_NOWAIT);
    let c = kpi_model::malloc::kmalloc(8, "t", kpi_model::malloc::M_NOWAIT);
    assert!(a.is_some() && w.is_some() && b.is_none() && c.is_some());
    assert_eq!(m.alloc_counts(), (3, 1, 1));
    for p in [a, w, c].into_iter().flatten() {
        kpi_model::malloc::kfree(p, "t");
    }
    m.assert_clean();
}

fn sx_new(name: &'static std::ffi::CStr) -> *mut c_void {
    let p: *mut c_void = Box::into_raw(Box::new([0u64; 4])).cast();
    kpi_model::sx::sx_init_flags(p, name.as_ptr(), 0);
    p
}

/// kern_sx.c _sx_xlock: recursion on a non-recursive sx.
#[test]
fn sx_recursion_is_caught() {
    let m = Model::start();
    let sx = sx_new(c"t1");
    kpi_model::sx::_sx_xlock(sx, 0, std::ptr::null(), 0);
    kpi_model::sx::_sx_xlock(sx, 0, std::ptr::null(), 0);
    assert!(m.took(V::LockMisuse));
    kpi_model::sx::_sx_xunlock(sx, std::ptr::null(), 0);
    kpi_model::sx::sx_destroy(sx);
    m.assert_clean();
}

/// kern_sx.c _sx_xunlock by a thread that does not hold it.
#[test]
fn sx_unlock_by_non_owner_is_caught() {
    let m = Model::start();
    let sx = sx_new(c"t2") as usize;
    kpi_model::sx::_sx_xlock(sx as *mut c_void, 0, std::ptr::null(), 0);
    std::thread::spawn(move || kpi_model::sx::_sx_xunlock(sx as *mut c_void, std::ptr::null(), 0))
        .join()
        .ok();
    assert!(m.took(V::LockMisuse));
    kpi_model::sx::_sx_xunlock(sx as *mut c_void, std::ptr::null(), 0);
    m.assert_clean();
}

/// kern_sx.c sx_destroy: "sx lock still held"; and a lock held at the end.
#[test]
fn sx_destroy_while_held_is_caught() {
    let m = Model::start();
    let sx = sx_new(c"t3");
    kpi_model::sx::_sx_xlock(sx, 0, std::ptr::null(), 0);
    assert!(m.problems().iter().any(|v| v.kind == V::LockMisuse));
    kpi_model::sx::sx_destroy(sx);
    assert!(m.took(V::LockMisuse));
    kpi_model::sx::_sx_xunlock(sx, std::ptr::null(), 0);
    kpi_model::sx::sx_destroy(sx);
    m.assert_clean();
}

/// Sleeping on an sx inside the net epoch (THREAD_NO_SLEEPING).
#[test]
fn sx_lock_inside_epoch_is_caught() {
    let m = Model::start();
    let sx = sx_new(c"t4");
    let mut et = tracker();
    kpi_model::epoch::_epoch_enter_preempt(net_epoch(), et.as_mut_ptr().cast());
    kpi_model::sx::_sx_xlock(sx, 0, std::ptr::null(), 0);
    kpi_model::sx::_sx_xunlock(sx, std::ptr::null(), 0);
    kpi_model::epoch::_epoch_exit_preempt(net_epoch(), et.as_mut_ptr().cast());
    assert!(m.took(V::SleepInEpoch));
    m.assert_clean();
}

/// ipsec_output.c: ipsec4_process_packet outside the net epoch.
#[test]
fn ipsec_output_outside_epoch_is_caught() {
    let m = Model::start();
    let p = kpi_model::mbuf::packet(&[&[0x45; 20]]);
    let sp = kpi_model::ipsec::key_newsp();
    kpi_model::ipsec::ipsec4_process_packet(p, sp, std::ptr::null_mut());
    assert!(m.took(V::NotInEpoch));
    m.assert_clean(); // both consumed
}

/// copyin(9) inside the epoch may fault and sleep.
#[test]
fn copyin_inside_epoch_is_caught() {
    let m = Model::start();
    let ua = m.user_alloc(&[1, 2, 3, 4]);
    let mut buf = [0u8; 4];
    let mut et = tracker();
    kpi_model::epoch::_epoch_enter_preempt(net_epoch(), et.as_mut_ptr().cast());
    let e = kpi_model::thread::copyin(ua as *const c_void, buf.as_mut_ptr().cast(), 4);
    kpi_model::epoch::_epoch_exit_preempt(net_epoch(), et.as_mut_ptr().cast());
    assert_eq!((e, buf), (0, [1, 2, 3, 4]));
    assert!(m.took(V::SleepInEpoch));
    let e = kpi_model::thread::copyin((ua + 4096) as *const c_void, buf.as_mut_ptr().cast(), 4);
    assert_eq!(e, kpi_model::thread::EFAULT);
    m.assert_clean();
}

/// key.c key_sockaddrcmp(.., 0) ignores ports (NAT-T SAs match), compares
/// the IPv6 scope id; with port != 0 ports count.
#[test]
fn key_sockaddrcmp_as_key_c() {
    let _m = Model::start();
    let a = kpi_model::netinet::sockaddr_of("192.0.2.1".parse().unwrap_or_else(|_| unreachable!()));
    let mut b = a.clone();
    b[2..4].copy_from_slice(&4500u16.to_be_bytes());
    let cmp = |x: &[u8], y: &[u8], p| {
        kpi_model::ipsec::key_sockaddrcmp(x.as_ptr().cast(), y.as_ptr().cast(), p)
    };
    assert_eq!((cmp(&a, &b, 0), cmp(&a, &b, 1)), (0, 1));
    let c = kpi_model::netinet::sockaddr_of("192.0.2.2".parse().unwrap_or_else(|_| unreachable!()));
    assert_eq!(cmp(&a, &c, 0), 1);
    let v6 = kpi_model::netinet::sockaddr_of("fe80::1".parse().unwrap_or_else(|_| unreachable!()));
    let mut v6s = v6.clone();
    v6s[24..28].copy_from_slice(&3u32.to_ne_bytes());
    assert_eq!(
        (cmp(&v6, &v6, 0), cmp(&v6, &v6s, 0), cmp(&a, &v6, 0)),
        (0, 1, 1)
    );
}

/// key.c key_newreqid: 0x4001, 0x4002, ... (global, no uniqueness check).
#[test]
fn key_newreqid_counts_from_0x4001() {
    let _m = Model::start();
    assert_eq!(
        (
            kpi_model::ipsec::key_newreqid(),
            kpi_model::ipsec::key_newreqid()
        ),
        (0x4001, 0x4002)
    );
}

static CALLED: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
unsafe extern "C" fn cb(_ctx: *mut c_void) {
    CALLED.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
}

/// subr_epoch.c epoch_call: deferred until a grace period (here: the next
/// epoch_wait_preempt); pending callbacks at the end are reported.
#[test]
fn epoch_call_runs_after_grace_period() {
    let m = Model::start();
    CALLED.store(0, std::sync::atomic::Ordering::SeqCst);
    kpi_model::epoch::epoch_call(
        net_epoch(),
        cb as unsafe extern "C" fn(*mut c_void) as usize,
        std::ptr::null_mut(),
    );
    assert_eq!(CALLED.load(std::sync::atomic::Ordering::SeqCst), 0);
    assert!(!m.problems().is_empty());
    kpi_model::epoch::epoch_wait_preempt(net_epoch());
    assert_eq!(CALLED.load(std::sync::atomic::Ordering::SeqCst), 1);
    m.assert_clean();
}

/// kern_sx.c sx_try_xlock: fails (0) while another thread holds it.
#[test]
fn sx_try_xlock_does_not_wait() {
    let m = Model::start();
    let sx = sx_new(c"t5") as usize;
    assert_eq!(
        kpi_model::sx::sx_try_xlock_(sx as *mut c_void, std::ptr::null(), 0),
        1
    );
    let other = std::thread::spawn(move || {
        kpi_model::sx::sx_try_xlock_(sx as *mut c_void, std::ptr::null(), 0)
    })
    .join()
    .unwrap_or(1);
    assert_eq!(other, 0);
    kpi_model::sx::_sx_xunlock(sx as *mut c_void, std::ptr::null(), 0);
    m.assert_clean();
}

/// if_clone.c ifc_name2unit: -1 without digits, EINVAL for leading zeroes
/// or junk after the digits.
#[test]
fn ifc_name2unit_as_if_clone_c() {
    let _m = Model::start();
    let unit = |n: &std::ffi::CStr| {
        let mut u = 99;
        let e = kpi_model::clone::ifc_name2unit(n.as_ptr(), &mut u);
        (e, u)
    };
    assert_eq!(unit(c"ipsec"), (0, -1));
    assert_eq!(unit(c"ipsec0"), (0, 0));
    assert_eq!(unit(c"ipsec42"), (0, 42));
    assert_eq!(unit(c"ipsec01").0, 22);
    assert_eq!(unit(c"ipsec4x").0, 22);
    assert_eq!(unit(c"ipsec99999999999").0, 22);
}

/// Every symbol the .ko may import (kmod/link/undefined-symbols.txt, the
/// allowlist the .ko checks enforce) is defined by the model, under its
/// host link name where libc owns the kernel name.
#[test]
fn model_defines_every_allowlisted_symbol() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let list = std::fs::read_to_string(root.join("../../kmod/link/undefined-symbols.txt"))
        .unwrap_or_default();
    let mut src = String::new();
    for e in std::fs::read_dir(root.join("src"))
        .into_iter()
        .flatten()
        .flatten()
    {
        src.push_str(&std::fs::read_to_string(e.path()).unwrap_or_default());
    }
    let host = |s: &str| match s {
        "malloc" | "free" | "realloc" | "printf" | "log" => format!("kpi_model_{s}"),
        _ => s.to_owned(),
    };
    let mut missing = Vec::new();
    let mut n = 0;
    for sym in list
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .filter_map(|l| l.split_whitespace().next())
    {
        n += 1;
        let h = host(sym);
        let found = [
            format!("fn {h}("),
            format!("static {h}:"),
            format!("static mut {h}:"),
            format!("!({h},"),
            format!("!(\n    {h},"),
        ]
        .iter()
        .any(|p| src.contains(p.as_str()));
        if !found {
            missing.push(sym.to_owned());
        }
    }
    assert!(n > 50, "allowlist not found or too short ({n})");
    assert!(missing.is_empty(), "not modelled: {missing:?}");
}

static HOOK_ENTERED: std::sync::Mutex<Option<std::sync::mpsc::Sender<()>>> =
    std::sync::Mutex::new(None);
static HOOK_GO: std::sync::Mutex<Option<std::sync::mpsc::Receiver<()>>> =
    std::sync::Mutex::new(None);

unsafe extern "C" fn slow_hook(
    _t: i32,
    _i: i32,
    _u: *mut c_void,
    _c: *mut c_void,
    _h: *mut c_void,
    _o: *mut sys_bindings::hhook::osd,
) -> i32 {
    // test plumbing, not module memory
    kpi_model::malloc::untracked(|| {
        if let Some(tx) = HOOK_ENTERED.lock().ok().and_then(|g| g.clone()) {
            tx.send(()).ok();
        }
        if let Some(rx) = HOOK_GO.lock().ok().and_then(|mut g| g.take()) {
            rx.recv().ok();
        }
    });
    0
}

/// kern_hhook.c hhook_remove_hook takes the head's rmlock for writing: it
/// returns only once hooks running under the read lock have finished.
#[test]
fn hhook_remove_waits_for_running_hooks() {
    let m = Model::start();
    let (etx, erx) = std::sync::mpsc::channel();
    let (gtx, grx) = std::sync::mpsc::channel();
    *HOOK_ENTERED.lock().unwrap_or_else(|e| e.into_inner()) = Some(etx);
    *HOOK_GO.lock().unwrap_or_else(|e| e.into_inner()) = Some(grx);
    let heads = kpi_model::vnet::var_addr(
        kpi_model::vnet::vnet0_ptr(),
        (&raw const kpi_model::vnet::vnet_entry_ipsec_hhh_in).cast(),
    );
    // SAFETY: vnet0's copy of the two head pointers.
    let head = unsafe { *heads.cast::<usize>() } as *mut c_void;
    let hki = sys_bindings::hhook::hookinfo {
        hook_func: Some(slow_hook),
        hook_helper: std::ptr::null_mut(),
        hook_udata: std::ptr::null_mut(),
        hook_id: 2,
        hook_type: sys_bindings::hhook::HHOOK_TYPE_IPSEC_IN,
    };
    assert_eq!(
        kpi_model::hhook::hhook_add_hook(head, &hki, sys_bindings::hhook::HHOOK_WAITOK),
        0
    );
    assert_eq!(
        kpi_model::hhook::hhook_add_hook(head, &hki, sys_bindings::hhook::HHOOK_WAITOK),
        17
    );
    let v0 = m.vnet0();
    let input = std::thread::spawn(move || {
        let m2 = kpi_model::ipsec::SaSpec::esp_tunnel(
            "192.0.2.1".parse().unwrap_or_else(|_| unreachable!()),
            "192.0.2.2".parse().unwrap_or_else(|_| unreachable!()),
            1,
        );
        kpi_model::vnet::with_vnet(v0 as *mut _, || kpi_model::ipsec::input(4, &[0x45], &m2, 0))
    });
    erx.recv().ok();
    let (h, k) = (head as usize, &hki as *const _ as usize);
    let remover = std::thread::spawn(move || {
        kpi_model::hhook::hhook_remove_hook(h as *mut c_void, k as *const _)
    });
    std::thread::sleep(std::time::Duration::from_millis(50));
    assert!(
        !remover.is_finished(),
        "removal returned while the hook runs"
    );
    gtx.send(()).ok();
    assert_eq!(remover.join().unwrap_or(-1), 0);
    assert!(matches!(
        input.join(),
        Ok(kpi_model::ipsec::InputOutcome::Delivered(_))
    ));
    assert_eq!(
        kpi_model::hhook::hooks_in(kpi_model::vnet::vnet0_ptr(), 2),
        0
    );
    m.assert_clean();
}

/// kern_sx.c _sx_assert: SA_XLOCKED on a lock not held, SA_UNLOCKED on
/// one held.
#[test]
fn sx_assert_failures_are_caught() {
    let m = Model::start();
    let sx = sx_new(c"t6");
    kpi_model::sx::_sx_assert(sx, kpi_model::sx::SA_XLOCKED, std::ptr::null(), 0);
    assert!(m.took(V::LockMisuse));
    kpi_model::sx::_sx_xlock(sx, 0, std::ptr::null(), 0);
    kpi_model::sx::_sx_assert(sx, kpi_model::sx::SA_XLOCKED, std::ptr::null(), 0);
    assert!(m.violations().is_empty());
    kpi_model::sx::_sx_assert(sx, kpi_model::sx::SA_UNLOCKED, std::ptr::null(), 0);
    assert!(m.took(V::LockMisuse));
    kpi_model::sx::_sx_xunlock(sx, std::ptr::null(), 0);
    m.assert_clean();
}

/// The registry records which KPI consumed each packet.
#[test]
fn consumer_is_recorded() {
    let m = Model::start();
    let p = kpi_model::mbuf::packet(&[&[0x45; 20]]);
    let q = kpi_model::mbuf::packet(&[&[0x45; 20]]);
    let sp = kpi_model::ipsec::key_newsp();
    kpi_model::epoch::with_section(|| {
        kpi_model::ipsec::ipsec4_process_packet(q, sp, std::ptr::null_mut())
    });
    assert_eq!(kpi_model::mbuf::consumed_by(p), None);
    kpi_model::mbuf::m_freem(p);
    assert_eq!(kpi_model::mbuf::consumed_by(p), Some("m_freem"));
    assert_eq!(
        kpi_model::mbuf::consumed_by(q),
        Some("ipsec4_process_packet")
    );
    assert_eq!(m.take_sent().len(), 1);
    m.assert_clean();
}
