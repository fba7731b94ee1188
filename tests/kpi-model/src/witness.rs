//! WITNESS's lock-order check, for the model's sleepable locks, and the
//! kernel's `ifnet_detach_sxlock`.
//!
//! FreeBSD 14.2 sys/kern/subr_witness.c (b66633d79ade): every acquisition
//! of lock B while the thread holds lock A records the order A -> B; an
//! acquisition that contradicts a recorded order prints "lock order
//! reversal" (once per pair).  The model keys locks by name, as WITNESS
//! keys them by lock class name.
//!
//! sys/net/if.c: `ifnet_detach_sxlock` ("ifnet_detach_sx", SX_RECURSE) is
//! taken by if_detach, held by if_vmove_loan and vnet_if_return around
//! if_vmove (and so around the driver's if_reassign), and by vnet_destroy
//! (sys/net/vnet.c) around every VNET_SYSUNINIT.
use crate::check::{violation, ViolationKind};
use std::cell::RefCell;
use std::collections::HashSet;
use std::sync::{Condvar, Mutex};

/// The name WITNESS knows `ifnet_detach_sxlock` by.
pub const IFNET_DETACH: &str = "ifnet_detach_sx";

static ORDERS: Mutex<Option<HashSet<(String, String)>>> = Mutex::new(None);

thread_local! {
    static HELD: RefCell<Vec<String>> = const { RefCell::new(Vec::new()) };
}

pub(crate) fn reset() {
    crate::malloc::untracked(|| *ORDERS.lock().unwrap_or_else(|e| e.into_inner()) = None);
}

/// The calling thread is about to take `name`: check and record orders.
pub fn acquire(name: &str) {
    crate::malloc::untracked(|| {
        let held: Vec<String> = HELD.with(|h| h.borrow().clone());
        let mut g = ORDERS.lock().unwrap_or_else(|e| e.into_inner());
        let orders = g.get_or_insert_with(HashSet::new);
        for a in held.iter().filter(|a| a.as_str() != name) {
            if orders.contains(&(name.to_owned(), a.clone())) {
                violation(
                    ViolationKind::LockOrder,
                    format!(
                        "lock order reversal: 1st {a}, 2nd {name} (established: {name} -> {a})"
                    ),
                );
            }
            orders.insert((a.clone(), name.to_owned()));
        }
        HELD.with(|h| h.borrow_mut().push(name.to_owned()));
    });
}

/// The calling thread released `name`.
pub fn release(name: &str) {
    crate::malloc::untracked(|| {
        HELD.with(|h| {
            let mut h = h.borrow_mut();
            if let Some(i) = h.iter().rposition(|x| x == name) {
                h.remove(i);
            }
        })
    });
}

/// (owner thread key, recursion depth) of `ifnet_detach_sxlock`.
static DETACH: Mutex<(u64, usize)> = Mutex::new((0, 0));
static DETACH_FREE: Condvar = Condvar::new();

/// Run `f` holding `ifnet_detach_sxlock` (recursive, as SX_RECURSE).
pub fn with_detach_lock<R>(f: impl FnOnce() -> R) -> R {
    let me = crate::thread::key();
    acquire(IFNET_DETACH);
    crate::malloc::untracked(|| {
        let mut g = DETACH.lock().unwrap_or_else(|e| e.into_inner());
        while g.1 > 0 && g.0 != me {
            g = DETACH_FREE.wait(g).unwrap_or_else(|e| e.into_inner());
        }
        *g = (me, g.1 + 1);
    });
    struct Unlock;
    impl Drop for Unlock {
        fn drop(&mut self) {
            crate::malloc::untracked(|| {
                let mut g = DETACH.lock().unwrap_or_else(|e| e.into_inner());
                g.1 = g.1.saturating_sub(1);
                if g.1 == 0 {
                    g.0 = 0;
                    DETACH_FREE.notify_all();
                }
            });
            release(IFNET_DETACH);
        }
    }
    let _u = Unlock;
    f()
}
