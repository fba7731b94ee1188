//! Raw FreeBSD 14.x amd64 kernel declarations: `extern "C"` functions,
//! `#[repr(C)]` structs and constants, each citing the header it mirrors and
//! the freebsd-src commit read.  Nothing here has behaviour.
#![no_std]
#![allow(non_camel_case_types)]

pub mod bpf;
pub mod encap;
pub mod epoch;
pub mod errno;
pub mod hhook;
pub mod if_clone;
pub mod ifnet;
pub mod ipsec;
pub mod ipsec_consts;
pub mod kern;
pub mod mbuf;
pub mod net;
pub mod netinet;
pub mod pmtu;
pub mod socket;
pub mod sx;
pub mod thread;
pub mod vnet;
