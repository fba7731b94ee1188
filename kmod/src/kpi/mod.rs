//! The KPI wrapper layer: the only place in the crate where `unsafe` is
//! allowed.  Every `unsafe` block or impl carries a `// SAFETY:` comment.
//! Each file wraps one kernel facility; add `pub mod` lines below.

pub mod linker_set;
pub mod malloc;
pub mod module_meta;
pub mod panic;
pub mod printf;
pub mod sysinit;
pub mod bpf;
pub mod epoch;
pub mod ifnet;
pub mod mbuf;
pub mod rcu;
pub mod sx;
pub mod thread;
pub mod secpolicy;
pub mod clone;
pub mod encap;
pub mod hhook;
pub mod ifnet_ext;
pub mod inet;
pub mod tryalloc;
pub mod vnet_sysinit;
pub mod vnet;
pub mod epoch_slot;
