//! The interface glue: what turns the core's decisions into a FreeBSD
//! network interface (C: sys/net/if_ipsec.c, FreeBSD 14.2, b66633d79ade).
//!
//! - [`vnet`]: load/unload, per VNET and global;
//! - [`cloner`]: `ifconfig ipsecN create/destroy`;
//! - [`ioctl`]: configuration requests; [`config`]: executing the core's
//!   transition plans;
//! - [`output`], [`input`], [`srcaddr`]: packet paths and address events;
//! - [`linkstate`]: link state from the SAs (PF_KEY listener);
//! - [`reassign`]: an interface moving to another VNET;
//! - [`softc`], [`state`], [`tables`], [`epoch_map`]: the data they share.
pub mod cloner;
pub mod config;
pub mod dfbit;
pub mod epoch_map;
pub mod ifops;
pub mod input;
pub mod ioctl;
pub mod linkstate;
pub mod output;
pub mod pathmtu;
pub mod reassign;
pub mod softc;
pub mod srcaddr;
pub mod state;
pub mod tables;
pub mod vnet;
