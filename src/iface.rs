//! Writer-side record of one interface (kept by [`crate::vnet::Vnet`]).

use crate::endpoint::Tunnel;
use crate::ioctl::MTU_DEFAULT;
use crate::policy::PolicySet;
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
    /// The policies registered for the tunnel.
    pub policies: Option<PolicySet>,
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
            policies: None,
            fib,
            mtu: MTU_DEFAULT,
            src_ordinal: None,
        }
    }
}
