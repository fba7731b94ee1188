//! A prepared transition ([`Tx`]): what `Vnet::prepare_*` returns and the
//! glue executes (see `state` for the plans and `vnet` for the protocol).

use crate::iface::IfState;
use crate::policy::{PolicySet, PolicyTemplate};
use crate::reqid::Reqid;
use crate::state::{Effect, Transition};
use crate::tables::{IfHandle, Prepared, TablesUpdate};

/// A prepared transition.
#[derive(Debug)]
pub struct Tx {
    pub(crate) kind: Transition,
    pub(crate) handle: IfHandle,
    pub(crate) template: &'static PolicyTemplate,
    pub(crate) prev: Option<IfState>,
    pub(crate) next: Option<IfState>,
    pub(crate) tables: TablesUpdate,
    pub(crate) ifaces: Option<Prepared<IfHandle, IfState>>,
    pub(crate) reqids: Option<Prepared<u32, IfHandle>>,
    pub(crate) auto_reqid: Option<Reqid>,
    pub(crate) unit_release: Option<u32>,
    pub(crate) moved: Option<IfState>,
}

impl Tx {
    pub(crate) fn nothing(kind: Transition, handle: IfHandle) -> Tx {
        Tx {
            kind,
            handle,
            template: &PolicyTemplate::ROUTE_BASED,
            prev: None,
            next: None,
            tables: TablesUpdate::default(),
            ifaces: None,
            reqids: None,
            auto_reqid: None,
            unit_release: None,
            moved: None,
        }
    }
    /// What kind of transition this is.
    pub fn kind(&self) -> Transition {
        self.kind
    }
    /// The interface.
    pub fn handle(&self) -> IfHandle {
        self.handle
    }
    /// The steps to execute, in order.
    pub fn plan(&self) -> &'static [Effect] {
        self.kind.plan()
    }
    /// Policies to build and register (RegisterPolicies) and publish
    /// (PublishPolicies; `None` there means "no policies").
    pub fn new_policies(&self) -> Option<PolicySet> {
        self.next.as_ref().and_then(|s| s.policies(self.template))
    }
    /// Policies being replaced (UnregisterPolicies, FreePolicies).
    pub fn old_policies(&self) -> Option<PolicySet> {
        self.prev.as_ref().and_then(|s| s.policies(self.template))
    }
    /// The interface's state after the transition (`None`: destroyed or
    /// unchanged).
    pub fn next_state(&self) -> Option<&IfState> {
        self.next.as_ref()
    }
    /// The table pieces to publish at PublishTables (leaves none behind).
    pub fn take_tables(&mut self) -> TablesUpdate {
        core::mem::take(&mut self.tables)
    }
}
