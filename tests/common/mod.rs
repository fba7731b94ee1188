//! Helpers shared by the integration tests: request builders and a tiny
//! "glue" that executes transition plans against the host tables.
#![allow(
    dead_code,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use if_ipsec::addr::Addr;
use if_ipsec::endpoint::Tunnel;
use if_ipsec::policy::PolicySet;
use if_ipsec::state::Effect;
use if_ipsec::tables::{IfHandle, Tables};
use if_ipsec::vnet::{Tx, Vnet};
use if_ipsec::Result;
use sys_bindings::net::{
    in6_addr, in6_aliasreq, in_addr, in_aliasreq, sockaddr_in, sockaddr_in6, AF_INET, AF_INET6,
};
use zerocopy::IntoBytes;

pub fn sin(a: [u8; 4]) -> sockaddr_in {
    sockaddr_in {
        sin_len: 16,
        sin_family: AF_INET,
        sin_addr: in_addr { s_addr: a },
        ..Default::default()
    }
}

pub fn sin6(a: [u8; 16], scope: u32) -> sockaddr_in6 {
    sockaddr_in6 {
        sin6_len: 28,
        sin6_family: AF_INET6,
        sin6_addr: in6_addr { s6_addr: a },
        sin6_scope_id: scope,
        ..Default::default()
    }
}

pub fn in_req(src: sockaddr_in, dst: sockaddr_in) -> in_aliasreq {
    in_aliasreq {
        ifra_addr: src,
        ifra_dstaddr: dst,
        ..Default::default()
    }
}

pub fn in6_req(src: sockaddr_in6, dst: sockaddr_in6) -> in6_aliasreq {
    in6_aliasreq {
        ifra_addr: src,
        ifra_dstaddr: dst,
        ..Default::default()
    }
}

pub fn bytes<T: IntoBytes + zerocopy::Immutable>(t: &T) -> Vec<u8> {
    t.as_bytes().to_vec()
}

pub fn v6(last: u8) -> [u8; 16] {
    let mut a = [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
    a[15] = last;
    a
}

/// fe80::`last` (link-local).
pub fn ll(last: u8) -> [u8; 16] {
    let mut a = [0u8; 16];
    a[0] = 0xfe;
    a[1] = 0x80;
    a[15] = last;
    a
}

pub fn tun4(src: [u8; 4], dst: [u8; 4]) -> Tunnel {
    Tunnel::new(Addr::V4(src), Addr::V4(dst)).unwrap()
}

/// A host stand-in for the kernel glue: an SPD of registered policy sets,
/// RUNNING flags, and the tables; executes plans step by step and records
/// the order.
pub struct World {
    pub vnet: Vnet,
    pub tables: Tables,
    /// Registered policy sets (the ifnet-scope SPD), with owner.
    pub spd: Vec<(IfHandle, PolicySet)>,
    /// Policy set each interface's output uses (PublishPolicies).
    pub published: Vec<(IfHandle, PolicySet)>,
    pub running: Vec<IfHandle>,
    pub local: Vec<Addr>,
    pub log: Vec<Effect>,
    /// Make the next RegisterPolicies fail (key_register_ifnet EAGAIN).
    pub fail_register: bool,
}

impl World {
    pub fn new() -> World {
        World {
            vnet: Vnet::new(0x1234_5678).unwrap(),
            tables: Tables::new(0x8765_4321).unwrap(),
            spd: Vec::new(),
            published: Vec::new(),
            running: Vec::new(),
            local: Vec::new(),
            log: Vec::new(),
            fail_register: false,
        }
    }

    pub fn create(&mut self, h: u32) -> IfHandle {
        let h = IfHandle(h);
        let unit = self
            .vnet
            .choose_unit(if_ipsec::names::UnitRequest::Any, |_| false)
            .unwrap();
        self.vnet.create(h, unit, h.0 + 1, 0).unwrap();
        h
    }

    /// Run a prepared transaction the way the glue must.
    pub fn run(&mut self, tx: Tx) -> Result<()> {
        self.run_with(tx, &mut |_| {})
    }

    /// As [`Self::run`], publishing table pieces one at a time and calling
    /// `between` (a concurrent reader) after each.
    pub fn run_with(&mut self, mut tx: Tx, between: &mut dyn FnMut(&Tables)) -> Result<()> {
        let h = tx.handle();
        self.log.clear();
        for step in tx.plan() {
            self.log.push(*step);
            match step {
                Effect::RegisterPolicies => {
                    if self.fail_register {
                        self.fail_register = false;
                        return Err(if_ipsec::Errno::EAGAIN);
                    }
                    self.spd.push((h, tx.new_policies().unwrap()));
                }
                Effect::PublishPolicies => {
                    self.published.retain(|(x, _)| *x != h);
                    if let Some(p) = tx.new_policies() {
                        self.published.push((h, p));
                    }
                }
                Effect::PublishTables => {
                    for piece in tx.take_tables().into_pieces() {
                        self.tables.publish(piece);
                        between(&self.tables);
                    }
                }
                Effect::ClearRunning => self.running.retain(|x| *x != h),
                Effect::CheckRunning => {
                    self.running.retain(|x| *x != h);
                    let src = tx.next_state().unwrap().tunnel.unwrap().src();
                    if self.local.contains(&src) {
                        self.running.push(h);
                    }
                }
                Effect::UnregisterPolicies => {
                    let old = tx.old_policies().unwrap();
                    let pos = self
                        .spd
                        .iter()
                        .position(|(x, p)| *x == h && *p == old)
                        .unwrap();
                    self.spd.remove(pos);
                }
                Effect::Detach
                | Effect::EpochWait
                | Effect::FreePolicies
                | Effect::FreeRetired
                | Effect::FreeInterface => {}
            }
        }
        self.vnet.finish(tx);
        Ok(())
    }

    pub fn set_tunnel(&mut self, h: IfHandle, t: Tunnel) -> Result<()> {
        let tx = self.vnet.prepare_set_tunnel(&self.tables, h, t, None)?;
        self.run(tx)
    }

    pub fn delete_tunnel(&mut self, h: IfHandle) -> Result<()> {
        let tx = self.vnet.prepare_delete_tunnel(&self.tables, h)?;
        self.run(tx)
    }

    pub fn set_reqid(&mut self, h: IfHandle, r: u32) -> Result<()> {
        let tx = self.vnet.prepare_set_reqid(&self.tables, h, r, None)?;
        self.run(tx)
    }

    pub fn destroy(&mut self, h: IfHandle) -> Result<()> {
        let tx = self.vnet.prepare_destroy(&self.tables, h)?;
        self.run(tx)
    }

    /// Interfaces the srcaddr index lists under `a`.
    pub fn src_members(&self, a: &Addr) -> Vec<IfHandle> {
        let mut v = Vec::new();
        self.tables.for_each_src(a, |h| v.push(h));
        v.sort();
        v
    }
}
