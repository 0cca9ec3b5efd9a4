//! A seeded simulator of a monitored network: real benign Zeek traffic from several captures, mapped onto
//! one set of internal hosts and one timeline, with planted behaviours that no single flow shows.
//!
//! The log it writes is a Zeek conn log (TSV, the usual `conn.log` fields) with two label columns:
//! `label` (`Benign` / `Malicious`) and `detailed-label` (the behaviour's name, `-` for background), so
//! the truth per host, pair and window follows from the flows. Planted behaviours ([`Behaviour`]), each on
//! its own internal host:
//!
//! | behaviour | what the host does |
//! |---|---|
//! | `slow_exfil` | uploads 2–5 MB to one outside host every 10–20 minutes, all day |
//! | `bulk_exfil` | one upload of 2–4 GB to an outside host, 30–60 minutes long |
//! | `beacon` | small TLS connections to one outside host every 60 s ± 10 %, all day |
//! | `horizontal_scan` | port 445 on 256–1,024 inside addresses within 15 minutes, unanswered or rejected |
//! | `vertical_scan` | ports 1–1,024 of one inside server within 10 minutes |
//! | `dns_tunnel` | 3,000 DNS queries with 180–250-byte requests to one resolver over two hours |
//!
//! Background: every flow of each capture whose label (when it has one) is not malicious, its inside
//! originators (private addresses) mapped to the simulated hosts `10.0.0.1`–`10.0.0.N` (round robin per
//! capture, so hosts mix traffic of several captures), its times shifted to a seeded start in the
//! timeline and the capture repeated until the timeline is covered. Outputs are deterministic for a seed.

use std::fmt::Write as _;

use outflow::aggregate::Networks;
use outflow::io::Table;

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
}

/// What to simulate.
#[derive(Debug, Clone)]
pub struct SimParams {
    /// Simulated inside hosts (`10.0.0.1` … `10.0.0.N`).
    pub hosts: usize,
    /// Length of the timeline in hours.
    pub hours: f64,
    /// Start of the timeline, seconds since the epoch.
    pub start: f64,
    /// Seed of every random choice.
    pub seed: u64,
    /// The behaviours planted.
    pub behaviours: Vec<Behaviour>,
}

impl Default for SimParams {
    fn default() -> Self {
        // 2024-03-04 00:00:00 UTC.
        SimParams { hosts: 12, hours: 24.0, start: 1_709_510_400.0, seed: 1, behaviours: Behaviour::ALL.to_vec() }
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
    /// The behaviour, `None` for background.
    pub behaviour: Option<Behaviour>,
}

/// A simulated log.
#[derive(Debug, Clone)]
pub struct Simulated {
    /// Connections, in time order.
    pub conns: Vec<Conn>,
    /// The inside host each behaviour was planted on, and its counterpart (outside host, resolver, scan
    /// target; empty for a horizontal scan).
    pub planted: Vec<(Behaviour, String, String)>,
}

/// A small, seeded generator (xorshift64*): enough for a simulator, no dependency.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A generator for a seed.
    pub fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// Uniform in `[lo, hi)`.
    pub fn uniform(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * ((self.next_u64() >> 11) as f64 / (1u64 << 53) as f64)
    }

    /// Uniform integer in `[lo, hi]`.
    pub fn int(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.next_u64() % (hi - lo + 1)
    }

    /// A public (not private, not reserved) IPv4 address.
    pub fn public_ip(&mut self) -> String {
        loop {
            let a = self.int(11, 223);
            if [100, 127, 169, 172, 192].contains(&a) {
                continue;
            }
            return format!("{a}.{}.{}.{}", self.int(0, 255), self.int(0, 255), self.int(1, 254));
        }
    }
}

fn text(t: &Table, col: &str, i: usize) -> Option<String> {
    t.column(col).filter(|c| !c.is_null(i)).map(|c| c.value(i).to_string())
}

fn number(t: &Table, col: &str, i: usize) -> Option<f64> {
    t.column(col).and_then(|c| c.f64_at(i)).filter(|v| v.is_finite())
}

fn benign(t: &Table, i: usize) -> bool {
    ["label", "detailed-label", "detailedlabel"]
        .iter()
        .all(|c| text(t, c, i).is_none_or(|v| !v.to_ascii_lowercase().contains("malicious")))
}

/// The background connections of one capture, as read (times and addresses not yet mapped).
fn capture(t: &Table) -> Vec<Conn> {
    (0..t.n_rows())
        .filter(|&i| benign(t, i))
        .filter_map(|i| {
            Some(Conn {
                ts: number(t, "ts", i)?,
                orig_h: text(t, "id.orig_h", i)?,
                orig_p: number(t, "id.orig_p", i).unwrap_or(0.0) as u32,
                resp_h: text(t, "id.resp_h", i)?,
                resp_p: number(t, "id.resp_p", i).unwrap_or(0.0) as u32,
                proto: text(t, "proto", i).unwrap_or_else(|| "tcp".into()),
                service: text(t, "service", i).filter(|s| !s.is_empty()).unwrap_or_else(|| "-".into()),
                duration: number(t, "duration", i),
                orig_bytes: number(t, "orig_bytes", i).map(|v| v as u64),
                resp_bytes: number(t, "resp_bytes", i).map(|v| v as u64),
                conn_state: text(t, "conn_state", i).unwrap_or_else(|| "OTH".into()),
                orig_pkts: number(t, "orig_pkts", i).unwrap_or(0.0) as u64,
                resp_pkts: number(t, "resp_pkts", i).unwrap_or(0.0) as u64,
                behaviour: None,
            })
        })
        .collect()
}

/// Simulates a log from background captures (Zeek conn tables).
pub fn simulate(captures: &[Table], p: &SimParams) -> Simulated {
    let mut rng = Rng::new(p.seed);
    let inside = Networks::private();
    let hosts: Vec<String> = (1..=p.hosts.max(Behaviour::ALL.len())).map(|k| format!("10.0.0.{k}")).collect();
    let span = p.hours * 3600.0;
    let end = p.start + span;
    let mut conns: Vec<Conn> = Vec::new();
    let mut next_host = 0usize;
    for t in captures {
        let mut flows = capture(t);
        if flows.is_empty() {
            continue;
        }
        flows.sort_by(|a, b| a.ts.total_cmp(&b.ts));
        let (first, last) = (flows[0].ts, flows[flows.len() - 1].ts);
        let length = (last - first).max(60.0);
        // Inside originators of this capture → simulated hosts, round robin from a seeded start.
        let mut map: Vec<(String, String)> = Vec::new();
        next_host += rng.int(0, hosts.len() as u64 - 1) as usize;
        let mut place = |addr: &str, map: &mut Vec<(String, String)>| -> Option<String> {
            if !inside.contains_str(addr) || addr.starts_with("fe80") || addr.starts_with("ff") {
                return None;
            }
            if let Some((_, to)) = map.iter().find(|(from, _)| from == addr) {
                return Some(to.clone());
            }
            let to = hosts[next_host % hosts.len()].clone();
            next_host += 1;
            map.push((addr.to_owned(), to.clone()));
            Some(to)
        };
        let mut offset = p.start - first + rng.uniform(0.0, length.min(span));
        offset -= ((offset + first - p.start) / length).ceil() * length; // start the tiling before the timeline
        while first + offset < end {
            for f in &flows {
                let ts = f.ts + offset;
                if ts < p.start || ts >= end {
                    continue;
                }
                let (Some(orig), resp) = (place(&f.orig_h, &mut map), place(&f.resp_h, &mut map)) else {
                    continue;
                };
                conns.push(Conn { ts, orig_h: orig, resp_h: resp.unwrap_or_else(|| f.resp_h.clone()), ..f.clone() });
            }
            offset += length + rng.uniform(60.0, 600.0);
        }
    }
    let mut planted = Vec::new();
    let mut order: Vec<usize> = (0..hosts.len()).collect();
    for i in (1..order.len()).rev() {
        order.swap(i, rng.int(0, i as u64) as usize);
    }
    for (k, &b) in p.behaviours.iter().enumerate() {
        let host = hosts[order[k % order.len()]].clone();
        let peer = plant(b, &host, p, &mut rng, &mut conns);
        planted.push((b, host, peer));
    }
    conns.sort_by(|a, b| a.ts.total_cmp(&b.ts).then_with(|| a.orig_h.cmp(&b.orig_h)));
    Simulated { conns, planted }
}

#[allow(clippy::too_many_arguments)]
fn conn(
    b: Behaviour,
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
        behaviour: Some(b),
    }
}

/// Plants one behaviour on `host`; returns its counterpart address.
fn plant(b: Behaviour, host: &str, p: &SimParams, rng: &mut Rng, out: &mut Vec<Conn>) -> String {
    let (start, end) = (p.start, p.start + p.hours * 3600.0);
    match b {
        Behaviour::SlowExfil => {
            let dst = rng.public_ip();
            let mut t = start + rng.uniform(0.0, 900.0);
            while t < end {
                let up = rng.int(2_000_000, 5_000_000);
                let down = Some(rng.int(3_000, 8_000));
                let d = Some(rng.uniform(5.0, 30.0));
                out.push(conn(b, t, host, rng, &dst, 443, "tcp", "ssl", d, (Some(up), down), "SF"));
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
            out.push(conn(b, t, host, rng, &dst, 443, "tcp", "ssl", d, (Some(up), down), "SF"));
            dst
        }
        Behaviour::Beacon => {
            let dst = rng.public_ip();
            let mut t = start + rng.uniform(0.0, 60.0);
            while t < end {
                let bytes = (Some(rng.int(200, 240)), Some(rng.int(350, 450)));
                let d = Some(rng.uniform(0.1, 0.5));
                out.push(conn(b, t, host, rng, &dst, 443, "tcp", "ssl", d, bytes, "SF"));
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
                out.push(conn(b, t, host, rng, &dst, 445, "tcp", "-", None, (None, None), state));
            }
            String::new()
        }
        Behaviour::VerticalScan => {
            let dst = "10.0.3.200".to_owned();
            let t0 = rng.uniform(start, end - 600.0);
            for port in 1..=1024u32 {
                let state = if rng.uniform(0.0, 1.0) < 0.5 { "REJ" } else { "S0" };
                let t = t0 + rng.uniform(0.0, 600.0);
                out.push(conn(b, t, host, rng, &dst, port, "tcp", "-", None, (None, None), state));
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
                out.push(conn(b, t, host, rng, &dst, 53, "udp", "dns", d, bytes, "SF"));
            }
            dst
        }
    }
}

impl Simulated {
    /// The log as a Zeek conn log (TSV).
    pub fn to_zeek(&self, seed: u64) -> String {
        let mut s = String::from(
            "#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n#unset_field\t-\n#path\tconn\n\
             #fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\tservice\tduration\torig_bytes\t\
             resp_bytes\tconn_state\tlocal_orig\tlocal_resp\tmissed_bytes\thistory\torig_pkts\torig_ip_bytes\t\
             resp_pkts\tresp_ip_bytes\ttunnel_parents\tlabel\tdetailed-label\n\
             #types\ttime\tstring\taddr\tport\taddr\tport\tenum\tstring\tinterval\tcount\tcount\tstring\tbool\t\
             bool\tcount\tstring\tcount\tcount\tcount\tcount\tset[string]\tstring\tstring\n",
        );
        let inside = Networks::private();
        let mut rng = Rng::new(seed ^ 0x5eed);
        let opt = |v: Option<u64>| v.map_or("-".to_owned(), |v| v.to_string());
        for c in &self.conns {
            let uid: String = (0..17)
                .map(|_| {
                    b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"[rng.int(0, 61) as usize] as char
                })
                .collect();
            let flag = |a: &str| if inside.contains_str(a) { "T" } else { "F" };
            let (label, detail) = match c.behaviour {
                Some(b) => ("Malicious", b.name()),
                None => ("Benign", "-"),
            };
            let _ = writeln!(
                s,
                "{:.6}\tC{uid}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t0\t-\t{}\t{}\t{}\t{}\t(empty)\t{label}\t{detail}",
                c.ts,
                c.orig_h,
                c.orig_p,
                c.resp_h,
                c.resp_p,
                c.proto,
                c.service,
                c.duration.map_or("-".to_owned(), |d| format!("{d:.6}")),
                opt(c.orig_bytes),
                opt(c.resp_bytes),
                c.conn_state,
                flag(&c.orig_h),
                flag(&c.resp_h),
                c.orig_pkts,
                c.orig_bytes.unwrap_or(0) + 40 * c.orig_pkts,
                c.resp_pkts,
                c.resp_bytes.unwrap_or(0) + 40 * c.resp_pkts,
            );
        }
        s
    }
}
