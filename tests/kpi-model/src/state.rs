//! The per-test handle: reset, serialisation, queries and the end-of-test
//! cleanliness check.
use crate::check::{self, Violation, ViolationKind};
use std::sync::{Mutex, MutexGuard};

static TEST_LOCK: Mutex<()> = Mutex::new(());

/// A started model.  Holding it serialises the tests of one binary (the
/// model's state is global, as the kernel's is).  Dropping it does not
/// check anything: call [`Model::assert_clean`].
pub struct Model {
    _serial: MutexGuard<'static, ()>,
}

impl Model {
    /// Start a test: take the model, reset every part of it.
    pub fn start() -> Model {
        let g = TEST_LOCK.lock().unwrap_or_else(|e| e.into_inner());
        reset_all();
        Model { _serial: g }
    }

    /// Violations recorded so far.
    pub fn violations(&self) -> Vec<Violation> {
        check::violations()
    }

    /// Take (and clear) the violations recorded so far.
    pub fn take_violations(&self) -> Vec<Violation> {
        check::take()
    }

    /// Were violations of `kind` recorded? Clears them all (self-tests).
    pub fn took(&self, kind: ViolationKind) -> bool {
        check::take().iter().any(|v| v.kind == kind)
    }

    /// Everything still wrong at this point: recorded violations plus
    /// leaks (mbufs, policy references, malloc balance), held locks and
    /// open epoch sections on this thread.
    pub fn problems(&self) -> Vec<Violation> {
        let mut v = check::violations();
        for f in crate::leak_checks() {
            v.extend(f());
        }
        if crate::epoch::depth() > 0 {
            v.push(Violation {
                kind: ViolationKind::EpochUnbalanced,
                what: format!(
                    "test ends inside {} epoch section(s)",
                    crate::epoch::depth()
                ),
            });
        }
        let pending = crate::epoch::pending_callbacks();
        if pending > 0 {
            v.push(Violation { kind: ViolationKind::Malloc, what: format!("{pending} epoch_call callback(s) never ran (call flush_epoch_callbacks or epoch_drain_callbacks)") });
        }
        for l in crate::sx::held() {
            v.push(Violation {
                kind: ViolationKind::LockMisuse,
                what: format!("sx {l} still held at end of test"),
            });
        }
        for (t, n, b) in crate::malloc::live_by_type() {
            v.push(Violation {
                kind: ViolationKind::Malloc,
                what: format!("malloc type {t}: {n} allocations ({b} bytes) not freed"),
            });
        }
        v
    }

    /// Panic (in the test thread) listing every problem, if any.
    #[track_caller]
    pub fn assert_clean(&self) {
        let p = self.problems();
        assert!(p.is_empty(), "KPI model: {} problem(s):\n{:#?}", p.len(), p);
    }

    /// The ifnet-scope SPD as `setkey -DP` shows it.
    pub fn spd_ifnet(&self) -> Vec<crate::ipsec::SpView> {
        crate::ipsec::spd_ifnet()
    }

    /// What IPsec output (ipsec4/6_process_packet) received; taken.
    pub fn take_sent(&self) -> Vec<crate::ipsec::Sent> {
        crate::ipsec::take_sent()
    }

    /// The current vnet (curvnet of this thread).
    pub fn curvnet(&self) -> usize {
        crate::vnet::curvnet() as usize
    }

    /// vnet0.
    pub fn vnet0(&self) -> usize {
        crate::vnet::vnet0_ptr() as usize
    }

    /// Create a vnet (jail -c vnet): registered VNET_SYSINITs run in it.
    pub fn vnet_create(&self) -> usize {
        crate::vnet::create() as usize
    }

    /// Destroy a vnet: VNET_SYSUNINITs run in it, in reverse order.
    pub fn vnet_destroy(&self, v: usize) {
        crate::vnet::destroy(v as *mut _)
    }

    /// Run `f` with curvnet = `v` (CURVNET_SET).
    pub fn in_vnet<R>(&self, v: usize, f: impl FnOnce() -> R) -> R {
        crate::vnet::with_vnet(v as *mut _, f)
    }

    /// net.fibs in the current vnet.
    pub fn set_numfibs(&self, n: u32) {
        crate::vnet::set_numfibs(n)
    }

    /// `ifconfig NAME create` (params: a fake user address or 0).
    pub fn ifconfig_create(&self, name: &str, params: usize) -> Result<String, i32> {
        crate::clone::create(name, params)
    }

    /// `ifconfig NAME create` with parameters `bytes` copied into fake user
    /// memory (SIOCIFCREATE2's ifr_data).
    pub fn ifconfig_create_with(&self, name: &str, bytes: &[u8]) -> Result<String, i32> {
        let ua = crate::thread::user_alloc(bytes);
        crate::clone::create(name, ua)
    }

    /// `ifconfig NAME destroy`.
    pub fn ifconfig_destroy(&self, name: &str) -> i32 {
        crate::clone::destroy(name)
    }

    /// Cloner names in the current vnet, lookup order (newest first).
    pub fn cloners(&self) -> Vec<String> {
        crate::clone::names(self.curvnet())
    }

    /// Register a stock-style cloner (e.g. ipsec.ko's "ipsec").
    pub fn add_stock_cloner(&self, name: &str) -> usize {
        crate::clone::add_stock(name)
    }

    /// The attached interface `name` of the current vnet.
    pub fn ifnet(&self, name: &str) -> Option<crate::ifnet::IfView> {
        crate::ifnet::by_name(self.curvnet(), name)
    }

    /// All attached interfaces of the current vnet (`ifconfig -l`).
    pub fn ifnets(&self) -> Vec<crate::ifnet::IfView> {
        crate::ifnet::list(self.curvnet())
    }

    /// The driver's if_ioctl on `name` (as ifioctl calls it); `data` is
    /// copied in and back.  ENXIO if there is no such interface.
    pub fn ioctl(&self, name: &str, cmd: u64, data: &mut [u8]) -> i32 {
        match self.ifnet(name) {
            Some(i) => crate::ifnet::call_ioctl(i.addr, cmd as _, data),
            None => 6,
        }
    }

    /// Send `bytes` out of `name` as ip_output does (if_transmit inside
    /// the net epoch).  The packet belongs to the driver from then on.
    pub fn transmit(&self, name: &str, bytes: &[u8]) -> i32 {
        let m = crate::mbuf::packet(&[bytes]);
        self.transmit_mbuf(name, m)
    }

    /// As `transmit`, with a packet built by the test.
    pub fn transmit_mbuf(&self, name: &str, m: *mut sys_bindings::mbuf::mbuf) -> i32 {
        match self.ifnet(name) {
            Some(i) => crate::ifnet::call_transmit(i.addr, m),
            None => {
                crate::mbuf::free_chain(m, "transmit(no interface)");
                6
            }
        }
    }

    /// `ifconfig NAME up` / `down` / `monitor` ...: ifhwioctl
    /// SIOCSIFFLAGS semantics (set/clear IFF_* bits, then the driver).
    pub fn ifconfig_flags(&self, name: &str, set: i32, clear: i32) -> i32 {
        self.ifnet(name)
            .map_or(6, |i| crate::ifnet::set_flags(i.addr, set, clear))
    }

    /// `ifconfig NAME mtu N`: ifhwioctl SIOCSIFMTU semantics.
    pub fn ifconfig_mtu(&self, name: &str, mtu: i32) -> i32 {
        self.ifnet(name)
            .map_or(6, |i| crate::ifnet::set_mtu(i.addr, mtu))
    }

    /// `ifconfig NAME inet A ...`: SIOCSIFADDR to the driver, then the
    /// address is local (srcaddr callbacks fire).
    pub fn ifconfig_inet(&self, name: &str, a: std::net::IpAddr) -> i32 {
        self.ifnet(name)
            .map_or(6, |i| crate::ifnet::add_inet(i.addr, a))
    }

    /// `ifconfig NAME vnet J`: move the interface of the current vnet to
    /// vnet `to` (if_vmove_loan / if_vmove; the driver's if_reassign runs).
    pub fn if_vmove(&self, name: &str, to: usize) -> i32 {
        self.ifnet(name)
            .map_or(6, |i| crate::ifnet::vmove(i.addr, to as *mut _))
    }

    /// `ifconfig NAME -vnet J` run in the current vnet for an interface
    /// living in vnet `from` (if_vmove_reclaim): back to its home vnet.
    pub fn if_vmove_reclaim(&self, name: &str, from: usize) -> i32 {
        match crate::ifnet::by_name(from, name) {
            Some(i) if i.home_vnet == self.curvnet() => {
                crate::ifnet::vmove(i.addr, i.home_vnet as *mut _)
            }
            Some(_) => 1,
            None => 6,
        }
    }

    /// A bpf listener on `name` on/off (tcpdump -i NAME).
    pub fn bpf_listen(&self, name: &str, on: bool) {
        if let Some(i) = self.ifnet(name) {
            crate::ifnet::set_listener(i.addr, on);
        }
    }

    /// Packets tapped on `name`: (link header, packet); taken.
    pub fn bpf_taps(&self, name: &str) -> Vec<(Vec<u8>, Vec<u8>)> {
        self.ifnet(name)
            .map(|i| crate::ifnet::take_taps(i.addr))
            .unwrap_or_default()
    }

    /// A packet decrypted with SA `sa` arrives (inner IP version 4 or 6).
    pub fn ipsec_input(
        &self,
        inner: u8,
        bytes: &[u8],
        sa: &crate::ipsec::SaSpec,
    ) -> crate::ipsec::InputOutcome {
        crate::ipsec::input(inner, bytes, sa, 0)
    }

    /// An address is configured on / removed from some interface of the
    /// current vnet (srcaddr callbacks fire; in_localip follows).
    pub fn addr_add(&self, a: std::net::IpAddr) {
        crate::netinet::addr_event(a, true)
    }

    /// See [`Model::addr_add`].
    pub fn addr_del(&self, a: std::net::IpAddr) {
        crate::netinet::addr_event(a, false)
    }

    /// p_fibnum of the calling process (`setfib N ifconfig ...`).
    pub fn set_proc_fib(&self, fib: i32) {
        crate::thread::set_proc_fib(fib)
    }

    /// prison_if refuses addresses (a jailed caller) when on.
    pub fn set_jailed(&self, on: bool) {
        crate::netinet::set_jailed(on)
    }

    /// Queue an error for the next ipsec4/6_process_packet.
    pub fn queue_output_error(&self, e: i32) {
        crate::ipsec::queue_output_error(e)
    }

    /// Make the next key_register_ifnet fail with `e`.
    pub fn fail_register(&self, e: Option<i32>) {
        crate::ipsec::fail_register(e)
    }

    /// Lines the module printed (printf/log).
    pub fn console(&self) -> Vec<String> {
        crate::console::lines()
    }

    /// kldload: MOD_LOAD via module_register_init (the DECLARE_MODULE
    /// SYSINIT); 0 or nonzero when the module refused to load.
    pub fn kldload(&self, data: *const crate::kern::ModuleData) -> i32 {
        crate::kern::kldload(data)
    }

    /// kldunload: MOD_QUIESCE then MOD_UNLOAD; 0 or the refusing errno.
    pub fn kldunload(&self, data: *const crate::kern::ModuleData) -> i32 {
        crate::kern::kldunload(data)
    }

    /// Run pending epoch_call callbacks (a grace period elapsed).
    pub fn flush_epoch_callbacks(&self) {
        crate::epoch::flush_callbacks()
    }

    /// Run `f` as module code: its Rust allocations are accounted as the
    /// kernel's M_IFIPSEC malloc(9) ones and can be made to fail.  The
    /// model does this itself around every callback into the module.
    pub fn module<R>(&self, f: impl FnOnce() -> R) -> R {
        crate::malloc::in_module(f)
    }

    /// Make exactly the `n`-th (0-based) failable allocation from now fail.
    pub fn fail_alloc_nth(&self, n: u64) {
        crate::malloc::fail_nth(n)
    }

    /// Let `n` failable allocations succeed, then fail all of them.
    pub fn fail_alloc_after(&self, n: u64) {
        crate::malloc::fail_after(n)
    }

    /// Stop injecting allocation failures.
    pub fn fail_alloc_none(&self) {
        crate::malloc::fail_none()
    }

    /// (failable allocation attempts, injected failures, M_WAITOK calls).
    pub fn alloc_counts(&self) -> (u64, u64, u64) {
        crate::malloc::counts()
    }

    /// (allocations, bytes) live for malloc type `name`.
    pub fn malloc_in_use(&self, name: &str) -> (usize, usize) {
        crate::malloc::in_use(name)
    }

    /// (epoch_wait_preempt calls, module allocations inside the epoch).
    pub fn epoch_counts(&self) -> (u64, u64) {
        crate::epoch::counts()
    }

    /// priv_check(9) returns EPERM for `privilege` from now on.
    pub fn deny_priv(&self, privilege: i32) {
        crate::thread::deny_priv(privilege)
    }

    /// Privileges the module checked, in order.
    pub fn priv_checks(&self) -> Vec<i32> {
        crate::thread::priv_checks()
    }

    /// Map bytes into the fake user address space (for ifr_data pointers).
    pub fn user_alloc(&self, bytes: &[u8]) -> usize {
        crate::thread::user_alloc(bytes)
    }

    /// Read fake user memory back.
    pub fn user_read(&self, addr: usize, len: usize) -> Option<Vec<u8>> {
        crate::thread::user_read(addr, len)
    }
}

fn reset_all() {
    check::take();
    crate::malloc::reset();
    crate::epoch::reset();
    crate::sx::reset();
    crate::thread::reset();
    crate::reset_parts();
}
