//! The planted behaviours: what an attacker's host does, connection by connection.

use crate::SimParams;
use crate::rng::Rng;

/// A planted behaviour.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Behaviour {
    /// Periodic multi-megabyte uploads to one outside host.
    SlowExfil,
    /// One multi-gigabyte upload.
    BulkExfil,
    /// Small periodic connections to one outside host.
    Beacon,
    /// One port on many inside addresses.
    HorizontalScan,
    /// Many ports on one inside address.
    VerticalScan,
    /// Many large DNS requests to one resolver.
    DnsTunnel,
}

impl Behaviour {
    /// Every behaviour.
    pub const ALL: [Behaviour; 6] = [
        Behaviour::SlowExfil,
        Behaviour::BulkExfil,
        Behaviour::Beacon,
        Behaviour::HorizontalScan,
        Behaviour::VerticalScan,
        Behaviour::DnsTunnel,
    ];

    /// The name written in `detailed-label`.
    pub fn name(self) -> &'static str {
        match self {
            Behaviour::SlowExfil => "slow_exfil",
            Behaviour::BulkExfil => "bulk_exfil",
            Behaviour::Beacon => "beacon",
            Behaviour::HorizontalScan => "horizontal_scan",
            Behaviour::VerticalScan => "vertical_scan",
            Behaviour::DnsTunnel => "dns_tunnel",
        }
    }

    /// The behaviour of a name written by [`Behaviour::name`].
    pub fn from_name(name: &str) -> Option<Behaviour> {
        Behaviour::ALL.into_iter().find(|b| b.name() == name)
    }
}

/// One connection.
#[derive(Debug, Clone, PartialEq)]
pub struct Conn {
    /// Start, seconds since the epoch.
    pub ts: f64,
    /// Originator.
    pub orig_h: String,
    /// Originator port.
    pub orig_p: u32,
    /// Responder.
    pub resp_h: String,
    /// Responder port.
    pub resp_p: u32,
    /// `tcp`, `udp`, `icmp`.
    pub proto: String,
    /// Application protocol (`-` when unknown).
    pub service: String,
    /// Seconds (`None`: unset).
    pub duration: Option<f64>,
    /// Payload bytes sent by the originator (`None`: unset).
    pub orig_bytes: Option<u64>,
    /// Payload bytes sent by the responder.
    pub resp_bytes: Option<u64>,
    /// Zeek's connection state.
    pub conn_state: String,
    /// Packets from the originator.
    pub orig_pkts: u64,
    /// Packets from the responder.
    pub resp_pkts: u64,
    /// Zeek's history letters; `None`: the usual ones for the protocol and state.
    pub history: Option<String>,
    /// The behaviour, `None` for background.
    pub behaviour: Option<Behaviour>,
}

/// One connection; packets follow from the bytes (1,400 payload bytes a packet).
#[allow(clippy::too_many_arguments)]
pub(crate) fn conn(
    b: Option<Behaviour>,
    ts: f64,
    orig: &str,
    rng: &mut Rng,
    resp: &str,
    resp_p: u32,
    proto: &str,
    service: &str,
    duration: Option<f64>,
    bytes: (Option<u64>, Option<u64>),
    state: &str,
) -> Conn {
    let pkts = |b: Option<u64>| b.map_or(1, |b| 1 + b / 1400);
    Conn {
        ts,
        orig_h: orig.to_owned(),
        orig_p: rng.int(32768, 60999) as u32,
        resp_h: resp.to_owned(),
        resp_p,
        proto: proto.into(),
        service: service.into(),
        duration,
        orig_bytes: bytes.0,
        resp_bytes: bytes.1,
        conn_state: state.into(),
        orig_pkts: pkts(bytes.0),
        resp_pkts: if state == "S0" { 0 } else { pkts(bytes.1) },
        history: None,
        behaviour: b,
    }
}

/// Plants one behaviour on `host` over the timeline of `p`, appending its connections to `out`; returns
/// its counterpart address (the outside host, the resolver or the scanned server; empty for a horizontal
/// scan). Draws from `rng` in a fixed order, so a seed gives the same connections.
pub fn plant(b: Behaviour, host: &str, p: &SimParams, rng: &mut Rng, out: &mut Vec<Conn>) -> String {
    let (start, end) = (p.start, p.start + p.hours * 3600.0);
    match b {
        Behaviour::SlowExfil => {
            let dst = rng.public_ip();
            let mut t = start + rng.uniform(0.0, 900.0);
            while t < end {
                let up = rng.int(2_000_000, 5_000_000);
                let down = Some(rng.int(3_000, 8_000));
                let d = Some(rng.uniform(5.0, 30.0));
                out.push(conn(Some(b), t, host, rng, &dst, 443, "tcp", "ssl", d, (Some(up), down), "SF"));
                t += rng.uniform(600.0, 1200.0);
            }
            dst
        }
        Behaviour::BulkExfil => {
            let dst = rng.public_ip();
            let t = rng.uniform(start, end - 3600.0);
            let up = rng.int(2_000_000_000, 4_000_000_000);
            let d = Some(rng.uniform(1800.0, 3600.0));
            let down = Some(rng.int(50_000, 200_000));
            out.push(conn(Some(b), t, host, rng, &dst, 443, "tcp", "ssl", d, (Some(up), down), "SF"));
            dst
        }
        Behaviour::Beacon => {
            let dst = rng.public_ip();
            let mut t = start + rng.uniform(0.0, 60.0);
            while t < end {
                let bytes = (Some(rng.int(200, 240)), Some(rng.int(350, 450)));
                let d = Some(rng.uniform(0.1, 0.5));
                out.push(conn(Some(b), t, host, rng, &dst, 443, "tcp", "ssl", d, bytes, "SF"));
                t += 60.0 * rng.uniform(0.9, 1.1);
            }
            dst
        }
        Behaviour::HorizontalScan => {
            let n = rng.int(256, 1024);
            let t0 = rng.uniform(start, end - 900.0);
            for i in 0..n {
                let dst = format!("10.0.{}.{}", 4 + i / 254, 1 + i % 254);
                let state = if rng.uniform(0.0, 1.0) < 0.2 { "REJ" } else { "S0" };
                let t = t0 + rng.uniform(0.0, 900.0);
                out.push(conn(Some(b), t, host, rng, &dst, 445, "tcp", "-", None, (None, None), state));
            }
            String::new()
        }
        Behaviour::VerticalScan => {
            let dst = "10.0.3.200".to_owned();
            let t0 = rng.uniform(start, end - 600.0);
            for port in 1..=1024u32 {
                let state = if rng.uniform(0.0, 1.0) < 0.5 { "REJ" } else { "S0" };
                let t = t0 + rng.uniform(0.0, 600.0);
                out.push(conn(Some(b), t, host, rng, &dst, port, "tcp", "-", None, (None, None), state));
            }
            dst
        }
        Behaviour::DnsTunnel => {
            let dst = "10.0.0.53".to_owned();
            let t0 = rng.uniform(start, end - 7200.0);
            for _ in 0..3000 {
                let t = t0 + rng.uniform(0.0, 7200.0);
                let bytes = (Some(rng.int(180, 250)), Some(rng.int(80, 200)));
                let d = Some(rng.uniform(0.01, 0.1));
                out.push(conn(Some(b), t, host, rng, &dst, 53, "udp", "dns", d, bytes, "SF"));
            }
            dst
        }
    }
}
