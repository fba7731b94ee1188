//! Packet-path verdicts.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use if_ipsec::addr::Family;
use if_ipsec::verdict::*;
use if_ipsec::Errno;
use sys_bindings::ipsec_consts::*;

fn ok_out() -> OutputCheck {
    OutputCheck {
        running: true,
        up: true,
        monitor: false,
        tunnel: true,
        first_byte: Some(0x45),
        out_done_tag: false,
    }
}

/// mirrors if_ipsec.c ipsec_transmit: family from the version nibble.
#[test]
fn ipsec_transmit_send() {
    assert_eq!(
        output_admission(&ok_out()),
        OutputVerdict::Send {
            inner: Family::Inet
        }
    );
    let c = OutputCheck {
        first_byte: Some(0x60),
        ..ok_out()
    };
    assert_eq!(
        output_admission(&c),
        OutputVerdict::Send {
            inner: Family::Inet6
        }
    );
}

/// mirrors if_ipsec.c ipsec_transmit: not RUNNING, MONITOR, not UP or no
/// tunnel -> ENETDOWN.
#[test]
fn ipsec_transmit_enetdown() {
    let cases = [
        OutputCheck {
            running: false,
            ..ok_out()
        },
        OutputCheck {
            up: false,
            ..ok_out()
        },
        OutputCheck {
            monitor: true,
            ..ok_out()
        },
        OutputCheck {
            tunnel: false,
            ..ok_out()
        },
    ];
    for c in cases {
        assert_eq!(
            output_admission(&c),
            OutputVerdict::Drop(Errno::ENETDOWN),
            "{c:?}"
        );
    }
}

/// mirrors if_ipsec.c ipsec_transmit: other IP versions -> EAFNOSUPPORT
/// (checked before the loop tag).
#[test]
fn ipsec_transmit_eafnosupport() {
    for b in [Some(0x00), Some(0x50), Some(0xf0), None] {
        let c = OutputCheck {
            first_byte: b,
            out_done_tag: true,
            ..ok_out()
        };
        assert_eq!(
            output_admission(&c),
            OutputVerdict::Drop(Errno::EAFNOSUPPORT)
        );
    }
}

/// mirrors if_ipsec.c ipsec_transmit: PACKET_TAG_IPSEC_OUT_DONE -> drop (ENETDOWN).
#[test]
fn ipsec_transmit_loop_tag() {
    let c = OutputCheck {
        out_done_tag: true,
        ..ok_out()
    };
    assert_eq!(output_admission(&c), OutputVerdict::Drop(Errno::ENETDOWN));
}

/// mirrors if_ipsec.c ipsec_if_input (SA state check) behind
/// ipsec_input.c's tunnel-mode test: mode/proto first, then SA state.
#[test]
fn ipsec_if_input_precheck() {
    let sa = |state, mode, proto| SaCheck { state, mode, proto };
    let t = IPSEC_MODE_TUNNEL;
    assert_eq!(
        input_precheck(&sa(SADB_SASTATE_MATURE, t, IPPROTO_ESP)),
        InputPre::Lookup
    );
    assert_eq!(
        input_precheck(&sa(SADB_SASTATE_DYING, t, IPPROTO_ESP)),
        InputPre::Lookup
    );
    assert_eq!(
        input_precheck(&sa(SADB_SASTATE_LARVAL, t, IPPROTO_ESP)),
        InputPre::DropDeadSa
    );
    // Not tunnel-mode ESP: not ours, whatever the state (issue 8: the
    // mode and protocol come first).
    assert_eq!(
        input_precheck(&sa(SADB_SASTATE_DEAD, 1, 51)),
        InputPre::NotOurs
    );
    assert_eq!(
        input_precheck(&sa(SADB_SASTATE_DEAD, t, 51)),
        InputPre::NotOurs
    );
    assert_eq!(
        input_precheck(&sa(SADB_SASTATE_DEAD, 1, IPPROTO_ESP)),
        InputPre::NotOurs
    );
    assert_eq!(
        input_precheck(&sa(SADB_SASTATE_DEAD, t, IPPROTO_ESP)),
        InputPre::DropDeadSa
    );
    assert_eq!(
        input_precheck(&sa(SADB_SASTATE_MATURE, 1, IPPROTO_ESP)),
        InputPre::NotOurs
    );
    assert_eq!(
        input_precheck(&sa(SADB_SASTATE_MATURE, t, 51)),
        InputPre::NotOurs
    );
}

/// mirrors if_ipsec.c ipsec_if_input: not found -> pass through; down ->
/// drop; MONITOR -> deliver to BPF then drop.
#[test]
fn ipsec_if_input_admission() {
    let up = InputIf {
        running: true,
        up: true,
        monitor: false,
    };
    assert_eq!(input_admission(None), InputVerdict::NotFound);
    assert_eq!(
        input_admission(Some(up)),
        InputVerdict::Deliver {
            monitor_drop: false
        }
    );
    assert_eq!(
        input_admission(Some(InputIf {
            monitor: true,
            ..up
        })),
        InputVerdict::Deliver { monitor_drop: true }
    );
    assert_eq!(
        input_admission(Some(InputIf { up: false, ..up })),
        InputVerdict::DropDown
    );
    assert_eq!(
        input_admission(Some(InputIf {
            running: false,
            ..up
        })),
        InputVerdict::DropDown
    );
}
