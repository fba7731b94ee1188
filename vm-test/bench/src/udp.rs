//! Packet path: a UDP blaster that never waits for replies, and a sink
//! that counts what arrives, both for a fixed time.
use std::net::UdpSocket;
use std::time::{Duration, Instant};

/// Send SIZE-byte datagrams to DST for SECS seconds as fast as the stack
/// takes them; refused sends (ENOBUFS when a queue is full) are counted,
/// not retried.
pub fn blast(dst: &str, secs: u32, size: u32) -> Result<String, String> {
    let s = UdpSocket::bind("0.0.0.0:0").map_err(|e| format!("bind: {e}"))?;
    s.connect(dst).map_err(|e| format!("connect {dst}: {e}"))?;
    let buf = vec![0x5au8; usize::try_from(size).unwrap_or(64)];
    let end = Duration::from_secs(u64::from(secs));
    let t = Instant::now();
    let (mut sent, mut refused) = (0u64, 0u64);
    while t.elapsed() < end {
        for _ in 0..64 {
            match s.send(&buf) {
                Ok(_) => sent += 1,
                Err(_) => refused += 1,
            }
        }
    }
    let secs = t.elapsed().as_secs_f64();
    Ok(format!(
        "op=blast sent={sent} refused={refused} seconds={secs:.2} pps={:.0}",
        sent as f64 / secs
    ))
}

/// Count datagrams arriving on PORT for SECS seconds after the first one.
pub fn sink(port: u32, secs: u32) -> Result<String, String> {
    let s = UdpSocket::bind(("0.0.0.0", u16::try_from(port).map_err(|e| e.to_string())?))
        .map_err(|e| format!("bind: {e}"))?;
    s.set_read_timeout(Some(Duration::from_millis(200)))
        .map_err(|e| e.to_string())?;
    let mut buf = [0u8; 65536];
    let mut got = 0u64;
    let mut first: Option<Instant> = None;
    let wait_end = Instant::now() + Duration::from_secs(u64::from(secs) + 30);
    let end = Duration::from_secs(u64::from(secs));
    loop {
        if first.is_some_and(|f| f.elapsed() >= end) || Instant::now() > wait_end {
            break;
        }
        if s.recv(&mut buf).is_ok() {
            got += 1;
            first.get_or_insert_with(Instant::now);
        }
    }
    let secs = first.map_or(0.0, |f| f.elapsed().as_secs_f64());
    let pps = if secs > 0.0 { got as f64 / secs } else { 0.0 };
    Ok(format!(
        "op=sink received={got} seconds={secs:.2} pps={pps:.0}"
    ))
}
