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
//! - [`sadb`], [`sabook`]: PF_KEY messages and the SAs they announce, which
//!   give an interface its link state and its ESP overhead;
//! - [`mss`], [`overhead`]: TCP MSS clamping and ESP overhead arithmetic
//!   (PMTU feedback);
//! - [`iface`], [`state`], [`vnet`], [`tx`]: interface state, transitions,
//!   their ordered effects and the prepared transaction.
//!
//! How the glue drives it (all configuration under the module's sx):
//! - clone create: [`names::parse_name`], [`vnet::Vnet::choose_unit`],
//!   [`vnet::Vnet::create`]; destroy: [`vnet::Vnet::prepare_destroy`];
//! - ioctl: [`ioctl::decode`] then, per [`ioctl::Command`], a
//!   `Vnet::prepare_*` (tunnel: after [`endpoint::Tunnel::embed_scope`]),
//!   or [`ioctl::reply_addr`] + [`ioctl::encode_addr`] / [`ioctl::encode_fib`];
//! - a prepared [`vnet::Tx`]: execute [`vnet::Tx::plan`] in order
//!   ([`state::Effect`]; table pieces from [`vnet::Tx::take_tables`] via
//!   [`tables::TablesUpdate::into_pieces`]), then [`vnet::Vnet::finish`];
//!   if RegisterPolicies fails, drop the Tx: nothing changed;
//! - packet path (net epoch, no locks): [`verdict::output_admission`];
//!   [`verdict::input_precheck`], [`tables::input_lookup`],
//!   [`verdict::input_admission`]; address events:
//!   [`tables::for_each_src`].
#![no_std]
#![forbid(unsafe_code)]

extern crate alloc;

pub mod addr;
pub mod endpoint;
pub mod errno;
pub mod fallible;
pub mod iface;
pub mod ioctl;
pub mod kernel;
pub mod mss;
pub mod names;
pub mod overhead;
pub mod policy;
pub mod reqid;
pub mod sabook;
pub mod sadb;
pub mod state;
pub mod tables;
pub mod tx;
pub mod verdict;
pub mod vnet;

pub use errno::{Errno, Result};
