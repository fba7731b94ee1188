//! IPsec constants the if_ipsec policy template and packet verdicts use.
//!
//! Values read from FreeBSD 14.2 (b66633d79ade): sys/netipsec/ipsec.h
//! (directions, policy, level, mode, upper-layer "any", manual reqid limit,
//! policy scopes, SP states), sys/net/pfkeyv2.h (SA states),
//! sys/netinet/in.h (IPPROTO_ESP).

/// `IPSEC_DIR_ANY`.
pub const IPSEC_DIR_ANY: u8 = 0;
/// `IPSEC_DIR_INBOUND`.
pub const IPSEC_DIR_INBOUND: u8 = 1;
/// `IPSEC_DIR_OUTBOUND`.
pub const IPSEC_DIR_OUTBOUND: u8 = 2;
/// `IPSEC_POLICY_IPSEC`: do IPsec.
pub const IPSEC_POLICY_IPSEC: u32 = 2;
/// `IPSEC_LEVEL_UNIQUE`: unique SA (bound by reqid).
pub const IPSEC_LEVEL_UNIQUE: u32 = 3;
/// `IPSEC_MODE_TUNNEL`.
pub const IPSEC_MODE_TUNNEL: u8 = 2;
/// `IPSEC_ULPROTO_ANY`: any upper-layer protocol in a selector.
pub const IPSEC_ULPROTO_ANY: u8 = 255;
/// `IPSEC_MANUAL_REQID_MAX`: reqids above are the kernel's automatic range.
pub const IPSEC_MANUAL_REQID_MAX: u32 = 0x3fff;
/// `IPSEC_POLICYSCOPE_GLOBAL`.
pub const IPSEC_POLICYSCOPE_GLOBAL: u8 = 0x01;
/// `IPSEC_POLICYSCOPE_IFNET`: if_ipsec(4) scope.
pub const IPSEC_POLICYSCOPE_IFNET: u8 = 0x02;
/// `IPSEC_SPSTATE_DEAD`.
pub const IPSEC_SPSTATE_DEAD: u8 = 0;
/// `IPSEC_SPSTATE_IFNET`: registered with key_register_ifnet.
pub const IPSEC_SPSTATE_IFNET: u8 = 4;
/// `IPPROTO_ESP`.
pub const IPPROTO_ESP: u8 = 50;
/// `SADB_SASTATE_LARVAL`.
pub const SADB_SASTATE_LARVAL: u8 = 0;
/// `SADB_SASTATE_MATURE`.
pub const SADB_SASTATE_MATURE: u8 = 1;
/// `SADB_SASTATE_DYING`.
pub const SADB_SASTATE_DYING: u8 = 2;
/// `SADB_SASTATE_DEAD`.
pub const SADB_SASTATE_DEAD: u8 = 3;
