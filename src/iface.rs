//! Writer-side record of one interface (kept by [`crate::vnet::Vnet`]).

use crate::endpoint::Tunnel;
use crate::ioctl::MTU_DEFAULT;
use crate::policy::{PolicySet, PolicyTemplate};
use crate::reqid::Reqid;
use crate::tables::IfHandle;

/// What the core knows about one interface.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IfState {
    /// The glue's handle.
    pub handle: IfHandle,
    /// if_index (policy priority).
    pub ifindex: u32,
    /// Unit (`ipsec<unit>`).
    pub unit: u32,
    /// reqid, once assigned (kept when the tunnel is deleted, as C).
    pub reqid: Option<Reqid>,
    /// Tunnel endpoints (scope embedded), if set.
    pub tunnel: Option<Tunnel>,
    /// Tunnel fib (SIOCSTUNFIB; initial: the creating process's fib).
    pub fib: u32,
    /// Interface MTU.
    pub mtu: u32,
    /// Member number in the source-address index (with a tunnel).
    pub src_ordinal: Option<u32>,
}

impl IfState {
    /// A new interface without tunnel (if_ipsec.c ipsec_clone_create:
    /// MTU IPSEC_MTU, fib of the creating process).
    pub const fn new(handle: IfHandle, ifindex: u32, unit: u32, fib: u32) -> IfState {
        IfState {
            handle,
            ifindex,
            unit,
            reqid: None,
            tunnel: None,
            fib,
            mtu: MTU_DEFAULT,
            src_ordinal: None,
        }
    }

    /// The policies registered for the tunnel: derived from (tunnel,
    /// reqid, if_index) and the template, not stored (keeps the record
    /// small: kernel stack frames are precious).
    pub fn policies(&self, template: &PolicyTemplate) -> Option<PolicySet> {
        match (self.tunnel, self.reqid) {
            (Some(t), Some(r)) => Some(template.instantiate(&t, r, self.ifindex)),
            _ => None,
        }
    }
}
