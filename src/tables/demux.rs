//! Input demultiplexing: which interface a decrypted packet belongs to.
//!
//! FreeBSD 14.2 sys/net/if_ipsec.c (b66633d79ade) ipsec_if_input walks the
//! 32-bucket chain of the SA's reqid and takes the softc whose inbound
//! saidx has the same reqid, dst and src as the SA (key_sockaddrcmp with
//! port 0).  reqids are unique among this module's interfaces in a VNET
//! (see `reqid`), so the table maps reqid -> (interface, inbound SA src,
//! inbound SA dst) and a lookup is one get plus two address compares.
//! Only interfaces with a tunnel are in the table (C skips `family == 0`).

use super::cowmap::MapRead;
use super::IfHandle;
use crate::addr::Addr;

/// Value of the demux table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DemuxEntry {
    /// The interface.
    pub handle: IfHandle,
    /// Inbound SA source = the tunnel's remote address.
    pub sa_src: Addr,
    /// Inbound SA destination = the tunnel's local address.
    pub sa_dst: Addr,
}

/// The interface whose inbound policy matches an SA's (reqid, src, dst);
/// mirrors the lookup loop of if_ipsec.c ipsec_if_input.
pub fn input_lookup<M>(demux: &M, reqid: u32, sa_src: &Addr, sa_dst: &Addr) -> Option<IfHandle>
where
    M: MapRead<u32, DemuxEntry> + ?Sized,
{
    let e = demux.get(&reqid)?;
    (e.sa_dst == *sa_dst && e.sa_src == *sa_src).then_some(e.handle)
}
