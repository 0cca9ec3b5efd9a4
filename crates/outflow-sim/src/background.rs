//! The background: an office network's ordinary traffic, host by host.
//!
//! Each workstation has its own working hours, browsing rate and habits (a mail client polling its
//! server, file sync to a cloud provider, video, printing); every one keeps its clock with NTP, checks
//! for updates and downloads one large update a day; some stay on overnight. Servers answer: the
//! resolver forwards cache misses upstream, the file server backs up to an inside backup host at night,
//! and the web server (intranet, exposed to the internet) takes the internet's background probes. Sizes and durations are
//! log-normal, destinations of browsing follow a Zipf law over a few thousand sites, connection states
//! mix the failures real logs hold (S0, REJ, RSTO, RSTR, SH, OTH).

use crate::behaviour::{Conn, conn};
use crate::rng::Rng;
use crate::{SimParams, addresses};

/// One workstation's habits.
struct Habits {
    addr: String,
    /// Hours of the day, fractional: arrival, departure.
    day: (f64, f64),
    /// Stays on outside working hours (clock sync, update checks).
    always_on: bool,
    /// Web visits per minute at the desk.
    browse_rate: f64,
    mail_client: bool,
    cloud_sync: Option<String>,
    video: bool,
    ntp_server: String,
}

/// Draws a connection state with its share in ordinary traffic; failed states carry no payload.
fn tcp_state(rng: &mut Rng) -> &'static str {
    const STATES: [(&str, f64); 8] = [
        ("SF", 0.84),
        ("S1", 0.03),
        ("RSTO", 0.04),
        ("RSTR", 0.03),
        ("SH", 0.015),
        ("S0", 0.025),
        ("REJ", 0.005),
        ("OTH", 0.015),
    ];
    let mut x = rng.uniform(0.0, 1.0);
    for (state, share) in STATES {
        if x < share {
            return state;
        }
        x -= share;
    }
    "SF"
}

/// Whether a state means no payload was exchanged.
fn failed(state: &str) -> bool {
    matches!(state, "S0" | "REJ" | "SH" | "OTH")
}

/// A generator of background connections.
struct Office<'a> {
    rng: &'a mut Rng,
    out: Vec<Conn>,
    start: f64,
    end: f64,
}

impl Office<'_> {
    /// One TCP exchange with a drawn state: payload sizes and duration apply when it succeeded.
    #[allow(clippy::too_many_arguments)]
    fn tcp(&mut self, ts: f64, orig: &str, resp: &str, port: u32, service: &str, up: f64, down: f64, secs: f64) {
        if ts < self.start || ts >= self.end {
            return;
        }
        let state = tcp_state(self.rng);
        let c = if failed(state) {
            let d = (state != "S0").then(|| self.rng.uniform(0.0, 0.2));
            conn(None, ts, orig, self.rng, resp, port, "tcp", "-", d, (Some(0), Some(0)), state)
        } else {
            let bytes = (Some(up as u64), Some(down as u64));
            conn(None, ts, orig, self.rng, resp, port, "tcp", service, Some(secs), bytes, state)
        };
        self.out.push(c);
    }

    /// One UDP exchange (always answered).
    #[allow(clippy::too_many_arguments)]
    fn udp(&mut self, ts: f64, orig: &str, resp: &str, port: u32, service: &str, up: f64, down: f64, secs: f64) {
        if ts < self.start || ts >= self.end {
            return;
        }
        let bytes = (Some(up as u64), Some(down as u64));
        let c = conn(None, ts, orig, self.rng, resp, port, "udp", service, Some(secs), bytes, "SF");
        self.out.push(c);
    }

    /// A name lookup at the resolver; a cache miss is forwarded upstream.
    fn lookup(&mut self, ts: f64, host: &str, upstream: &[String; 2]) {
        let (q, a) = (self.rng.lognormal(40.0, 0.25, 17.0, 120.0), self.rng.lognormal(120.0, 0.6, 30.0, 900.0));
        let secs = self.rng.lognormal(0.01, 1.0, 0.0005, 1.5);
        self.udp(ts, host, addresses::RESOLVER, 53, "dns", q, a, secs);
        if self.rng.chance(0.3) {
            let up = upstream[self.rng.int(0, 1) as usize].clone();
            self.udp(ts + 0.0005, addresses::RESOLVER, &up, 53, "dns", q, a, secs * 0.8);
        }
    }
}

/// Whether `t` (seconds since the epoch) is within a host's working hours, and how busy the host is
/// then (lunch is quieter).
fn at_desk(h: &Habits, t: f64) -> f64 {
    let hour = (t.rem_euclid(86_400.0)) / 3600.0;
    if hour < h.day.0 || hour >= h.day.1 {
        0.0
    } else if (12.0..13.0).contains(&hour) {
        0.3
    } else {
        1.0
    }
}

/// The background traffic of a timeline.
pub(crate) fn background(p: &SimParams, workstations: &[String], rng: &mut Rng) -> Vec<Conn> {
    let start = p.start;
    let end = p.start + p.hours * 3600.0;
    // The outside world: popular sites (Zipf weights), upstream resolvers, NTP pool, update and cloud
    // services, one video service.
    let sites: Vec<String> = (0..3000).map(|_| rng.public_ip()).collect();
    let mut zipf = Vec::with_capacity(sites.len());
    let mut total = 0.0;
    for k in 0..sites.len() {
        total += 1.0 / (k as f64 + 1.0);
        zipf.push(total);
    }
    let upstream = [rng.public_ip(), rng.public_ip()];
    let ntp: Vec<String> = (0..4).map(|_| rng.public_ip()).collect();
    let updates: Vec<String> = (0..2).map(|_| rng.public_ip()).collect();
    let clouds: Vec<String> = (0..3).map(|_| rng.public_ip()).collect();
    let video = rng.public_ip();

    let habits: Vec<Habits> = workstations
        .iter()
        .map(|addr| {
            let arrive = (8.3 + 0.6 * rng.normal()).clamp(6.0, 11.0);
            let leave = (17.3 + 0.8 * rng.normal()).clamp(arrive + 4.0, 22.0);
            Habits {
                addr: addr.clone(),
                day: (arrive, leave),
                always_on: rng.chance(0.35),
                browse_rate: rng.lognormal(0.3, 0.5, 0.05, 2.0),
                mail_client: rng.chance(0.9),
                cloud_sync: rng.chance(0.3).then(|| clouds[rng.int(0, 2) as usize].clone()),
                video: rng.chance(0.25),
                ntp_server: ntp[rng.int(0, 3) as usize].clone(),
            }
        })
        .collect();

    let mut office = Office { rng, out: Vec::new(), start, end };
    for h in &habits {
        let host = h.addr.as_str();
        // Minute by minute: browsing and the occasional task, while at the desk.
        let mut minute = start;
        while minute < end {
            let busy = at_desk(h, minute);
            if busy > 0.0 {
                let mut t = minute + office.rng.exponential(60.0 / (h.browse_rate * busy));
                while t < minute + 60.0 {
                    let site = sites[office.rng.pick(&zipf)].clone();
                    if office.rng.chance(0.7) {
                        office.lookup(t, host, &upstream);
                    }
                    // A page opens a few connections at once, then more as it loads.
                    for _ in 0..1 + office.rng.int(0, 3) {
                        let ts = t + office.rng.lognormal(0.3, 1.5, 0.01, 30.0);
                        let up = office.rng.lognormal(900.0, 0.9, 150.0, 2e6);
                        let down = office.rng.lognormal(18_000.0, 1.8, 0.0, 5e7);
                        let secs = office.rng.lognormal(1.5, 1.4, 0.01, 900.0);
                        let (port, service) = if office.rng.chance(0.88) { (443, "ssl") } else { (80, "http") };
                        office.tcp(ts, host, &site, port, service, up, down, secs);
                    }
                    t += office.rng.exponential(60.0 / (h.browse_rate * busy));
                }
                // Per-minute chances of the other tasks (rates per hour / 60).
                let t = minute + office.rng.uniform(0.0, 60.0);
                if office.rng.chance(3.0 / 60.0 * busy) {
                    let up = office.rng.lognormal(40_000.0, 2.0, 500.0, 5e8);
                    let down = office.rng.lognormal(300_000.0, 2.2, 500.0, 2e9);
                    let secs = office.rng.lognormal(20.0, 1.5, 0.05, 7200.0);
                    office.tcp(t, host, addresses::FILE_SERVER, 445, "smb", up, down, secs);
                }
                if office.rng.chance(1.0 / 60.0 * busy) {
                    let (up, down) =
                        (office.rng.uniform(400.0, 1500.0), office.rng.lognormal(20_000.0, 1.2, 500.0, 5e6));
                    let secs = office.rng.uniform(0.05, 3.0);
                    office.tcp(t, host, addresses::WEB_SERVER, 80, "http", up, down, secs);
                }
                if office.rng.chance(2.0 / 540.0 * busy) {
                    let up = office.rng.lognormal(25_000.0, 1.6, 1_000.0, 2.5e7);
                    let secs = office.rng.lognormal(1.0, 1.0, 0.1, 300.0);
                    let down = office.rng.uniform(600.0, 1200.0);
                    office.tcp(t, host, addresses::MAIL, 587, "smtp", up, down, secs);
                }
                if office.rng.chance(0.3 / 60.0 * busy) {
                    let up = office.rng.lognormal(500_000.0, 1.2, 10_000.0, 5e7);
                    let secs = office.rng.uniform(1.0, 30.0);
                    office.tcp(t, host, addresses::PRINTER, 9100, "-", up, 0.0, secs);
                }
                if let Some(cloud) = &h.cloud_sync
                    && office.rng.chance(4.0 / 60.0 * busy)
                {
                    let up = office.rng.lognormal(150_000.0, 1.8, 1_000.0, 2e8);
                    let down = office.rng.lognormal(5_000.0, 1.0, 300.0, 1e6);
                    let secs = office.rng.lognormal(3.0, 1.2, 0.1, 1800.0);
                    office.tcp(t, host, cloud, 443, "ssl", up, down, secs);
                }
                if h.video && office.rng.chance(1.5 / 540.0 * busy) {
                    let secs = office.rng.uniform(300.0, 3600.0);
                    let down = office.rng.lognormal(300e6, 0.8, 2e7, 4e9) * secs / 3600.0;
                    office.tcp(t, host, &video, 443, "ssl", down / 150.0, down, secs);
                }
            }
            minute += 60.0;
        }
        // Clock, directory and update services: periodic, whenever the machine is on.
        let on = |t: f64| h.always_on || at_desk(h, t) > 0.0;
        let mut t = start + office.rng.uniform(0.0, 1024.0);
        while t < end {
            if on(t) {
                let secs = office.rng.uniform(0.01, 0.1);
                office.udp(t, host, &h.ntp_server, 123, "ntp", 48.0, 48.0, secs);
            }
            t += 1024.0 + office.rng.uniform(-2.0, 2.0);
        }
        let mut t = start + office.rng.uniform(0.0, 3600.0);
        while t < end {
            if on(t) {
                let (up, down) = (office.rng.uniform(800.0, 2000.0), office.rng.lognormal(4_000.0, 0.8, 500.0, 1e5));
                let server = updates[office.rng.int(0, 1) as usize].clone();
                let secs = office.rng.uniform(0.2, 2.0);
                office.tcp(t, host, &server, 443, "ssl", up, down, secs);
                office.udp(t + 1.0, host, addresses::DC, 88, "krb", 1400.0, 1500.0, 0.01);
                let (up, down) = (office.rng.uniform(300.0, 900.0), office.rng.lognormal(3_000.0, 1.0, 200.0, 1e5));
                let secs = office.rng.uniform(0.01, 0.5);
                office.tcp(t + 1.2, host, addresses::DC, 389, "ldap", up, down, secs);
            }
            t += 3600.0 + office.rng.uniform(-600.0, 600.0);
        }
        if h.mail_client {
            let mut t = start + office.rng.uniform(0.0, 300.0);
            while t < end {
                if at_desk(h, t) > 0.0 {
                    let (up, down) = (office.rng.uniform(300.0, 600.0), office.rng.lognormal(1_200.0, 0.9, 300.0, 5e7));
                    let secs = office.rng.uniform(0.2, 1.0);
                    office.tcp(t, host, addresses::MAIL, 993, "ssl", up, down, secs);
                }
                t += 300.0 + office.rng.uniform(-15.0, 15.0);
            }
        }
        // One large update a day: at night on machines left on, else during the day.
        let mut day = start - start.rem_euclid(86_400.0);
        while day < end {
            let hour = if h.always_on { office.rng.uniform(1.0, 5.0) } else { office.rng.uniform(h.day.0, h.day.1) };
            let down = office.rng.lognormal(80e6, 1.0, 5e6, 1.5e9);
            let server = updates[office.rng.int(0, 1) as usize].clone();
            let secs = down / office.rng.uniform(2e6, 2e7);
            office.tcp(day + hour * 3600.0, host, &server, 443, "ssl", down / 200.0, down, secs);
            day += 86_400.0;
        }
    }
    // The file server backs up to the backup host every night at 02:00.
    let mut day = start - start.rem_euclid(86_400.0);
    while day < end {
        let t = day + 2.0 * 3600.0 + office.rng.uniform(0.0, 300.0);
        let up = office.rng.lognormal(8e9, 0.3, 1e9, 5e10);
        let secs = up / office.rng.uniform(5e7, 1e8);
        office.tcp(t, addresses::FILE_SERVER, addresses::BACKUP, 22, "ssh", up, up / 500.0, secs);
        day += 86_400.0;
    }
    // The internet's background radiation: probes of the exposed web server, a dozen an hour.
    let mut t = start + office.rng.exponential(300.0);
    while t < end {
        let src = office.rng.public_ip();
        const PORTS: [u32; 8] = [22, 23, 80, 443, 445, 3389, 8080, 5900];
        let port = PORTS[office.rng.int(0, PORTS.len() as u64 - 1) as usize];
        // The web ports answer; the others are closed (dropped or refused).
        let (service, secs, bytes, state) = match port {
            80 | 443 => {
                let (up, down) = (office.rng.uniform(100.0, 600.0), office.rng.uniform(300.0, 5000.0));
                let service = if port == 80 { "http" } else { "ssl" };
                (service, Some(0.3), (Some(up as u64), Some(down as u64)), "SF")
            }
            _ => ("-", None, (Some(0), Some(0)), if office.rng.chance(0.5) { "S0" } else { "REJ" }),
        };
        let c = conn(None, t, &src, office.rng, addresses::WEB_SERVER, port, "tcp", service, secs, bytes, state);
        office.out.push(c);
        t += office.rng.exponential(300.0);
    }
    office.out
}
