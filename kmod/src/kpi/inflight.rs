//! Calls into the module the kernel makes without the net epoch and
//! without a module reference: if_ioctl (if.c ifioctl holds only an ifnet
//! reference), the cloner's create/destroy and if_reassign.  A thread can
//! still be inside one of them when kldunload has destroyed every
//! interface (if_dead swaps the methods only for later callers), and the
//! module's text and configuration lock must outlive it (issue 8; C's
//! ipsec.ko counts its entries the same way: ipsec_kmod_enter /
//! ipsec_kmod_drain, sys/netipsec/subr_ipsec.c, b66633d79ade).
//!
//! Every trampoline holds an [`Entered`] for its whole run; the last
//! SYSUNINIT [`drain`]s before it destroys the lock.  What no counter can
//! cover is a thread that loaded `ifp->if_ioctl` before if_dead and has
//! not executed our first instruction yet; the drain's final pause makes
//! that window a clock tick wide, as for any FreeBSD driver module.
use super::epoch::Sleepable;
use super::time::pause_ticks;
use core::sync::atomic::{AtomicUsize, Ordering};

static INFLIGHT: AtomicUsize = AtomicUsize::new(0);

/// One thread inside the module; leaves on drop.
pub struct Entered(());

impl Drop for Entered {
    fn drop(&mut self) {
        INFLIGHT.fetch_sub(1, Ordering::Release);
    }
}

/// Count the calling thread in.
#[inline]
pub fn enter() -> Entered {
    INFLIGHT.fetch_add(1, Ordering::Acquire);
    Entered(())
}

/// Threads inside the module now.
pub fn count() -> usize {
    INFLIGHT.load(Ordering::Acquire)
}

/// Wait (sleeping a tick at a time) until no thread is inside, then one
/// tick more for a caller that was about to enter.
pub fn drain(s: &mut Sleepable) {
    while count() != 0 {
        pause_ticks(s, c"ipsecdrn", 1);
    }
    pause_ticks(s, c"ipsecdrn", 1);
}
