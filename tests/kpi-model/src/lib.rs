//! Host model of the FreeBSD 14.2 KPIs that if_ipsec.ko calls.
//!
//! Every kernel/ipsec.ko symbol the module imports is defined here as a
//! `#[no_mangle] extern "C"` item behaving as the cited FreeBSD function
//! does (FreeBSD 14.2, commit b66633d79ade), plus the checks an INVARIANTS +
//! WITNESS kernel would make.  A broken contract is never a panic inside an
//! `extern "C"` function (that would abort the test binary): it is recorded
//! as a [`Violation`] that the test reads or that [`Model::assert_clean`]
//! reports.
//!
//! State is global (the module's code runs on several threads in the
//! concurrency scenarios) and reset by [`Model::start`], which also
//! serialises the tests of one binary.
// The model's `extern "C"` functions implement C KPIs: their raw pointer
// arguments carry the C contracts (the module is the caller under test).
#![allow(
    non_upper_case_globals,
    clippy::missing_safety_doc,
    clippy::not_unsafe_ptr_arg_deref
)]

pub mod check;
pub mod clone;
pub mod console;
pub mod epoch;
pub mod hhook;
pub mod ifnet;
pub mod ipsec;
pub mod kern;
pub mod keysock;
pub mod malloc;
pub mod mbuf;
pub mod netinet;
pub mod pmtu;
pub mod state;
pub mod sx;
pub mod thread;
pub mod time;
pub mod vnet;
pub mod witness;

pub use check::{Violation, ViolationKind};
pub use state::Model;

/// Reset the parts that keep their own tables (called by Model::start).
fn reset_parts() {
    hhook::reset();
    ifnet::reset();
    clone::reset();
    netinet::reset();
    pmtu::reset();
    vnet::reset();
    mbuf::reset();
    console::reset();
    kern::reset();
    ipsec::reset();
    witness::reset();
    keysock::reset();
}

/// Leak checks of the parts, run by Model::problems.
fn leak_checks() -> Vec<fn() -> Vec<Violation>> {
    vec![
        mbuf::leaks,
        ipsec::leaks,
        ifnet::leaks,
        netinet::leaks,
        keysock::leaks,
    ]
}
