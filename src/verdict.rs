//! Packet-path verdicts: pure decisions, the glue acts on them.
//!
//! Output mirrors FreeBSD 14.2 sys/net/if_ipsec.c (b66633d79ade)
//! ipsec_transmit; input mirrors ipsec_if_input.  Both run in the net
//! epoch in the kernel; these functions only read their arguments.

use sys_bindings::ipsec_consts::{
    IPPROTO_ESP, IPSEC_MODE_TUNNEL, SADB_SASTATE_DYING, SADB_SASTATE_MATURE,
};

use crate::addr::Family;
use crate::errno::Errno;

/// What output admission looks at.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct OutputCheck {
    /// `IFF_DRV_RUNNING` (tunnel source is a local address).
    pub running: bool,
    /// `IFF_UP`.
    pub up: bool,
    /// `IFF_MONITOR`.
    pub monitor: bool,
    /// A tunnel is configured.
    pub tunnel: bool,
    /// First byte of the packet (IP version nibble), `None` if empty.
    pub first_byte: Option<u8>,
    /// The mbuf carries `PACKET_TAG_IPSEC_OUT_DONE` (it already went
    /// through IPsec output: a loop).
    pub out_done_tag: bool,
}

/// Output decision.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OutputVerdict {
    /// Take a reference on the outbound policy for `inner`, set the
    /// tunnel fib, BPF tap (4-byte AF), count OPACKETS/OBYTES, hand to
    /// ipsec4/6_process_packet (which consumes the mbuf and reference);
    /// a nonzero result counts OERRORS.
    Send {
        /// Inner family (selects the policy).
        inner: Family,
    },
    /// Free the mbuf, count OERRORS, return the errno.
    Drop(Errno),
}

/// Output admission (if_ipsec.c ipsec_transmit): ENETDOWN unless running,
/// up, not monitor and a tunnel is set; EAFNOSUPPORT unless the version
/// nibble is 4 or 6; a looping packet (OUT_DONE tag) is ENETDOWN (C's
/// error variable still holds ENETDOWN there).
pub fn output_admission(c: &OutputCheck) -> OutputVerdict {
    if !c.running || c.monitor || !c.up || !c.tunnel {
        return OutputVerdict::Drop(Errno::ENETDOWN);
    }
    let inner = match c.first_byte.map(|b| b >> 4) {
        Some(4) => Family::Inet,
        Some(6) => Family::Inet6,
        _ => return OutputVerdict::Drop(Errno::EAFNOSUPPORT),
    };
    if c.out_done_tag {
        return OutputVerdict::Drop(Errno::ENETDOWN);
    }
    OutputVerdict::Send { inner }
}

/// The SA fields input looks at (`sav->state`, `sav->sah->saidx`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SaCheck {
    /// `sav->state` (SADB_SASTATE_*).
    pub state: u8,
    /// `saidx.mode`.
    pub mode: u8,
    /// `saidx.proto`.
    pub proto: u8,
}

/// First input decision, before the interface lookup.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InputPre {
    /// Tunnel-mode ESP whose SA is neither mature nor dying (it died
    /// during the crypto): C frees it and returns ENETDOWN.  ipsec.ko's
    /// own ipsec_if_input, which netipsec calls for every tunnel-mode SA
    /// right after the IPSEC_IN hooks, makes exactly that drop, so the
    /// glue leaves the packet to it instead of consuming it in the hook.
    DropDeadSa,
    /// Not tunnel-mode ESP: return 0, mbuf untouched (not ours, whatever
    /// the SA's state).
    NotOurs,
    /// Look the interface up by (reqid, SA src, SA dst).
    Lookup,
}

/// Mode/proto, then SA state.  C (if_ipsec.c ipsec_if_input) tests the
/// state first, but it is only called for tunnel-mode SAs
/// (ipsec_input.c), and a transport-mode, AH or IPComp packet is not an
/// interface's: its dead SA is not ours to judge (issue 8).
pub fn input_precheck(sa: &SaCheck) -> InputPre {
    if sa.mode != IPSEC_MODE_TUNNEL || sa.proto != IPPROTO_ESP {
        return InputPre::NotOurs;
    }
    if sa.state != SADB_SASTATE_MATURE && sa.state != SADB_SASTATE_DYING {
        return InputPre::DropDeadSa;
    }
    InputPre::Lookup
}

/// Flags of the interface the lookup found.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct InputIf {
    /// `IFF_DRV_RUNNING`.
    pub running: bool,
    /// `IFF_UP`.
    pub up: bool,
    /// `IFF_MONITOR`.
    pub monitor: bool,
}

/// Second input decision.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InputVerdict {
    /// No interface: return 0, mbuf untouched (policy-based IPsec).
    NotFound,
    /// Interface down: free, count IQDROPS on it (C does not count: an
    /// improvement), return ENETDOWN.
    DropDown,
    /// Set rcvif, m_clrprotoflags, M_SETFIB(if_fib), BPF tap, count
    /// IPACKETS/IBYTES; then, if `monitor_drop`, free and return ENETDOWN,
    /// else return 0 (caller queues to netisr).
    Deliver {
        /// IFF_MONITOR: tap and count, then drop.
        monitor_drop: bool,
    },
}

/// Decision after the lookup (if_ipsec.c ipsec_if_input).
pub fn input_admission(found: Option<InputIf>) -> InputVerdict {
    match found {
        None => InputVerdict::NotFound,
        Some(f) if !f.running || !f.up => InputVerdict::DropDown,
        Some(f) => InputVerdict::Deliver {
            monitor_drop: f.monitor,
        },
    }
}
