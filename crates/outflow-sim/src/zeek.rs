//! The Zeek conn log writer.

use std::fmt::Write as _;
use std::net::IpAddr;

use crate::Simulated;
use crate::rng::Rng;

/// The header of a Zeek conn log (TSV) with the two label columns.
const HEADER: &str = "#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n#unset_field\t-\n#path\tconn\n\
     #fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\tservice\tduration\torig_bytes\t\
     resp_bytes\tconn_state\tlocal_orig\tlocal_resp\tmissed_bytes\thistory\torig_pkts\torig_ip_bytes\t\
     resp_pkts\tresp_ip_bytes\ttunnel_parents\tlabel\tdetailed-label\n\
     #types\ttime\tstring\taddr\tport\taddr\tport\tenum\tstring\tinterval\tcount\tcount\tstring\tbool\t\
     bool\tcount\tstring\tcount\tcount\tcount\tcount\tset[string]\tstring\tstring\n";

/// Inside the network: the private and local ranges.
fn inside(addr: &str) -> bool {
    match addr.parse::<IpAddr>() {
        Ok(IpAddr::V4(a)) => a.is_private() || a.is_loopback() || a.is_link_local() || a.octets()[0] == 100,
        Ok(IpAddr::V6(a)) => {
            a.is_loopback() || (a.segments()[0] & 0xfe00) == 0xfc00 || (a.segments()[0] & 0xffc0) == 0xfe80
        }
        Err(_) => false,
    }
}

/// Zeek's history letters for a TCP state (what the handshake and teardown looked like).
fn history(proto: &str, state: &str) -> &'static str {
    match (proto, state) {
        ("tcp", "SF") => "ShADadFf",
        ("tcp", "S0") => "S",
        ("tcp", "REJ") => "Sr",
        ("tcp", "S1") => "ShADad",
        ("tcp", "RSTO") => "ShADadR",
        ("tcp", "RSTR") => "ShADadr",
        ("tcp", "SH") => "ShF",
        ("tcp", _) => "^d",
        ("udp", _) => "Dd",
        _ => "-",
    }
}

impl Simulated {
    /// The log as a Zeek conn log (TSV, Zeek's usual `conn.log` fields) with two label columns:
    /// `label` (`Benign` / `Malicious`) and `detailed-label` (the behaviour, `-` for background).
    pub fn to_zeek(&self) -> String {
        let mut s = String::with_capacity(HEADER.len() + 200 * self.conns.len());
        s.push_str(HEADER);
        let mut rng = Rng::new(self.seed ^ 0x5eed);
        let opt = |v: Option<u64>| v.map_or("-".to_owned(), |v| v.to_string());
        const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
        for c in &self.conns {
            let uid: String = (0..17).map(|_| ALPHABET[rng.int(0, 61) as usize] as char).collect();
            let flag = |a: &str| if inside(a) { "T" } else { "F" };
            let (label, detail) = match c.behaviour {
                Some(b) => ("Malicious", b.name()),
                None => ("Benign", "-"),
            };
            let _ = writeln!(
                s,
                "{:.6}\tC{uid}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t0\t{}\t{}\t{}\t{}\t{}\t(empty)\t{label}\t{detail}",
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
                c.history.as_deref().unwrap_or_else(|| history(&c.proto, &c.conn_state)),
                c.orig_pkts,
                c.orig_bytes.unwrap_or(0) + 40 * c.orig_pkts,
                c.resp_pkts,
                c.resp_bytes.unwrap_or(0) + 40 * c.resp_pkts,
            );
        }
        s
    }
}
