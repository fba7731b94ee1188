//! The FreeBSD kernel glue of if_ipsec.
#![no_std]

extern crate alloc;
