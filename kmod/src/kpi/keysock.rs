//! An in-kernel PF_KEY socket whose arrivals run a task (issue 11).
//!
//! FreeBSD 14.2 (b66633d79ade): sys/netipsec/keysock.c key_sendup0 appends
//! every message to each listening socket's receive buffer and wakes it
//! (sorwakeup_locked -> the upcall, with the buffer's mutex and
//! keysock_mtx held, possibly from key.c's callout): the upcall only
//! queues a task on `taskqueue_thread`; the task reads the messages with
//! soreceive(MSG_DONTWAIT) where sleeping is allowed.  Dropping a
//! [`KeyWatch`] clears the upcall under the buffer's lock, drains the task
//! (so neither runs afterwards), then closes the socket.
//!
//! The socket's VNET is its creator's credential's (uipc_socket.c
//! socreate: `soalloc(CRED_TO_VNET(cred))`), not curvnet, and it holds
//! that prison: a socket made with a jail's credential would keep the
//! jail, hence its VNET, alive (kern_jail.c prison_deref).  So a watch is
//! only opened where curthread's credential is of the current VNET
//! ([`KeyWatch::open`] checks `so_vnet`).
use alloc::boxed::Box;
use core::cell::UnsafeCell;
use core::ffi::{c_int, c_void};
use core::marker::PhantomData;

use super::epoch::Sleepable;
use super::thread::{curthread, td_field};
use super::tryalloc::try_box;
use super::vnet::{with_vnet, CurVnet, VnetHandle};
use sys_bindings::errno::{ENOBUFS, ENOMEM, EWOULDBLOCK, EXDEV};
use sys_bindings::mbuf::{m_copydata, m_freem, mbuf};
use sys_bindings::net::pfkeyv2::{PF_KEY, PF_KEY_V2, SOCK_RAW};
use sys_bindings::socket::{
    __mtx_lock_flags, __mtx_unlock_flags, m_devget, socket, sockopt, soclose, socreate, soreceive,
    soreserve, sosend, sosetopt, soupcall_clear, soupcall_set, task, taskqueue_drain,
    taskqueue_enqueue, taskqueue_thread, uio, MSG_DONTWAIT, MTX_LOCK_OFFSET, SOL_SOCKET, SOPT_SET,
    SO_RCV, SO_RCV_MTX_OFFSET, SO_RERROR, SO_VNET_OFFSET, SU_OK, UIO_READ, UIO_SYSSPACE,
};
use sys_bindings::thread::TD_UCRED_OFFSET;

/// Receive buffer: room for a burst of SA events and a resync dump of a
/// few thousand SAs (soreserve's ceiling is BUF_MAX_ADJ(sb_max), about
/// 1.8 MB with the default kern.ipc.maxsockbuf).
const RCV_SPACE: u64 = 1 << 20;
/// Send buffer: our requests are 16 bytes.
const SND_SPACE: u64 = 8192;

/// What a [`KeyWatch`]'s task runs.
pub trait KeyHandler: Sized + Send + Sync + 'static {
    /// Messages may be waiting: read them with [`KeyPort::recv`].
    fn ready(&self, port: &KeyPort<'_>, cv: &CurVnet, s: &mut Sleepable);
}

/// One read.
#[derive(Debug, PartialEq, Eq)]
pub enum Recv {
    /// A message of this many bytes (in the caller's buffer).
    Msg(usize),
    /// A message longer than the buffer (dropped).
    TooLong,
    /// Nothing waiting.
    Empty,
    /// The buffer overflowed since the last read: messages were lost.
    Overflow,
    /// Another error.
    Failed(c_int),
}

struct Inner<H> {
    task: UnsafeCell<task>,
    so: *mut socket,
    vnet: VnetHandle,
    handler: H,
}

/// The socket as the task sees it.
pub struct KeyPort<'a> {
    so: *mut socket,
    _l: PhantomData<&'a ()>,
}

/// An open PF_KEY socket with its task.
pub struct KeyWatch<H: KeyHandler> {
    inner: Box<Inner<H>>,
}

// SAFETY: the socket and task are kernel objects usable from any thread;
// the handler is Send + Sync.
unsafe impl<H: KeyHandler> Send for KeyWatch<H> {}
// SAFETY: as above; shared access only reads the pointers.
unsafe impl<H: KeyHandler> Sync for KeyWatch<H> {}

fn rcv_mtx(so: *mut socket) -> *mut usize {
    (so as usize + SO_RCV_MTX_OFFSET + MTX_LOCK_OFFSET) as *mut usize
}

/// SOCK_RECVBUF_LOCK(so) around `f`.
fn with_rcv_lock<R>(so: *mut socket, f: impl FnOnce() -> R) -> R {
    // SAFETY: `so` is a live socket; so_rcv_mtx is its receive buffer's
    // mutex (PF_KEY has no PR_SOCKBUF), initialised by socreate.
    unsafe { __mtx_lock_flags(rcv_mtx(so), 0, c"keysock.rs".as_ptr(), line!() as c_int) };
    let r = f();
    // SAFETY: locked just above by this thread.
    unsafe { __mtx_unlock_flags(rcv_mtx(so), 0, c"keysock.rs".as_ptr(), line!() as c_int) };
    r
}

unsafe extern "C" fn upcall<H: KeyHandler>(_so: *mut socket, arg: *mut c_void, _w: c_int) -> c_int {
    // SAFETY: `arg` is the Inner the upcall was set with; the upcall is
    // cleared (under this same lock) before the Inner goes.  Only the
    // task field is touched, through the kernel's own enqueue.
    unsafe {
        let inner = arg as *const Inner<H>;
        taskqueue_enqueue(taskqueue_thread, (*inner).task.get());
    }
    SU_OK
}

unsafe extern "C" fn run<H: KeyHandler>(ctx: *mut c_void, _pending: c_int) {
    // SAFETY: `ctx` is the Inner the task was initialised with; Drop
    // drains the task before freeing it.
    let inner = unsafe { &*(ctx as *const Inner<H>) };
    let Some(mut s) = Sleepable::here() else {
        return; // a taskqueue thread is never in an epoch
    };
    let port = KeyPort {
        so: inner.so,
        _l: PhantomData,
    };
    with_vnet(inner.vnet, |cv| inner.handler.ready(&port, cv, &mut s));
}

impl<H: KeyHandler> KeyWatch<H> {
    /// Open a socket in the current VNET and start watching it.  EXDEV if
    /// curthread's credential is of another VNET (see the module docs).
    pub fn open(handler: H, cv: &CurVnet, _s: &mut Sleepable) -> Result<KeyWatch<H>, c_int> {
        let so = open_socket(cv)?;
        let inner = match try_box(Inner {
            task: UnsafeCell::new(task {
                ta_link: core::ptr::null_mut(),
                ta_pending: 0,
                ta_priority: 0,
                ta_flags: 0,
                ta_func: Some(run::<H>),
                ta_context: core::ptr::null_mut(),
            }),
            so,
            vnet: cv.vnet(),
            handler,
        }) {
            Ok(b) => b,
            Err(e) => {
                // SAFETY: ours, no upcall yet.
                unsafe { soclose(so) };
                return Err(e);
            }
        };
        let arg = &*inner as *const Inner<H> as *mut c_void;
        // SAFETY: TASK_INIT's context: the Inner, stable in its Box.
        unsafe { (*inner.task.get()).ta_context = arg };
        // SAFETY: soupcall_set requires the receive buffer's lock.
        with_rcv_lock(so, || unsafe { soupcall_set(so, SO_RCV, upcall::<H>, arg) });
        let w = KeyWatch { inner };
        w.kick();
        Ok(w)
    }

    /// Run the task once (messages queued before the upcall was set).
    pub fn kick(&self) {
        // SAFETY: the task is initialised and lives as long as self.
        unsafe { taskqueue_enqueue(taskqueue_thread, self.inner.task.get()) };
    }

    /// The handler.
    pub fn handler(&self) -> &H {
        &self.inner.handler
    }
}

fn open_socket(cv: &CurVnet) -> Result<*mut socket, c_int> {
    let mut so: *mut socket = core::ptr::null_mut();
    let cred = td_field(TD_UCRED_OFFSET) as *mut sys_bindings::thread::ucred;
    // SAFETY: a PF_KEY raw socket for curthread's credential; td is
    // curthread (socreate dereferences it).
    let e = unsafe {
        socreate(
            PF_KEY,
            &mut so,
            SOCK_RAW,
            c_int::from(PF_KEY_V2),
            cred,
            curthread(),
        )
    };
    if e != 0 {
        return Err(e);
    }
    if so.is_null() {
        return Err(ENOMEM);
    }
    // SAFETY: so_vnet is a pointer field of the live socket.
    let vnet = unsafe { ((so as usize + SO_VNET_OFFSET) as *const usize).read() };
    let e = if vnet != cv.vnet().addr() {
        EXDEV
    } else {
        tune(so)
    };
    if e != 0 {
        // SAFETY: ours, no upcall set.
        unsafe { soclose(so) };
        return Err(e);
    }
    Ok(so)
}

/// Room to receive, and SO_RERROR so an overflow is reported
/// (uipc_sockbuf.c soroverflow_locked sets so_rerror only with it).
fn tune(so: *mut socket) -> c_int {
    // SAFETY: live socket; plain sizes.
    let e = unsafe { soreserve(so, SND_SPACE, RCV_SPACE) };
    if e != 0 {
        return e;
    }
    let mut on: c_int = 1;
    let mut opt = sockopt {
        sopt_dir: SOPT_SET,
        sopt_level: SOL_SOCKET,
        sopt_name: SO_RERROR,
        sopt_val: &mut on as *mut c_int as *mut c_void,
        sopt_valsize: core::mem::size_of::<c_int>(),
        sopt_rights: core::ptr::null(),
        sopt_td: core::ptr::null_mut(),
    };
    // SAFETY: sopt_td NULL: sooptcopyin bcopies from our stack variable.
    unsafe { sosetopt(so, &mut opt) }
}

impl KeyPort<'_> {
    /// Read one message into `buf`.
    pub fn recv(&self, buf: &mut [u8]) -> Recv {
        let mut u = uio {
            uio_iov: core::ptr::null_mut(),
            uio_iovcnt: 0,
            uio_offset: 0,
            uio_resid: 1 << 16,
            uio_segflg: UIO_SYSSPACE,
            uio_rw: UIO_READ,
            uio_td: core::ptr::null_mut(),
        };
        let mut m = core::ptr::null_mut();
        let mut flags = MSG_DONTWAIT;
        // SAFETY: live socket (the watch outlives its task); with mp0 the
        // record's chain is handed to us and uio only bounds its length.
        let e = unsafe {
            soreceive(
                self.so,
                core::ptr::null_mut(),
                &mut u,
                &mut m,
                core::ptr::null_mut(),
                &mut flags,
            )
        };
        if m.is_null() {
            return match e {
                0 | EWOULDBLOCK => Recv::Empty,
                ENOBUFS => Recv::Overflow,
                e => Recv::Failed(e),
            };
        }
        // The record's data mbufs: soreceive_generic hands them over
        // without promising a packet header, so walk the chain.
        let r = copy_out(m, buf);
        // SAFETY: ours since soreceive returned it.
        unsafe { m_freem(m) };
        r
    }

    /// Send one request (a whole PF_KEY message).
    pub fn send(&self, msg: &[u8]) -> Result<(), c_int> {
        let len = c_int::try_from(msg.len()).map_err(|_| ENOBUFS)?;
        // SAFETY: m_devget copies `len` bytes of `msg` into a new chain.
        let m = unsafe {
            m_devget(
                msg.as_ptr().cast(),
                len,
                0,
                core::ptr::null_mut(),
                core::ptr::null(),
            )
        };
        if m.is_null() {
            return Err(ENOMEM);
        }
        // SAFETY: live socket; sosend consumes the chain; td NULL is
        // allowed on this path (sosend_generic, key_send).
        let e = unsafe {
            sosend(
                self.so,
                core::ptr::null_mut(),
                core::ptr::null_mut(),
                m,
                core::ptr::null_mut(),
                0,
                core::ptr::null_mut(),
            )
        };
        if e == 0 {
            Ok(())
        } else {
            Err(e)
        }
    }
}

fn copy_out(m: *mut mbuf, buf: &mut [u8]) -> Recv {
    let mut len = 0usize;
    let mut p = m as *const mbuf;
    while !p.is_null() {
        // SAFETY: a chain we own; m_len/m_next of each mbuf.
        let (l, next) = unsafe { ((*p).m_len, (*p).m_next) };
        len += usize::try_from(l).unwrap_or(0);
        p = next;
    }
    if len > buf.len() {
        return Recv::TooLong;
    }
    // SAFETY: the chain holds `len` bytes; `buf` has room for them.
    unsafe { m_copydata(m, 0, len as c_int, buf.as_mut_ptr().cast()) };
    Recv::Msg(len)
}

impl<H: KeyHandler> Drop for KeyWatch<H> {
    fn drop(&mut self) {
        let so = self.inner.so;
        // SAFETY: soupcall_clear requires the lock and a set upcall (set
        // in open, cleared only here).
        with_rcv_lock(so, || unsafe { soupcall_clear(so, SO_RCV) });
        // SAFETY: no upcall can queue the task any more; wait for a
        // queued or running one.
        unsafe { taskqueue_drain(taskqueue_thread, self.inner.task.get()) };
        // SAFETY: ours; nothing refers to it any more.
        unsafe { soclose(so) };
    }
}
