//! Security policy references and the interface's registered policy set.
//!
//! FreeBSD 14.2 sys/netipsec/key.c (b66633d79ade): `key_newsp` returns a
//! zeroed policy with one reference (M_NOWAIT: may fail), `ipsec_newisr` a
//! zeroed request (M_NOWAIT); `key_addref`/`key_freesp` take and drop a
//! reference, the last one frees the policy and its requests;
//! `key_register_ifnet(spp, n)` links the policies into the ifnet-scope
//! SPD without taking references (the creator's reference now backs the
//! registration) and fails with EAGAIN when no policy id is free;
//! `key_unregister_ifnet` unlinks them (again without dropping references).
//! ipsec4/6_process_packet (ipsec_output.c) consume the mbuf and one
//! reference on every path.
use super::epoch::InEpoch;
use super::mbuf::Mbuf;
use core::ffi::{c_int, c_uint};
use core::ptr::NonNull;
use if_ipsec::addr::{Addr, Family};
use if_ipsec::policy::{PolicySpec, Prefix};
use sys_bindings::errno::ENOMEM;
use sys_bindings::ipsec::{
    ipsec4_process_packet, ipsec6_process_packet, ipsec_newisr, key_addref, key_freesp, key_newsp,
    key_register_ifnet, key_unregister_ifnet, secpolicy, sockaddr_union,
};

/// One reference to a `struct secpolicy`: key_freesp on drop, key_addref
/// on clone.
pub struct SpRef {
    sp: NonNull<secpolicy>,
}

// SAFETY: policy references are atomic refcounts (refcount(9)); a
// reference may be dropped on any thread.  The contents are immutable
// once registered.
unsafe impl Send for SpRef {}
// SAFETY: shared access only reads immutable fields or takes references.
unsafe impl Sync for SpRef {}

impl Clone for SpRef {
    fn clone(&self) -> Self {
        // SAFETY: we hold a reference, so the policy is alive.
        unsafe { key_addref(self.sp.as_ptr()) };
        SpRef { sp: self.sp }
    }
}

impl Drop for SpRef {
    fn drop(&mut self) {
        let mut p = self.sp.as_ptr();
        // SAFETY: drops exactly the reference this SpRef holds.
        unsafe { key_freesp(&mut p) };
    }
}

fn put_prefix(u: &mut sockaddr_union, fam: Family, p: &Prefix) {
    let [a, b, c, d, ..] = p.addr;
    let addr = match fam {
        Family::Inet => Addr::V4([a, b, c, d]),
        Family::Inet6 => Addr::v6(p.addr),
    };
    put_addr(u, &addr);
}

fn put_addr(u: &mut sockaddr_union, a: &Addr) {
    // SAFETY: as put_prefix.
    let mut z: sockaddr_union = unsafe { core::mem::zeroed() };
    if let Some(s) = a.to_sockaddr_in() {
        z.sin = s;
    } else if let Some(s) = a.to_sockaddr_in6() {
        z.sin6 = s;
    }
    *u = z;
}

impl SpRef {
    /// A new, unregistered policy from a core [`PolicySpec`], as C's
    /// ipsec_newpolicies fills it (policy IPSEC, state DEAD, one request:
    /// level, ESP, tunnel mode, reqid, SA addresses; selector family,
    /// sa_len, prefixes, ul_proto; priority = if_index).  ENOMEM when
    /// key_newsp or ipsec_newisr fails (no sleeping: both are M_NOWAIT).
    pub fn build(spec: &PolicySpec) -> Result<SpRef, c_int> {
        // SAFETY: key_newsp returns NULL or a zeroed policy with one ref.
        let sp = NonNull::new(unsafe { key_newsp() }).ok_or(ENOMEM)?;
        let r = SpRef { sp }; // frees it on every error path below
                              // SAFETY: NULL or a zeroed request we own until linked into sp.
        let isr = unsafe { ipsec_newisr() };
        if isr.is_null() {
            return Err(ENOMEM);
        }
        // SAFETY: we hold the only reference; sp and isr are valid and not
        // visible to anyone else yet.  req[0] is linked first so that
        // key_freesp frees the request on any later failure.
        unsafe {
            let p = &mut *sp.as_ptr();
            if let Some(slot) = p.req.first_mut() {
                *slot = isr;
            }
            p.tcount = 1;
            p.policy = spec.policy;
            p.state = u32::from(sys_bindings::ipsec_consts::IPSEC_SPSTATE_DEAD);
            p.priority = spec.priority;
            // C ipsec_newpolicies: `sp[i]->created = time_second` (what
            // setkey -DP prints; zero would read 1970).
            p.created = super::time::now_seconds();
            p.spidx.dir = spec.dir.raw();
            p.spidx.ul_proto = spec.selector.ul_proto;
            let fam = spec.selector.inner;
            put_prefix(&mut p.spidx.src, fam, &spec.selector.src);
            put_prefix(&mut p.spidx.dst, fam, &spec.selector.dst);
            p.spidx.prefs = spec.selector.src.len;
            p.spidx.prefd = spec.selector.dst.len;
            let q = &mut *isr;
            q.level = spec.level;
            q.saidx.proto = spec.proto;
            q.saidx.mode = spec.mode;
            q.saidx.reqid = spec.reqid;
            put_addr(&mut q.saidx.src, &spec.sa_src);
            put_addr(&mut q.saidx.dst, &spec.sa_dst);
        }
        Ok(r)
    }

    /// The policy (read-only), for comparisons and tests.
    pub fn get(&self) -> &secpolicy {
        // SAFETY: alive while we hold the reference.
        unsafe { self.sp.as_ref() }
    }

    fn into_raw(self) -> *mut secpolicy {
        let p = self.sp.as_ptr();
        core::mem::forget(self);
        p
    }
}

/// Hand a packet and a policy reference to IPsec output
/// (ipsec4_process_packet / ipsec6_process_packet by the inner family).
/// Both are consumed on every path; the result is the errno.
pub fn process_packet(m: Mbuf, sp: SpRef, inner: Family, _: &InEpoch) -> Result<(), c_int> {
    let (m, sp) = (m.into_raw(), sp.into_raw());
    // SAFETY: ownership of m and of one reference pass to the callee,
    // which frees both on every path (ipsec_output.c); inside the epoch.
    let e = unsafe {
        match inner {
            Family::Inet => ipsec4_process_packet(m, sp, core::ptr::null_mut()),
            Family::Inet6 => ipsec6_process_packet(m, sp, core::ptr::null_mut()),
        }
    };
    if e == 0 {
        Ok(())
    } else {
        Err(e)
    }
}

/// Policies registered in the ifnet-scope SPD (what `setkey -DP` shows);
/// withdrawn (key_unregister_ifnet) and released when dropped.
pub struct Registered<const N: usize> {
    sps: [SpRef; N],
}

impl<const N: usize> Registered<N> {
    /// key_register_ifnet(sps, N).  On failure (EAGAIN) the references
    /// are released.
    pub fn register(sps: [SpRef; N]) -> Result<Self, c_int> {
        let mut raw = sps.each_ref().map(|s| s.sp.as_ptr());
        let n = c_uint::try_from(N).unwrap_or(0);
        // SAFETY: N valid policies we hold references to; the array is
        // read during the call only.
        match unsafe { key_register_ifnet(raw.as_mut_ptr(), n) } {
            0 => Ok(Self { sps }),
            e => Err(e),
        }
    }

    /// The policy at `i` (template order), to take a reference for output.
    pub fn get(&self, i: usize) -> Option<&SpRef> {
        self.sps.get(i)
    }

    /// key_unregister_ifnet, then drop the references (key_freesp).
    pub fn withdraw(self) {
        drop(self)
    }
}

impl<const N: usize> Drop for Registered<N> {
    fn drop(&mut self) {
        let mut raw = self.sps.each_ref().map(|s| s.sp.as_ptr());
        let n = c_uint::try_from(N).unwrap_or(0);
        // SAFETY: these N policies were registered by `register`; the
        // references are dropped after this, by the SpRef fields.
        unsafe { key_unregister_ifnet(raw.as_mut_ptr(), n) };
    }
}
