//! In-kernel sockets, the receive-buffer mutex and the system taskqueue:
//! what the module's PF_KEY listener (issue 11) uses.
//!
//! Read from FreeBSD 14.2 (b66633d79ade): sys/sys/socketvar.h (`struct
//! socket`, `so_upcall_t`, `SU_OK`, `SOCK_RECVBUF_MTX`: the receive
//! buffer's mutex is the embedded `so_rcv_mtx` for sockets without
//! `PR_SOCKBUF`, which PF_KEY's protosw lacks), sys/kern/uipc_socket.c
//! (socreate, soclose, sosend, soreceive, sosetopt, soupcall_set/clear:
//! the caller holds the buffer's lock), sys/kern/uipc_sockbuf.c
//! (soreserve), sys/sys/uio.h, sys/sys/sockopt.h, sys/sys/mutex.h
//! (`mtx_lock` in a KLD_MODULE is `__mtx_lock_flags(&m->mtx_lock, 0, file,
//! line)`), sys/sys/taskqueue.h + sys/sys/_task.h (`struct task`,
//! `TASK_INIT`, `taskqueue_thread`), sys/kern/uipc_mbuf.c (m_devget).
//! Offsets computed from the 14.2 sysroot headers (`-D_WANT_SOCKET`,
//! amd64) and pinned here.

use core::ffi::{c_char, c_int, c_void};
use core::mem::{offset_of, size_of};
use static_assertions::const_assert_eq;

use crate::mbuf::mbuf;
use crate::thread::{thread, ucred};

/// `struct socket`: opaque; reached through the offsets below.
#[repr(C)]
pub struct socket {
    _opaque: [u8; 0],
}

/// `offsetof(struct socket, so_vnet)` (`struct vnet *`).
pub const SO_VNET_OFFSET: usize = 200;
/// `offsetof(struct socket, so_rcv_mtx)` (`struct mtx`: the receive
/// buffer's lock, `SOCK_RECVBUF_MTX(so)`).
pub const SO_RCV_MTX_OFFSET: usize = 480;
/// `sizeof(struct socket)` on amd64.
pub const SIZEOF_SOCKET: usize = 1024;
/// `offsetof(struct mtx, mtx_lock)`: after the `struct lock_object` (24
/// bytes); what `__mtx_lock_flags` takes.
pub const MTX_LOCK_OFFSET: usize = 24;

/// `SO_RCV` (`typedef enum { SO_RCV, SO_SND } sb_which`, sys/sys/sockbuf.h).
pub const SO_RCV: c_int = 0;
/// `SU_OK`: an upcall's usual return.
pub const SU_OK: c_int = 0;
/// `MSG_DONTWAIT` (sys/sys/socket.h).
pub const MSG_DONTWAIT: c_int = 0x80;
/// `SOL_SOCKET`.
pub const SOL_SOCKET: c_int = 0xffff;
/// `SO_RERROR`: keep receive errors (a full buffer) for the reader.
pub const SO_RERROR: c_int = 0x0002_0000;
/// `SOPT_SET` (`enum sopt_dir`).
pub const SOPT_SET: c_int = 1;
/// `UIO_SYSSPACE` (`enum uio_seg`).
pub const UIO_SYSSPACE: c_int = 1;
/// `UIO_READ` (`enum uio_rw`).
pub const UIO_READ: c_int = 0;

/// `so_upcall_t`: runs with the buffer's lock held, must not sleep.
pub type so_upcall_t =
    unsafe extern "C" fn(so: *mut socket, arg: *mut c_void, waitflag: c_int) -> c_int;

/// `struct uio` (sys/sys/uio.h).  With `soreceive(.., mp0, ..)` only
/// `uio_resid` counts (uipc_socket.c soreceive_generic).
#[repr(C)]
pub struct uio {
    pub uio_iov: *mut c_void,
    pub uio_iovcnt: c_int,
    pub uio_offset: i64,
    pub uio_resid: isize,
    pub uio_segflg: c_int,
    pub uio_rw: c_int,
    pub uio_td: *mut thread,
}

/// `struct sockopt` (sys/sys/sockopt.h).  With `sopt_td` NULL the value
/// is copied with bcopy (kernel memory).
#[repr(C)]
pub struct sockopt {
    pub sopt_dir: c_int,
    pub sopt_level: c_int,
    pub sopt_name: c_int,
    pub sopt_val: *mut c_void,
    pub sopt_valsize: usize,
    /// `const struct cap_rights *`: Capsicum rights of the descriptor.
    pub sopt_rights: *const c_void,
    pub sopt_td: *mut thread,
}

/// `task_fn_t`.
pub type task_fn_t = unsafe extern "C" fn(context: *mut c_void, pending: c_int);

/// `struct task` (sys/sys/_task.h); `TASK_INIT` fills it.
#[repr(C)]
pub struct task {
    pub ta_link: *mut task,
    pub ta_pending: u16,
    pub ta_priority: u8,
    pub ta_flags: u8,
    pub ta_func: Option<task_fn_t>,
    pub ta_context: *mut c_void,
}

/// `struct taskqueue`: opaque.
#[repr(C)]
pub struct taskqueue {
    _opaque: [u8; 0],
}

const_assert_eq!(size_of::<uio>(), 48);
const_assert_eq!(offset_of!(uio, uio_resid), 24);
const_assert_eq!(offset_of!(uio, uio_td), 40);
const_assert_eq!(size_of::<sockopt>(), 48);
const_assert_eq!(offset_of!(sockopt, sopt_val), 16);
const_assert_eq!(offset_of!(sockopt, sopt_td), 40);
const_assert_eq!(size_of::<task>(), 32);
const_assert_eq!(offset_of!(task, ta_func), 16);

extern "C" {
    /// `int socreate(int dom, struct socket **aso, int type, int proto,
    /// struct ucred *cred, struct thread *td)`: the socket's VNET is
    /// `cred`'s (CRED_TO_VNET); `td` must not be NULL; PF_KEY's
    /// key_attach checks PRIV_NET_RAW of `td`.  uipc_socket.c; kernel.
    pub fn socreate(
        dom: c_int,
        aso: *mut *mut socket,
        ty: c_int,
        proto: c_int,
        cred: *mut ucred,
        td: *mut thread,
    ) -> c_int;

    /// `int soclose(struct socket *so)`: frees it (PF_KEY returns
    /// EOPNOTSUPP from the disconnect, the socket goes all the same).
    pub fn soclose(so: *mut socket) -> c_int;

    /// `int soreserve(struct socket *so, u_long sndcc, u_long rcvcc)`.
    /// uipc_sockbuf.c; kernel.
    pub fn soreserve(so: *mut socket, sndcc: u64, rcvcc: u64) -> c_int;

    /// `int sosend(struct socket *so, struct sockaddr *addr, struct uio
    /// *uio, struct mbuf *top, struct mbuf *control, int flags, struct
    /// thread *td)`: consumes `top`.
    pub fn sosend(
        so: *mut socket,
        addr: *mut c_void,
        uio: *mut uio,
        top: *mut mbuf,
        control: *mut mbuf,
        flags: c_int,
        td: *mut thread,
    ) -> c_int;

    /// `int soreceive(struct socket *so, struct sockaddr **psa, struct uio
    /// *uio, struct mbuf **mp0, struct mbuf **controlp, int *flagsp)`.
    pub fn soreceive(
        so: *mut socket,
        psa: *mut *mut c_void,
        uio: *mut uio,
        mp0: *mut *mut mbuf,
        controlp: *mut *mut mbuf,
        flagsp: *mut c_int,
    ) -> c_int;

    /// `int sosetopt(struct socket *so, struct sockopt *sopt)`.
    pub fn sosetopt(so: *mut socket, sopt: *mut sockopt) -> c_int;

    /// `void soupcall_set(struct socket *so, sb_which which, so_upcall_t
    /// func, void *arg)`: the buffer's lock must be held.
    pub fn soupcall_set(so: *mut socket, which: c_int, func: so_upcall_t, arg: *mut c_void);

    /// `void soupcall_clear(struct socket *so, sb_which which)`: lock
    /// held, an upcall set.
    pub fn soupcall_clear(so: *mut socket, which: c_int);

    /// `void __mtx_lock_flags(volatile uintptr_t *c, int opts, const char
    /// *file, int line)`.  kern_mutex.c; kernel.
    pub fn __mtx_lock_flags(c: *mut usize, opts: c_int, file: *const c_char, line: c_int);

    /// `void __mtx_unlock_flags(volatile uintptr_t *c, int opts, const
    /// char *file, int line)`.
    pub fn __mtx_unlock_flags(c: *mut usize, opts: c_int, file: *const c_char, line: c_int);

    /// `int taskqueue_enqueue(struct taskqueue *queue, struct task *task)`.
    /// subr_taskqueue.c; kernel.
    pub fn taskqueue_enqueue(queue: *mut taskqueue, task: *mut task) -> c_int;

    /// `void taskqueue_drain(struct taskqueue *queue, struct task *task)`:
    /// waits until the task is neither queued nor running.
    pub fn taskqueue_drain(queue: *mut taskqueue, task: *mut task);

    /// `struct taskqueue *taskqueue_thread` (TASKQUEUE_DEFINE_THREAD).
    pub static taskqueue_thread: *mut taskqueue;

    /// `struct mbuf *m_devget(char *buf, int totlen, int off, struct ifnet
    /// *ifp, void (*copy)(char *from, caddr_t to, u_int len))`: a packet
    /// header chain holding a copy of `buf` (M_NOWAIT: NULL without
    /// memory).  uipc_mbuf.c; kernel.
    pub fn m_devget(
        buf: *const c_char,
        totlen: c_int,
        off: c_int,
        ifp: *mut c_void,
        copy: *const c_void,
    ) -> *mut mbuf;
}
