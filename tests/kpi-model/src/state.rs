//! The per-test handle: reset, serialisation, queries and the end-of-test
//! cleanliness check.
use crate::check::{self, Violation, ViolationKind};
use std::sync::{Mutex, MutexGuard};

static TEST_LOCK: Mutex<()> = Mutex::new(());

/// A started model.  Holding it serialises the tests of one binary (the
/// model's state is global, as the kernel's is).  Dropping it does not
/// check anything: call [`Model::assert_clean`].
pub struct Model {
    _serial: MutexGuard<'static, ()>,
}

impl Model {
    /// Start a test: take the model, reset every part of it.
    pub fn start() -> Model {
        let g = TEST_LOCK.lock().unwrap_or_else(|e| e.into_inner());
        reset_all();
        Model { _serial: g }
    }

    /// Violations recorded so far.
    pub fn violations(&self) -> Vec<Violation> {
        check::violations()
    }

    /// Take (and clear) the violations recorded so far.
    pub fn take_violations(&self) -> Vec<Violation> {
        check::take()
    }

    /// Were violations of `kind` recorded? Clears them all (self-tests).
    pub fn took(&self, kind: ViolationKind) -> bool {
        check::take().iter().any(|v| v.kind == kind)
    }

    /// Everything still wrong at this point: recorded violations plus
    /// leaks (mbufs, policy references, malloc balance), held locks and
    /// open epoch sections on this thread.
    pub fn problems(&self) -> Vec<Violation> {
        let mut v = check::violations();
        for f in crate::leak_checks() {
            v.extend(f());
        }
        if crate::epoch::depth() > 0 {
            v.push(Violation { kind: ViolationKind::EpochUnbalanced, what: format!("test ends inside {} epoch section(s)", crate::epoch::depth()) });
        }
        for l in crate::sx::held() {
            v.push(Violation { kind: ViolationKind::LockMisuse, what: format!("sx {l} still held at end of test") });
        }
        for (t, n, b) in crate::malloc::live_by_type() {
            v.push(Violation { kind: ViolationKind::Malloc, what: format!("malloc type {t}: {n} allocations ({b} bytes) not freed") });
        }
        v
    }

    /// Panic (in the test thread) listing every problem, if any.
    #[track_caller]
    pub fn assert_clean(&self) {
        let p = self.problems();
        assert!(p.is_empty(), "KPI model: {} problem(s):\n{:#?}", p.len(), p);
    }

    /// The ifnet-scope SPD as `setkey -DP` shows it.
    pub fn spd_ifnet(&self) -> Vec<crate::ipsec::SpView> {
        crate::ipsec::spd_ifnet()
    }

    /// What IPsec output (ipsec4/6_process_packet) received; taken.
    pub fn take_sent(&self) -> Vec<crate::ipsec::Sent> {
        crate::ipsec::take_sent()
    }

    /// Run `f` as module code: its Rust allocations are accounted as the
    /// kernel's M_IFIPSEC malloc(9) ones and can be made to fail.  The
    /// model does this itself around every callback into the module.
    pub fn module<R>(&self, f: impl FnOnce() -> R) -> R {
        crate::malloc::in_module(f)
    }

    /// Make exactly the `n`-th (0-based) failable allocation from now fail.
    pub fn fail_alloc_nth(&self, n: u64) {
        crate::malloc::fail_nth(n)
    }

    /// Let `n` failable allocations succeed, then fail all of them.
    pub fn fail_alloc_after(&self, n: u64) {
        crate::malloc::fail_after(n)
    }

    /// Stop injecting allocation failures.
    pub fn fail_alloc_none(&self) {
        crate::malloc::fail_none()
    }

    /// (failable allocation attempts, injected failures, M_WAITOK calls).
    pub fn alloc_counts(&self) -> (u64, u64, u64) {
        crate::malloc::counts()
    }

    /// (allocations, bytes) live for malloc type `name`.
    pub fn malloc_in_use(&self, name: &str) -> (usize, usize) {
        crate::malloc::in_use(name)
    }

    /// (epoch_wait_preempt calls, module allocations inside the epoch).
    pub fn epoch_counts(&self) -> (u64, u64) {
        crate::epoch::counts()
    }

    /// priv_check(9) returns EPERM for `privilege` from now on.
    pub fn deny_priv(&self, privilege: i32) {
        crate::thread::deny_priv(privilege)
    }

    /// Privileges the module checked, in order.
    pub fn priv_checks(&self) -> Vec<i32> {
        crate::thread::priv_checks()
    }

    /// Map bytes into the fake user address space (for ifr_data pointers).
    pub fn user_alloc(&self, bytes: &[u8]) -> usize {
        crate::thread::user_alloc(bytes)
    }

    /// Read fake user memory back.
    pub fn user_read(&self, addr: usize, len: usize) -> Option<Vec<u8>> {
        crate::thread::user_read(addr, len)
    }
}

fn reset_all() {
    check::take();
    crate::malloc::reset();
    crate::epoch::reset();
    crate::sx::reset();
    crate::thread::reset();
    crate::reset_parts();
}
