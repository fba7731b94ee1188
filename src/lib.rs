//! if_ipsec core: the safe, pure policy logic of a route-based IPsec
//! interface.  No `unsafe`, no raw pointers: the kernel glue in `kmod/`
//! moves bytes between this crate and the FreeBSD KPIs.
#![no_std]
#![forbid(unsafe_code)]

extern crate alloc;
