//! What ESP tunnel mode adds to an inner packet, per transform (issue 12,
//! PMTU feedback), and the largest inner packet a path MTU carries.
//!
//! Sources (FreeBSD 14.2 b66633d79ade; the same text in opnsense/src
//! 05bc0fe4bd49):
//! - sys/netipsec/xform_esp.c esp_init: `sav->ivlen` is 8 for AES-CTR,
//!   AES-GCM and ChaCha20-Poly1305 (RFC 4106 3.1, RFC 3686 3.1), else the
//!   cipher's `ivsize` (0 for null);
//! - esp_output: `blks = MAX(4, blocksize)` (AES-CTR: the native 16 while
//!   net.inet.esp.ctr_compatibility is 1, the default); `padding =
//!   ((blks - ((rlen + 2) % blks)) % blks) + 2` (pad + pad length + next
//!   header); header `sizeof(struct newesp)` = 8 plus the IV; ICV
//!   `xform_ah_authsize` (sys/netipsec/xform_ah.c): SHA2 HMACs half their
//!   hash (RFC 4868), GMAC and Poly1305 16, the rest 12;
//! - AES-GCM and ChaCha20-Poly1305 bring their own 16-byte ICV whatever
//!   the SA's auth field says (esp_init picks the GMAC/Poly1305 auth);
//! - sys/netipsec/ipsec_output.c ipsec_process_done: NAT-T adds a UDP
//!   header (8), IPv4 only (udp_ipsec_output);
//! - the outer IP header: 20 (no options) or 40.
//!
//! Block sizes and IV sizes: sys/opencrypto/xform_null.c (4, 0),
//! xform_aes_cbc.c (16, 16), xform_aes_icm.c (1, native 16),
//! xform_gcm.c (1), xform_chacha20_poly1305.c (1).
//!
//! The kernel's own estimate (esp_hdrsiz in xform_esp.c) is fixed: the
//! cipher's block size plus 9 and the auth header size with an SA, 49
//! bytes without one (no NAT-T, ICVs above 16 bytes not counted); this is
//! exact for the payload at hand.

use crate::addr::Family;
use sys_bindings::net::pfkeyv2 as k;

/// The transform of an ESP SA, as PF_KEY announces it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Transform {
    /// `sadb_sa_encrypt` (SADB_EALG_* / SADB_X_EALG_*).
    pub enc: u8,
    /// `sadb_sa_auth` (SADB_AALG_* / SADB_X_AALG_*).
    pub auth: u8,
    /// UDP encapsulation (SADB_X_EXT_NAT_T_TYPE present).
    pub natt: bool,
}

/// ESP's per-transform sizes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Esp {
    /// IV bytes on the wire.
    pub iv: u32,
    /// Padding block (payload + 2 is a multiple of it).
    pub blks: u32,
    /// ICV bytes.
    pub icv: u32,
}

/// The largest sizes of any transform FreeBSD 14.2 offers (AES-CBC with
/// HMAC-SHA2-512): used while the SA is not known.
pub const WORST: Esp = Esp {
    iv: 16,
    blks: 16,
    icv: 32,
};

const ESP_HDR: u32 = 8;
const UDP_HDR: u32 = 8;

impl Transform {
    /// ESP's sizes for this transform; `None` for an algorithm this does
    /// not know (callers use [`WORST`]).
    pub fn esp(&self) -> Option<Esp> {
        let (iv, blks, aead) = match self.enc {
            k::SADB_EALG_NULL => (0, 4, false),
            k::SADB_X_EALG_AESCBC => (16, 16, false),
            k::SADB_X_EALG_AESCTR => (8, 16, false),
            k::SADB_X_EALG_AESGCM16 | k::SADB_X_EALG_CHACHA20POLY1305 => (8, 4, true),
            _ => return None,
        };
        let icv = if aead { 16 } else { icv(self.auth)? };
        Some(Esp { iv, blks, icv })
    }
}

/// `xform_ah_authsize` by SADB auth algorithm.
fn icv(auth: u8) -> Option<u32> {
    Some(match auth {
        k::SADB_AALG_NONE => 0,
        k::SADB_X_AALG_SHA2_256 => 16,
        k::SADB_X_AALG_SHA2_384 => 24,
        k::SADB_X_AALG_SHA2_512 => 32,
        k::SADB_X_AALG_AES128GMAC | k::SADB_X_AALG_AES192GMAC | k::SADB_X_AALG_AES256GMAC => 16,
        k::SADB_AALG_MD5HMAC
        | k::SADB_AALG_SHA1HMAC
        | k::SADB_X_AALG_AES_XCBC_MAC
        | k::SADB_X_AALG_NULL => 12,
        _ => return None,
    })
}

/// The bytes in front of and behind the payload that do not depend on
/// its length: outer header, UDP, ESP header, IV, ICV, and the 2 trailer
/// bytes.
fn fixed(outer: Family, esp: &Esp, natt: bool) -> u32 {
    let ip = match outer {
        Family::Inet => 20,
        Family::Inet6 => 40,
    };
    let udp = if natt && outer == Family::Inet {
        UDP_HDR
    } else {
        0
    };
    ip + udp + ESP_HDR + esp.iv + esp.icv + 2
}

/// Bytes ESP tunnel mode adds to an inner packet of `len` bytes.
pub fn overhead(outer: Family, t: Option<&Transform>, len: u32) -> u32 {
    let (esp, natt) = sizes(t);
    let pad = (esp.blks - (len + 2) % esp.blks) % esp.blks;
    fixed(outer, &esp, natt) + pad
}

/// The largest inner packet whose ESP packet fits `path_mtu` (0 if none
/// does).
pub fn inner_mtu(outer: Family, t: Option<&Transform>, path_mtu: u32) -> u32 {
    let (esp, natt) = sizes(t);
    let room = path_mtu.saturating_sub(fixed(outer, &esp, natt));
    // payload + 2 trailer bytes must be a multiple of blks: the trailer's
    // 2 bytes are already in `fixed`, so the payload is the largest n with
    // n + 2 <= room + 2 and (n + 2) % blks == 0.
    ((room + 2) / esp.blks * esp.blks).saturating_sub(2)
}

fn sizes(t: Option<&Transform>) -> (Esp, bool) {
    match t {
        Some(t) => (t.esp().unwrap_or(WORST), t.natt),
        None => (WORST, true),
    }
}
