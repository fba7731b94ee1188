//! Kernel-infrastructure declarations the module skeleton needs: module
//! metadata and events, SYSINIT records, malloc(9) types and functions,
//! printf(9)/log(9)/panic(9), time_second and pause(9).  Read from FreeBSD 14.2 at commit
//! b66633d79ade (releng/14.2 BETA1, `__FreeBSD_version` 1402000).

pub mod malloc;
pub mod module;
pub mod printf;
pub mod sysinit;
pub mod time;
