//! Reading the PF_KEY v2 messages the kernel's key layer sends to every
//! key socket (issue 11): what an SA event says about which SA.
//!
//! Message layout: FreeBSD 14.2 sys/net/pfkeyv2.h (b66633d79ade); which
//! messages carry which extensions: sys/netipsec/key.c (same commit), see
//! [`crate::sabook`].  Malformed input is never trusted: lengths are
//! checked against the bytes present, unknown extensions skipped, and
//! anything unreadable yields `None` (the glue then counts it and moves
//! on).

use sys_bindings::net::pfkeyv2::{
    sadb_address, sadb_ext, sadb_msg, sadb_sa, sadb_x_sa2, PF_KEY_V2, SADB_EXT_ADDRESS_DST,
    SADB_EXT_ADDRESS_SRC, SADB_EXT_LIFETIME_HARD, SADB_EXT_SA, SADB_X_EXT_NAT_T_TYPE,
    SADB_X_EXT_SA2,
};
use zerocopy::FromBytes;

use crate::addr::Addr;

/// `PFKEY_UNIT64`: lengths count 8-byte units.
const UNIT: usize = 8;

/// The `sadb_sa` fields that matter here.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SaExt {
    /// SPI, network order as on the wire.
    pub spi: u32,
    /// `SADB_SASTATE_*` (meaningful in SADB_DUMP replies).
    pub state: u8,
    /// `sadb_sa_auth` (SADB_AALG_*).
    pub auth: u8,
    /// `sadb_sa_encrypt` (SADB_EALG_*).
    pub enc: u8,
}

/// One message, reduced to what link state needs.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct KeyMsg {
    /// `sadb_msg_type`.
    pub kind: u8,
    /// `sadb_msg_errno` (nonzero: a failed request's reply).
    pub errno: u8,
    /// `sadb_msg_satype`.
    pub satype: u8,
    /// `sadb_msg_seq` (SADB_DUMP counts down to 0 on the last reply).
    pub seq: u32,
    /// `sadb_msg_pid`.
    pub pid: u32,
    /// SADB_EXT_SA.
    pub sa: Option<SaExt>,
    /// SADB_EXT_ADDRESS_SRC (port dropped).
    pub src: Option<Addr>,
    /// SADB_EXT_ADDRESS_DST (port dropped).
    pub dst: Option<Addr>,
    /// SADB_X_EXT_SA2: (mode, reqid).
    pub sa2: Option<(u8, u32)>,
    /// SADB_EXT_LIFETIME_HARD present (in SADB_EXPIRE: the hard limit).
    pub hard: bool,
    /// SADB_X_EXT_NAT_T_TYPE present: UDP-encapsulated (NAT-T).
    pub natt: bool,
}

/// Decode one message (the bytes of one socket record).
pub fn parse(bytes: &[u8]) -> Option<KeyMsg> {
    let (h, _) = sadb_msg::read_from_prefix(bytes).ok()?;
    if h.sadb_msg_version != PF_KEY_V2 {
        return None;
    }
    let total = usize::from(h.sadb_msg_len).checked_mul(UNIT)?;
    let body = bytes.get(core::mem::size_of::<sadb_msg>()..total)?;
    let mut m = KeyMsg {
        kind: h.sadb_msg_type,
        errno: h.sadb_msg_errno,
        satype: h.sadb_msg_satype,
        seq: h.sadb_msg_seq,
        pid: h.sadb_msg_pid,
        ..KeyMsg::default()
    };
    let mut rest = body;
    while !rest.is_empty() {
        let (e, _) = sadb_ext::read_from_prefix(rest).ok()?;
        let len = usize::from(e.sadb_ext_len).checked_mul(UNIT)?;
        let ext = rest.get(..len).filter(|x| x.len() >= UNIT)?;
        read_ext(&mut m, e.sadb_ext_type, ext);
        rest = rest.get(len..)?;
    }
    Some(m)
}

/// Fill `m` from one extension (unknown or short ones are ignored).
fn read_ext(m: &mut KeyMsg, kind: u16, ext: &[u8]) {
    match kind {
        SADB_EXT_SA => {
            if let Ok((s, _)) = sadb_sa::read_from_prefix(ext) {
                m.sa = Some(SaExt {
                    spi: s.sadb_sa_spi,
                    state: s.sadb_sa_state,
                    auth: s.sadb_sa_auth,
                    enc: s.sadb_sa_encrypt,
                });
            }
        }
        SADB_EXT_ADDRESS_SRC => m.src = address(ext),
        SADB_EXT_ADDRESS_DST => m.dst = address(ext),
        SADB_X_EXT_SA2 => {
            if let Ok((s, _)) = sadb_x_sa2::read_from_prefix(ext) {
                m.sa2 = Some((s.sadb_x_sa2_mode, s.sadb_x_sa2_reqid));
            }
        }
        SADB_EXT_LIFETIME_HARD => m.hard = true,
        SADB_X_EXT_NAT_T_TYPE => m.natt = true,
        _ => {}
    }
}

/// The sockaddr after a `sadb_address`.
fn address(ext: &[u8]) -> Option<Addr> {
    Addr::from_sockaddr(ext.get(core::mem::size_of::<sadb_address>()..)?)
}

/// A request of ours: a bare header (SADB_REGISTER, SADB_DUMP) for
/// `satype`, as `setkey` sends them (pfkey_send_register / pfkey_send_dump
/// in lib/libipsec/pfkey.c: version 2, length 2 units, seq and pid).
pub fn request(kind: u8, satype: u8, seq: u32) -> [u8; 16] {
    let h = sadb_msg {
        sadb_msg_version: PF_KEY_V2,
        sadb_msg_type: kind,
        sadb_msg_errno: 0,
        sadb_msg_satype: satype,
        sadb_msg_len: (core::mem::size_of::<sadb_msg>() / UNIT) as u16,
        sadb_msg_reserved: 0,
        sadb_msg_seq: seq,
        sadb_msg_pid: 0,
    };
    zerocopy::transmute!(h)
}
