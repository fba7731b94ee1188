//! Contract violations: what a FreeBSD INVARIANTS/WITNESS kernel would have
//! panicked on (or what would have been a silent bug there).
use std::sync::Mutex;

/// The class of a broken contract, so self-tests can assert the exact one.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ViolationKind {
    /// An mbuf freed twice, or a freed mbuf handed to a KPI.
    MbufDoubleFree,
    /// An mbuf still allocated at the end of a test.
    MbufLeak,
    /// A policy released more often than referenced, or freed while
    /// registered.
    RefcountUnderflow,
    /// A policy still referenced at the end of a test.
    RefcountLeak,
    /// epoch exit without enter, or with another tracker.
    EpochUnbalanced,
    /// Something that may sleep was called inside an epoch section.
    SleepInEpoch,
    /// A packet-path KPI was called outside the net epoch.
    NotInEpoch,
    /// sx misuse: unlock by non-owner, recursion, destroy while held,
    /// failed sx_assert.
    LockMisuse,
    /// malloc/free: foreign pointer, wrong type, double free, leak.
    Malloc,
    /// Anything else a KASSERT would catch (bad arguments).
    BadArgument,
    /// A NULL pointer the kernel would dereference (Fatal trap 12).
    NullDeref,
    /// Two locks taken in both orders (WITNESS: "lock order reversal").
    LockOrder,
    /// A kernel loop that would never end (e.g. if_clone_detach retrying
    /// a destroy that keeps failing: kldunload hangs).
    Hang,
}

/// One recorded violation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Violation {
    pub kind: ViolationKind,
    pub what: String,
}

static VIOLATIONS: Mutex<Vec<Violation>> = Mutex::new(Vec::new());

/// Record a violation (called by the model's KPIs).
pub fn violation(kind: ViolationKind, what: impl Into<String>) {
    let what = what.into();
    crate::malloc::untracked(|| {
        let mut v = VIOLATIONS.lock().unwrap_or_else(|e| e.into_inner());
        v.push(Violation { kind, what });
    });
}

/// All violations since the last reset.
pub fn violations() -> Vec<Violation> {
    crate::malloc::untracked(|| VIOLATIONS.lock().unwrap_or_else(|e| e.into_inner()).clone())
}

/// Take (and clear) the violations.
pub fn take() -> Vec<Violation> {
    crate::malloc::untracked(|| {
        std::mem::take(&mut *VIOLATIONS.lock().unwrap_or_else(|e| e.into_inner()))
    })
}
