//! What is summed per host or pair and window while flows stream by.

use rustc_hash::{FxHashMap, FxHashSet};

/// Ids held inline.
const INLINE: usize = 8;

/// A set of ids: up to eight inline (most hosts and pairs use few ports, services or peers in a window,
/// so most sets never allocate), then a hash set.
#[derive(Debug, Clone)]
pub(crate) enum IdSet {
    Inline { len: u8, ids: [u32; INLINE] },
    Heap(FxHashSet<u32>),
}

impl Default for IdSet {
    fn default() -> Self {
        IdSet::Inline { len: 0, ids: [0; INLINE] }
    }
}

impl IdSet {
    #[inline]
    pub(crate) fn insert(&mut self, id: u32) {
        match self {
            IdSet::Inline { len, ids } => {
                let held = &ids[..*len as usize];
                if held.contains(&id) {
                    return;
                }
                if (*len as usize) < INLINE {
                    ids[*len as usize] = id;
                    *len += 1;
                } else {
                    let mut set: FxHashSet<u32> = held.iter().copied().collect();
                    set.insert(id);
                    *self = IdSet::Heap(set);
                }
            }
            IdSet::Heap(set) => {
                set.insert(id);
            }
        }
    }

    pub(crate) fn len(&self) -> usize {
        match self {
            IdSet::Inline { len, .. } => *len as usize,
            IdSet::Heap(set) => set.len(),
        }
    }

    pub(crate) fn iter(&self) -> impl Iterator<Item = u32> + '_ {
        let (inline, heap) = match self {
            IdSet::Inline { len, ids } => (&ids[..*len as usize], None),
            IdSet::Heap(set) => (&[][..], Some(set)),
        };
        inline.iter().copied().chain(heap.into_iter().flatten().copied())
    }

    /// Adds the ids of another set.
    pub(crate) fn extend(&mut self, o: IdSet) {
        match (&mut *self, o) {
            (IdSet::Inline { .. }, IdSet::Heap(mut set)) => {
                set.extend(self.iter());
                *self = IdSet::Heap(set);
            }
            (_, o) => o.iter().for_each(|id| self.insert(id)),
        }
    }
}

/// One flow, as the accumulators read it (addresses, ports and services as interned ids).
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Flow {
    pub(crate) ts: Option<f64>,
    pub(crate) src: u32,
    pub(crate) dst: u32,
    pub(crate) port: Option<u32>,
    pub(crate) service: Option<u32>,
    pub(crate) failed: bool,
    pub(crate) bytes_out: f64,
    pub(crate) bytes_in: f64,
    pub(crate) packets_out: f64,
    pub(crate) packets_in: f64,
    pub(crate) duration: Option<f64>,
    /// Originator inside, responder outside.
    pub(crate) outbound: bool,
    /// A DNS query: to port 53 or of service `dns`.
    pub(crate) dns: bool,
}

/// Traffic of one side of a connection set: a host as originator, a host as responder, or a pair.
/// "Sent" and "received" are from the entity's point of view.
#[derive(Debug, Clone, Default)]
pub(crate) struct Traffic {
    pub(crate) flows: u64,
    pub(crate) sent: f64,
    pub(crate) received: f64,
    pub(crate) packets_sent: f64,
    pub(crate) packets_received: f64,
    pub(crate) failed: u64,
    /// Whole microseconds (an integer sum: the same whatever the order of the flows).
    pub(crate) duration_us: u64,
    pub(crate) duration_max: f64,
    pub(crate) peers: IdSet,
    pub(crate) ports: IdSet,
    pub(crate) services: IdSet,
    pub(crate) outbound_flows: u64,
    pub(crate) outbound_bytes: f64,
    pub(crate) outbound_peers: IdSet,
    /// Payload bytes of the DNS queries originated beyond [`DNS_QUERY_BYTES`] a packet.
    pub(crate) dns_long: f64,
}

/// Payload bytes an ordinary DNS query packet stays within: a 12-byte header, a name of a few dozen
/// characters, type and class, an EDNS record with a cookie. A tunnel fills names with encoded data up to
/// the 255-byte limit; what its queries carry beyond this is counted as `dns_long_bytes`.
pub const DNS_QUERY_BYTES: f64 = 100.0;

impl Traffic {
    /// Total duration in seconds.
    pub(crate) fn duration_total(&self) -> f64 {
        self.duration_us as f64 * 1e-6
    }

    fn common(&mut self, f: &Flow) {
        self.flows += 1;
        self.failed += f.failed as u64;
        if let Some(d) = f.duration.filter(|d| d.is_finite() && *d >= 0.0) {
            self.duration_us += (d * 1e6).round() as u64;
            self.duration_max = self.duration_max.max(d);
        }
        if let Some(p) = f.port {
            self.ports.insert(p);
        }
    }

    /// The flow seen from its originator (or as a pair's flow).
    pub(crate) fn originated(&mut self, f: &Flow, peer: bool) {
        self.common(f);
        self.sent += f.bytes_out;
        self.received += f.bytes_in;
        self.packets_sent += f.packets_out;
        self.packets_received += f.packets_in;
        if peer {
            self.peers.insert(f.dst);
        }
        if let Some(s) = f.service {
            self.services.insert(s);
        }
        if f.dns {
            self.dns_long += (f.bytes_out - DNS_QUERY_BYTES * f.packets_out.max(1.0)).max(0.0);
        }
        if f.outbound {
            self.outbound_flows += 1;
            self.outbound_bytes += f.bytes_out;
            if peer {
                self.outbound_peers.insert(f.dst);
            }
        }
    }

    /// Adds another part of the same traffic.
    pub(crate) fn merge(&mut self, o: Traffic) {
        self.flows += o.flows;
        self.sent += o.sent;
        self.received += o.received;
        self.packets_sent += o.packets_sent;
        self.packets_received += o.packets_received;
        self.failed += o.failed;
        self.duration_us += o.duration_us;
        self.duration_max = self.duration_max.max(o.duration_max);
        self.peers.extend(o.peers);
        self.ports.extend(o.ports);
        self.services.extend(o.services);
        self.outbound_flows += o.outbound_flows;
        self.outbound_bytes += o.outbound_bytes;
        self.outbound_peers.extend(o.outbound_peers);
        self.dns_long += o.dns_long;
    }

    /// The flow seen from its responder.
    pub(crate) fn answered(&mut self, f: &Flow) {
        self.common(f);
        self.sent += f.bytes_in;
        self.received += f.bytes_out;
        self.packets_sent += f.packets_in;
        self.packets_received += f.packets_out;
        self.peers.insert(f.src);
    }
}

/// Label values of the flows of one entity, counted per label column.
#[derive(Debug, Clone, Default)]
pub(crate) struct LabelCounts(pub(crate) Vec<FxHashMap<u32, u32>>);

impl LabelCounts {
    pub(crate) fn add(&mut self, column: usize, value: Option<u32>) {
        if self.0.len() <= column {
            self.0.resize_with(column + 1, FxHashMap::default);
        }
        if let Some(v) = value {
            *self.0[column].entry(v).or_insert(0) += 1;
        }
    }

    pub(crate) fn merge(&mut self, o: LabelCounts) {
        for (c, counts) in o.0.into_iter().enumerate() {
            self.add(c, None);
            for (v, n) in counts {
                *self.0[c].entry(v).or_insert(0) += n;
            }
        }
    }

    /// The values of a column, most frequent first (ties by text), joined by `;`.
    pub(crate) fn joined(&self, column: usize, name: impl Fn(u32) -> String) -> String {
        let Some(counts) = self.0.get(column) else { return String::new() };
        let mut v: Vec<(u32, String)> = counts.iter().map(|(&id, &n)| (n, name(id))).collect();
        v.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.cmp(&b.1)));
        v.into_iter().map(|(_, s)| s).collect::<Vec<_>>().join(";")
    }
}
