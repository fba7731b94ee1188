//! PF_KEY v2 messages (RFC 2367 as FreeBSD extends it): the structs and
//! numbers if_ipsec reads from its in-kernel key socket (issue 11) and
//! the few it sends (SADB_REGISTER, SADB_DUMP).
//!
//! Read from FreeBSD 14.2 (b66633d79ade) sys/net/pfkeyv2.h (installed as
//! /usr/include/net/pfkeyv2.h in the 14.2 sysroot): `struct sadb_msg`,
//! `sadb_ext`, `sadb_sa`, `sadb_lifetime`, `sadb_address`, `sadb_x_sa2`
//! and the `SADB_*` numbers; sys/sys/socket.h for `PF_KEY`/`SOCK_RAW`.
//! Every length field counts 8-byte units (`PFKEY_UNIT64`).  Multi-byte
//! fields are in host order (amd64: little-endian); the SPI is in network
//! order, as the kernel stores it.

use core::mem::size_of;
use static_assertions::const_assert_eq;
use zerocopy::{FromBytes, Immutable, IntoBytes, KnownLayout};

/// `PF_KEY` (= `pseudo_AF_KEY`), sys/sys/socket.h.
pub const PF_KEY: i32 = 27;
/// `SOCK_RAW`, sys/sys/socket.h.
pub const SOCK_RAW: i32 = 3;
/// `PF_KEY_V2`: the protocol and `sadb_msg_version`.
pub const PF_KEY_V2: u8 = 2;

/// `SADB_UPDATE`.
pub const SADB_UPDATE: u8 = 2;
/// `SADB_ADD`.
pub const SADB_ADD: u8 = 3;
/// `SADB_DELETE`.
pub const SADB_DELETE: u8 = 4;
/// `SADB_REGISTER`.
pub const SADB_REGISTER: u8 = 7;
/// `SADB_EXPIRE`.
pub const SADB_EXPIRE: u8 = 8;
/// `SADB_FLUSH`.
pub const SADB_FLUSH: u8 = 9;
/// `SADB_DUMP`.
pub const SADB_DUMP: u8 = 10;

/// `SADB_EXT_SA`.
pub const SADB_EXT_SA: u16 = 1;
/// `SADB_EXT_LIFETIME_HARD`.
pub const SADB_EXT_LIFETIME_HARD: u16 = 3;
/// `SADB_EXT_LIFETIME_SOFT`.
pub const SADB_EXT_LIFETIME_SOFT: u16 = 4;
/// `SADB_EXT_ADDRESS_SRC`.
pub const SADB_EXT_ADDRESS_SRC: u16 = 5;
/// `SADB_EXT_ADDRESS_DST`.
pub const SADB_EXT_ADDRESS_DST: u16 = 6;
/// `SADB_X_EXT_SA2`: mode and reqid.
pub const SADB_X_EXT_SA2: u16 = 19;

/// `SADB_X_EXT_NAT_T_TYPE`: present on UDP-encapsulated (NAT-T) SAs.
pub const SADB_X_EXT_NAT_T_TYPE: u16 = 20;

/// `SADB_AALG_NONE`.
pub const SADB_AALG_NONE: u8 = 0;
/// `SADB_AALG_MD5HMAC`.
pub const SADB_AALG_MD5HMAC: u8 = 2;
/// `SADB_AALG_SHA1HMAC`.
pub const SADB_AALG_SHA1HMAC: u8 = 3;
/// `SADB_X_AALG_SHA2_256`.
pub const SADB_X_AALG_SHA2_256: u8 = 5;
/// `SADB_X_AALG_SHA2_384`.
pub const SADB_X_AALG_SHA2_384: u8 = 6;
/// `SADB_X_AALG_SHA2_512`.
pub const SADB_X_AALG_SHA2_512: u8 = 7;
/// `SADB_X_AALG_AES_XCBC_MAC` (RFC 3566).
pub const SADB_X_AALG_AES_XCBC_MAC: u8 = 9;
/// `SADB_X_AALG_AES128GMAC` (RFC 4543).
pub const SADB_X_AALG_AES128GMAC: u8 = 11;
/// `SADB_X_AALG_AES192GMAC`.
pub const SADB_X_AALG_AES192GMAC: u8 = 12;
/// `SADB_X_AALG_AES256GMAC`.
pub const SADB_X_AALG_AES256GMAC: u8 = 13;
/// `SADB_X_AALG_NULL`: null authentication.
pub const SADB_X_AALG_NULL: u8 = 251;

/// `SADB_EALG_NULL`.
pub const SADB_EALG_NULL: u8 = 11;
/// `SADB_X_EALG_AESCBC`.
pub const SADB_X_EALG_AESCBC: u8 = 12;
/// `SADB_X_EALG_AESCTR`.
pub const SADB_X_EALG_AESCTR: u8 = 13;
/// `SADB_X_EALG_CHACHA20POLY1305`.
pub const SADB_X_EALG_CHACHA20POLY1305: u8 = 15;
/// `SADB_X_EALG_AESGCM16` (RFC 4106, 16-byte ICV).
pub const SADB_X_EALG_AESGCM16: u8 = 20;

/// `SADB_SATYPE_UNSPEC` (FLUSH / DUMP of every type).
pub const SADB_SATYPE_UNSPEC: u8 = 0;
/// `SADB_SATYPE_ESP`.
pub const SADB_SATYPE_ESP: u8 = 3;

/// `struct sadb_msg`: the header of every message.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, FromBytes, IntoBytes, KnownLayout, Immutable)]
pub struct sadb_msg {
    pub sadb_msg_version: u8,
    pub sadb_msg_type: u8,
    pub sadb_msg_errno: u8,
    pub sadb_msg_satype: u8,
    /// Whole message, in 8-byte units.
    pub sadb_msg_len: u16,
    pub sadb_msg_reserved: u16,
    pub sadb_msg_seq: u32,
    pub sadb_msg_pid: u32,
}

/// `struct sadb_ext`: the head of every extension.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, FromBytes, IntoBytes, KnownLayout, Immutable)]
pub struct sadb_ext {
    /// Whole extension, in 8-byte units.
    pub sadb_ext_len: u16,
    pub sadb_ext_type: u16,
}

/// `struct sadb_sa`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, FromBytes, IntoBytes, KnownLayout, Immutable)]
pub struct sadb_sa {
    pub sadb_sa_len: u16,
    pub sadb_sa_exttype: u16,
    /// Network order.
    pub sadb_sa_spi: u32,
    pub sadb_sa_replay: u8,
    pub sadb_sa_state: u8,
    pub sadb_sa_auth: u8,
    pub sadb_sa_encrypt: u8,
    pub sadb_sa_flags: u32,
}

/// `struct sadb_address`, followed by the sockaddr.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, FromBytes, IntoBytes, KnownLayout, Immutable)]
pub struct sadb_address {
    pub sadb_address_len: u16,
    pub sadb_address_exttype: u16,
    pub sadb_address_proto: u8,
    pub sadb_address_prefixlen: u8,
    pub sadb_address_reserved: u16,
}

/// `struct sadb_x_sa2`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, FromBytes, IntoBytes, KnownLayout, Immutable)]
pub struct sadb_x_sa2 {
    pub sadb_x_sa2_len: u16,
    pub sadb_x_sa2_exttype: u16,
    /// `IPSEC_MODE_*` (netipsec/ipsec.h).
    pub sadb_x_sa2_mode: u8,
    pub sadb_x_sa2_reserved1: u8,
    pub sadb_x_sa2_reserved2: u16,
    pub sadb_x_sa2_sequence: u32,
    pub sadb_x_sa2_reqid: u32,
}

const_assert_eq!(size_of::<sadb_msg>(), 16);
const_assert_eq!(size_of::<sadb_ext>(), 4);
const_assert_eq!(size_of::<sadb_sa>(), 16);
const_assert_eq!(size_of::<sadb_address>(), 8);
const_assert_eq!(size_of::<sadb_x_sa2>(), 16);
const_assert_eq!(core::mem::offset_of!(sadb_msg, sadb_msg_seq), 8);
const_assert_eq!(core::mem::offset_of!(sadb_sa, sadb_sa_state), 9);
const_assert_eq!(core::mem::offset_of!(sadb_x_sa2, sadb_x_sa2_reqid), 12);
