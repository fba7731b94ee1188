//! The KPI wrapper layer: the only place in the crate where `unsafe` is
//! allowed.  Every `unsafe` block or impl carries a `// SAFETY:` comment.
//! Each file wraps one kernel facility; add `pub mod` lines below.

pub mod bpf;
pub mod clone;
pub mod encap;
pub mod epoch;
pub mod epoch_slot;
pub mod hhook;
pub mod if_handler;
pub mod ifnet;
pub mod ifnet_ext;
pub mod inet;
pub mod inflight;
pub mod keysock;
pub mod linker_set;
pub mod malloc;
pub mod mbuf;
pub mod module_meta;
pub mod panic;
pub mod pmtu;
pub mod printf;
pub mod secpolicy;
pub mod sx;
pub mod sysinit;
pub mod thread;
pub mod time;
pub mod tryalloc;
pub mod vnet;
pub mod vnet_sysinit;
