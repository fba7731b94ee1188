//! The KPI wrapper layer: the only place in the crate where `unsafe` is
//! allowed.  Every `unsafe` block or impl carries a `// SAFETY:` comment.
//! Each file wraps one kernel facility; add `pub mod` lines below.

pub mod linker_set;
pub mod malloc;
pub mod module_meta;
pub mod panic;
pub mod printf;
pub mod sysinit;
