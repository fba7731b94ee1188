//! TCP MSS clamping (issue 12): lower the MSS option of a SYN or SYN-ACK
//! crossing the interface to what the tunnel can carry, so TCP never
//! sends segments that need fragmenting or an ICMP that may be filtered.
//!
//! The stock C driver has no such thing; FreeBSD's only answer is pf's
//! `scrub max-mss` (sys/netpfil/pf/pf_norm.c pf_normalize_mss, FreeBSD
//! 14.2 b66633d79ade), which this mirrors in what it changes: the MSS
//! value and the TCP checksum, nothing else.  The checksum is updated
//! incrementally (RFC 1624, eqn. 3) over the bytes changed, wherever the
//! option sits relative to the 16-bit words the checksum sums.
//!
//! Input is the packet's leading bytes (IP header, extension headers, TCP
//! header with options), writable.  Anything that does not parse is left
//! alone: a clamp never makes a packet worse.

use crate::addr::Family;

/// IPv4 header without options + TCP header without options.
pub const V4_HEADERS: u32 = 40;
/// IPv6 header + TCP header without options.
pub const V6_HEADERS: u32 = 60;
/// Longest header run a clamp ever reads: IPv6 (40) + a few extension
/// headers + TCP with options (60).  The glue hands over at most this.
pub const MAX_HEADERS: usize = 256;

const IPPROTO_TCP: u8 = 6;
const TCPOPT_EOL: u8 = 0;
const TCPOPT_NOP: u8 = 1;
const TCPOPT_MAXSEG: u8 = 2;
const TH_SYN: u8 = 0x02;
/// IPv6 extension headers skipped on the way to TCP.
const HOPOPTS: u8 = 0;
const ROUTING: u8 = 43;
const DSTOPTS: u8 = 60;

/// The MSS an interface of `mtu` allows for `inner` (MTU minus the
/// IP and TCP headers), saturating at 0.
pub fn limit(inner: Family, mtu: u32) -> u16 {
    let h = match inner {
        Family::Inet => V4_HEADERS,
        Family::Inet6 => V6_HEADERS,
    };
    u16::try_from(mtu.saturating_sub(h)).unwrap_or(u16::MAX)
}

/// What a clamp did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Clamp {
    /// Not a TCP segment with SYN (or a later fragment): untouched.
    NotSyn,
    /// A SYN without an MSS option, or with one at or below the limit.
    Untouched,
    /// The headers are longer than the bytes given (the glue could not
    /// see them contiguously): untouched.
    Short,
    /// Malformed headers or options: untouched.
    Malformed,
    /// MSS lowered from `from` to `to`.
    Clamped {
        /// Value found.
        from: u16,
        /// Value written.
        to: u16,
    },
}

/// Clamp the MSS option of the IP packet starting at `pkt[0]` to
/// `limit(family, mtu)`.  `csum_partial`: the TCP checksum field holds
/// only the pseudo-header sum (CSUM_DELAY_DATA: the stack computes the
/// rest later), so it must not be adjusted.
pub fn clamp(pkt: &mut [u8], mtu: u32, csum_partial: bool) -> Clamp {
    let (family, th) = match tcp_offset(pkt) {
        Ok(x) => x,
        Err(c) => return c,
    };
    clamp_tcp(pkt, th, limit(family, mtu), csum_partial)
}

/// Is this a TCP segment with SYN that [`clamp`] would look at?  A
/// read-only test for the packet path: most packets stop here.
pub fn is_syn(pkt: &[u8]) -> bool {
    // Quick reject on the protocol byte before any parsing.
    let maybe = match pkt.first().map(|b| b >> 4) {
        Some(4) => pkt.get(9) == Some(&IPPROTO_TCP),
        Some(6) => matches!(
            pkt.get(6).copied(),
            Some(IPPROTO_TCP | HOPOPTS | ROUTING | DSTOPTS)
        ),
        _ => false,
    };
    maybe
        && tcp_offset(pkt)
            .ok()
            .and_then(|(_, th)| pkt.get(th + 13))
            .is_some_and(|f| f & TH_SYN != 0)
}

/// Where the TCP header starts, for a TCP packet that is not a later
/// fragment.
fn tcp_offset(pkt: &[u8]) -> Result<(Family, usize), Clamp> {
    let v = pkt.first().ok_or(Clamp::Short)? >> 4;
    match v {
        4 => v4_tcp(pkt).map(|o| (Family::Inet, o)),
        6 => v6_tcp(pkt).map(|o| (Family::Inet6, o)),
        _ => Err(Clamp::NotSyn),
    }
}

fn byte(pkt: &[u8], i: usize) -> Result<u8, Clamp> {
    pkt.get(i).copied().ok_or(Clamp::Short)
}

fn v4_tcp(pkt: &[u8]) -> Result<usize, Clamp> {
    let ihl = usize::from(byte(pkt, 0)? & 0x0f) * 4;
    if ihl < 20 {
        return Err(Clamp::Malformed);
    }
    if byte(pkt, 9)? != IPPROTO_TCP {
        return Err(Clamp::NotSyn);
    }
    // Fragment offset (13 bits) or MF: only a whole datagram is clamped
    // (pf_normalize_mss runs after reassembly, too).
    let frag = u16::from_be_bytes([byte(pkt, 6)?, byte(pkt, 7)?]) & 0x3fff;
    if frag != 0 {
        return Err(Clamp::NotSyn);
    }
    Ok(ihl)
}

/// IPv6: skip hop-by-hop, routing and destination options headers; a
/// fragment header means a fragment (left alone).
fn v6_tcp(pkt: &[u8]) -> Result<usize, Clamp> {
    let mut next = byte(pkt, 6)?;
    let mut off = 40usize;
    for _ in 0..8 {
        match next {
            IPPROTO_TCP => return Ok(off),
            HOPOPTS | ROUTING | DSTOPTS => {
                next = byte(pkt, off)?;
                off += (usize::from(byte(pkt, off + 1)?) + 1) * 8;
            }
            _ => return Err(Clamp::NotSyn),
        }
    }
    Err(Clamp::NotSyn)
}

/// The TCP part: SYN check, option walk, rewrite.
fn clamp_tcp(pkt: &mut [u8], th: usize, limit: u16, csum_partial: bool) -> Clamp {
    let (flags, doff) = match (byte(pkt, th + 13), byte(pkt, th + 12)) {
        (Ok(f), Ok(d)) => (f, usize::from(d >> 4) * 4),
        _ => return Clamp::Short,
    };
    if flags & TH_SYN == 0 {
        return Clamp::NotSyn;
    }
    if doff < 20 {
        return Clamp::Malformed;
    }
    if pkt.len() < th + doff {
        return Clamp::Short;
    }
    let Some(at) = find_mss(pkt.get(th + 20..th + doff).unwrap_or(&[])) else {
        return Clamp::Untouched;
    };
    let at = match at {
        Ok(a) => th + 20 + a,
        Err(()) => return Clamp::Malformed,
    };
    let Some(from) = read16(pkt, at) else {
        return Clamp::Short;
    };
    if from <= limit {
        return Clamp::Untouched;
    }
    write_mss(pkt, th, at, from, limit, csum_partial);
    Clamp::Clamped { from, to: limit }
}

/// Offset (in `opts`) of the MSS value; `Some(Err)` for a malformed
/// option list before it, `None` if there is none.
fn find_mss(opts: &[u8]) -> Option<Result<usize, ()>> {
    let mut i = 0usize;
    while let Some(&kind) = opts.get(i) {
        match kind {
            TCPOPT_EOL => return None,
            TCPOPT_NOP => i += 1,
            _ => {
                let len = usize::from(*opts.get(i + 1)?);
                if len < 2 || i + len > opts.len() {
                    return Some(Err(()));
                }
                if kind == TCPOPT_MAXSEG && len == 4 {
                    return Some(Ok(i + 2));
                }
                i += len;
            }
        }
    }
    None
}

/// Write `to` at `at` and fix the TCP checksum (at th+16) incrementally:
/// each changed byte weighs 2^8 or 1 by its parity relative to the TCP
/// header start (the checksum's words start there: the pseudo-header is
/// a whole number of words).
fn write_mss(pkt: &mut [u8], th: usize, at: usize, from: u16, to: u16, csum_partial: bool) {
    let (old, new) = (from.to_be_bytes(), to.to_be_bytes());
    if let Some(b) = pkt.get_mut(at..at + 2) {
        b.copy_from_slice(&new);
    }
    if csum_partial {
        return;
    }
    let weigh = |bytes: [u8; 2]| -> u32 {
        let w = |i: usize, b: u8| {
            if (at + i - th) & 1 == 0 {
                u32::from(b) << 8
            } else {
                u32::from(b)
            }
        };
        w(0, bytes[0]) + w(1, bytes[1])
    };
    let Some(hc) = read16(pkt, th + 16) else {
        return;
    };
    let sum = cksum_update(hc, weigh(old), weigh(new));
    if let Some(c) = pkt.get_mut(th + 16..th + 18) {
        c.copy_from_slice(&sum.to_be_bytes());
    }
}

fn read16(pkt: &[u8], at: usize) -> Option<u16> {
    let b: [u8; 2] = pkt.get(at..at + 2)?.try_into().ok()?;
    Some(u16::from_be_bytes(b))
}

/// RFC 1624 eqn. 3: HC' = ~(~HC + ~m + m'), where m and m' are the
/// (already folded-in) sums of the old and new contributions.
fn cksum_update(hc: u16, old: u32, new: u32) -> u16 {
    let fold = |mut s: u32| {
        while s > 0xffff {
            s = (s & 0xffff) + (s >> 16);
        }
        s as u16
    };
    let (m, m2) = (fold(old), fold(new));
    let s = u32::from(!hc) + u32::from(!m) + u32::from(m2);
    !fold(s)
}

/// The Internet checksum of `data` (for tests and the model: the value a
/// receiver verifies).  Odd trailing byte padded with zero.
pub fn internet_checksum(chunks: &[&[u8]]) -> u16 {
    let mut s: u64 = 0;
    let mut hi = true;
    for c in chunks {
        for &b in *c {
            s += if hi { u64::from(b) << 8 } else { u64::from(b) };
            hi = !hi;
        }
    }
    while s > 0xffff {
        s = (s & 0xffff) + (s >> 16);
    }
    !(s as u16)
}
