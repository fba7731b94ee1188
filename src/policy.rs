//! The security policies of one interface, instantiated from a template.
//!
//! FreeBSD 14.2 sys/net/if_ipsec.c (b66633d79ade) ipsec_newpolicies builds
//! four `secpolicy`s per interface (index 0 v4 in, 1 v4 out, 2 v6 in, 3 v6
//! out): policy IPSEC, one request with level UNIQUE, ESP, tunnel mode and
//! the interface's reqid; selectors carry only the inner family and sa_len
//! (any/any), upper-layer protocol any (255); `priority` holds the
//! if_index (what `setkey -DP` shows as the interface); the inbound
//! request's SA addresses are src = remote, dst = local, the outbound's
//! src = local, dst = remote.  They are registered with
//! key_register_ifnet (sys/netipsec/key.c) into the ifnet-scope list.
//!
//! Here that set is a [`PolicyTemplate`] (a list of rules: direction +
//! selector) instantiated with (tunnel, reqid, if_index).  The selector is
//! a full prefix/prefix/protocol triple, so narrower selectors (a later
//! issue) are new templates, not new code.  The glue turns each
//! [`PolicySpec`] into a `secpolicy` (key_newsp + ipsec_newisr).

use sys_bindings::ipsec_consts::{
    IPPROTO_ESP, IPSEC_DIR_INBOUND, IPSEC_DIR_OUTBOUND, IPSEC_LEVEL_UNIQUE, IPSEC_MODE_TUNNEL,
    IPSEC_POLICY_IPSEC, IPSEC_ULPROTO_ANY,
};

use crate::addr::{Addr, Family};
use crate::endpoint::Tunnel;
use crate::reqid::Reqid;

/// Policy direction (`spidx.dir`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Dir {
    /// `IPSEC_DIR_INBOUND`.
    In,
    /// `IPSEC_DIR_OUTBOUND`.
    Out,
}

impl Dir {
    /// The `IPSEC_DIR_*` value.
    pub const fn raw(self) -> u8 {
        match self {
            Dir::In => IPSEC_DIR_INBOUND,
            Dir::Out => IPSEC_DIR_OUTBOUND,
        }
    }
}

/// A selector prefix: `len` leading bits of `addr` (len 0 = any).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Prefix {
    /// Address bytes (IPv4 uses the first 4).
    pub addr: [u8; 16],
    /// Prefix length in bits (`prefs`/`prefd`).
    pub len: u8,
}

impl Prefix {
    /// Matches every address.
    pub const ANY: Prefix = Prefix {
        addr: [0; 16],
        len: 0,
    };
}

/// Traffic selector of a policy (`secpolicyindex` without direction).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Selector {
    /// Inner family: `spidx.src/dst.sa_family`, sa_len from the family.
    pub inner: Family,
    /// Source prefix.
    pub src: Prefix,
    /// Destination prefix.
    pub dst: Prefix,
    /// `spidx.ul_proto`.
    pub ul_proto: u8,
}

impl Selector {
    /// any/any, every upper-layer protocol.
    pub const fn any(inner: Family) -> Selector {
        Selector {
            inner,
            src: Prefix::ANY,
            dst: Prefix::ANY,
            ul_proto: IPSEC_ULPROTO_ANY,
        }
    }
}

/// One rule of a template.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Rule {
    /// Direction.
    pub dir: Dir,
    /// Selector.
    pub selector: Selector,
}

/// Number of policies of the route-based template (`IPSEC_SPCOUNT`).
pub const SPCOUNT: usize = 4;

/// A list of rules that becomes the interface's policies.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PolicyTemplate {
    /// The rules, in the order of the resulting [`PolicySet`].
    pub rules: [Rule; SPCOUNT],
}

impl PolicyTemplate {
    /// C's set: v4 in, v4 out, v6 in, v6 out, all any/any/any.
    pub const ROUTE_BASED: PolicyTemplate = PolicyTemplate {
        rules: [
            Rule {
                dir: Dir::In,
                selector: Selector::any(Family::Inet),
            },
            Rule {
                dir: Dir::Out,
                selector: Selector::any(Family::Inet),
            },
            Rule {
                dir: Dir::In,
                selector: Selector::any(Family::Inet6),
            },
            Rule {
                dir: Dir::Out,
                selector: Selector::any(Family::Inet6),
            },
        ],
    };

    /// Index of the rule for (direction, inner family), which is also the
    /// index of its policy in every instantiated set (if_ipsec.c
    /// ipsec_getpolicy: the glue keeps its `secpolicy` pointers in this
    /// order and output picks one without touching the set).
    pub fn slot(&self, dir: Dir, inner: Family) -> Option<usize> {
        self.rules
            .iter()
            .position(|r| r.dir == dir && r.selector.inner == inner)
    }

    /// The policies for an interface (mirrors if_ipsec.c ipsec_newpolicies).
    pub fn instantiate(&self, tunnel: &Tunnel, reqid: Reqid, ifindex: u32) -> PolicySet {
        PolicySet {
            specs: self
                .rules
                .map(|rule| PolicySpec::new(rule, tunnel, reqid, ifindex)),
        }
    }
}

/// Everything the glue needs to build one `secpolicy` and its request.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct PolicySpec {
    /// `spidx.dir`.
    pub dir: Dir,
    /// `spidx` selector.
    pub selector: Selector,
    /// `sp->policy` (IPSEC_POLICY_IPSEC).
    pub policy: u32,
    /// `sp->priority`: the interface's if_index.
    pub priority: u32,
    /// `isr->level` (IPSEC_LEVEL_UNIQUE).
    pub level: u32,
    /// `isr->saidx.proto` (IPPROTO_ESP).
    pub proto: u8,
    /// `isr->saidx.mode` (IPSEC_MODE_TUNNEL).
    pub mode: u8,
    /// `isr->saidx.reqid`.
    pub reqid: u32,
    /// `isr->saidx.src`.
    pub sa_src: Addr,
    /// `isr->saidx.dst`.
    pub sa_dst: Addr,
}

impl PolicySpec {
    fn new(rule: Rule, tunnel: &Tunnel, reqid: Reqid, ifindex: u32) -> PolicySpec {
        let (sa_src, sa_dst) = match rule.dir {
            Dir::In => (tunnel.dst(), tunnel.src()),
            Dir::Out => (tunnel.src(), tunnel.dst()),
        };
        PolicySpec {
            dir: rule.dir,
            selector: rule.selector,
            policy: IPSEC_POLICY_IPSEC,
            priority: ifindex,
            level: IPSEC_LEVEL_UNIQUE,
            proto: IPPROTO_ESP,
            mode: IPSEC_MODE_TUNNEL,
            reqid: reqid.get(),
            sa_src,
            sa_dst,
        }
    }
}

/// The instantiated policies of one interface, in template order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct PolicySet {
    /// One spec per template rule.
    pub specs: [PolicySpec; SPCOUNT],
}

impl PolicySet {
    /// Index of the policy for (direction, inner family) in this set, as
    /// if_ipsec.c ipsec_getpolicy; `None` if the template has no such rule.
    pub fn slot(&self, dir: Dir, inner: Family) -> Option<usize> {
        self.specs
            .iter()
            .position(|s| s.dir == dir && s.selector.inner == inner)
    }

    /// The policy for (direction, inner family).
    pub fn get(&self, dir: Dir, inner: Family) -> Option<&PolicySpec> {
        self.slot(dir, inner).and_then(|i| self.specs.get(i))
    }
}
