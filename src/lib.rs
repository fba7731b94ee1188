//! if_ipsec core: the safe, pure policy logic of a route-based IPsec
//! interface.  No `unsafe`, no raw pointers: the kernel glue in `kmod/`
//! moves bytes between this crate and the FreeBSD KPIs.
//!
//! Modules:
//! - [`errno`]: the `Errno` error type;
//! - [`addr`]: outer addresses, families, IPv6 scope embedding;
//! - [`endpoint`]: tunnel endpoints from SIOCSIFPHYADDR\[_IN6\];
//! - [`policy`]: the policy template and the four policies it yields;
//! - [`reqid`]: reqid rules and per-VNET automatic allocation;
//! - [`names`]: cloner names and unit allocation;
//! - [`ioctl`]: request decoding and reply encoding;
//! - [`verdict`]: output admission and input decisions;
//! - [`tables`]: the epoch-readable lookup tables (and how to publish);
//! - [`iface`], [`state`], [`vnet`]: interface state, transitions and
//!   their ordered effects.
#![no_std]
#![forbid(unsafe_code)]

extern crate alloc;

pub mod addr;
pub mod endpoint;
pub mod errno;
pub mod iface;
pub mod ioctl;
pub mod names;
pub mod policy;
pub mod reqid;
pub mod state;
pub mod tables;
pub mod verdict;
pub mod vnet;

pub use errno::{Errno, Result};
