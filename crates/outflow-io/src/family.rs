//! What Outflow knows about each family of flow logs: which columns are labels, identifiers, categories,
//! destination ports and services, which play the parts of a connection (addresses, time, directions),
//! which numbers are zero when unset, which must be positive, and which make up a flow's payload and
//! duration. One record per family ([`Family::columns`]), read by
//! the preparation (presets), the detector's outputs (the columns shown next to a score, selection by
//! host or service), cluster profiles and the report; adding a family is adding a record here.
//!
//! ```
//! use outflow_io::{Column, Family, Table};
//! let t = Table::new(vec![Column::from_f64("Flow Duration", vec![1.0])]).unwrap();
//! assert_eq!(Family::detect(&t), Family::Cic);
//! assert_eq!(Family::Cic.columns().duration, Some(("Flow Duration", 1e-6)));
//! assert!(Family::shown_columns().starts_with(&["uid", "ts"]));
//! ```

use serde::{Deserialize, Serialize};

use crate::error::{IoError, Result};
use crate::table::{Column, Table};

/// A family of flow logs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Family {
    /// Any table: nothing known beyond what every family says.
    #[default]
    Generic,
    /// Zeek conn logs (TSV or JSON lines).
    Zeek,
    /// CICFlowMeter exports (CIC-IDS2017, CSE-CIC-IDS2018 naming).
    Cic,
    /// CIC-style exports with Zeek-like names, as RT-IoT2022 writes them (`fwd_pkts_payload.tot`, ...).
    RtIot,
    /// KDD Cup 99 / NSL-KDD.
    Kdd,
}

/// The column knowledge of one family. Names are compared trimmed and case-insensitively, except
/// [`FamilyColumns::shown`], which names output columns exactly.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FamilyColumns {
    /// Column groups that identify the family: it is detected when every column of one group is present.
    pub markers: &'static [&'static [&'static str]],
    /// Whether Zeek's declared types (`#types`) identify the family.
    pub declared_types: bool,
    /// Labels: carried with the flows, never features.
    pub labels: &'static [&'static str],
    /// Identifiers (addresses, ports, connection ids, timestamps): never features.
    pub identifiers: &'static [&'static str],
    /// Declared (Zeek) types whose columns are identifiers.
    pub identifier_types: &'static [&'static str],
    /// Columns shown next to a flow's score in outputs, labels last.
    pub shown: &'static [&'static str],
    /// Categorical columns.
    pub categoricals: &'static [&'static str],
    /// Categorical columns a cluster profile shows first, in order.
    pub profiled: &'static [&'static str],
    /// Destination-port columns.
    pub destination_ports: &'static [&'static str],
    /// Service columns (selection by service).
    pub services: &'static [&'static str],
    /// Numeric columns where an unset value means nothing was measured or sent.
    pub zero_when_unset: &'static [&'static str],
    /// Columns that must be > 0 on a valid record, and the rule's name.
    pub positive: Option<(&'static str, &'static [&'static str])>,
    /// Columns whose per-flow sum is the payload, in bytes (names of every naming variant).
    pub payload: &'static [&'static str],
    /// The duration column and the seconds in one of its units.
    pub duration: Option<(&'static str, f64)>,
    /// Which columns play which part of a connection (hosts, time, directions), for aggregation by
    /// host, pair and time window.
    pub roles: FlowRoles,
}

/// The parts columns play in a connection. Each list names the column in every naming variant of the
/// family; the first present one is used. "Out" is originator to responder.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FlowRoles {
    /// Start of the connection: a time column, or date-time text (CICFlowMeter).
    pub timestamp: &'static [&'static str],
    /// Originator address.
    pub source: &'static [&'static str],
    /// Responder address.
    pub destination: &'static [&'static str],
    /// Responder port.
    pub destination_port: &'static [&'static str],
    /// Originator port.
    pub source_port: &'static [&'static str],
    /// The connection's identifier in the sensor's other logs (Zeek `uid`, CICFlowMeter `Flow ID`).
    pub connection_id: &'static [&'static str],
    /// Transport protocol.
    pub protocol: &'static [&'static str],
    /// Application protocol.
    pub service: &'static [&'static str],
    /// Connection state (Zeek `conn_state`).
    pub state: &'static [&'static str],
    /// States of a failed or rejected connection: no reply, rejected, reset, half-open.
    pub failed_states: &'static [&'static str],
    /// Payload bytes from originator to responder.
    pub bytes_out: &'static [&'static str],
    /// Payload bytes from responder to originator.
    pub bytes_in: &'static [&'static str],
    /// Packets from originator to responder.
    pub packets_out: &'static [&'static str],
    /// Packets from responder to originator.
    pub packets_in: &'static [&'static str],
    /// Bytes both ways, in a log that counts the responder's only in the total (Argus's `TotBytes`
    /// beside `SrcBytes`): the responder's are the total less the originator's.
    pub bytes_total: &'static [&'static str],
    /// Packets both ways, likewise (Argus's `TotPkts` beside `SrcPkts`).
    pub packets_total: &'static [&'static str],
    /// Whether the originator is inside the monitored network.
    pub local_source: &'static [&'static str],
    /// Whether the responder is inside the monitored network.
    pub local_destination: &'static [&'static str],
}

const NO_ROLES: FlowRoles = FlowRoles {
    timestamp: NONE,
    source: NONE,
    destination: NONE,
    destination_port: NONE,
    source_port: NONE,
    connection_id: NONE,
    protocol: NONE,
    service: NONE,
    state: NONE,
    failed_states: NONE,
    bytes_out: NONE,
    bytes_in: NONE,
    packets_out: NONE,
    packets_in: NONE,
    bytes_total: NONE,
    packets_total: NONE,
    local_source: NONE,
    local_destination: NONE,
};

const NONE: &[&str] = &[];

const GENERIC: FamilyColumns = FamilyColumns {
    markers: &[],
    declared_types: false,
    // Label names of labeled flow sets no family names (UNSW-NB15's `attack_cat`, Bot-IoT's `attack`,
    // `category`, `subcategory`, the ODDS / ADBench `class`): carried, never features, and what the run's
    // label evaluation reads.
    labels: &["attack_cat", "class", "attack", "category", "subcategory", "attack_category", "is_attack", "target"],
    // The addresses, ports, times and row numbers of flow exports no family names (NetFlow / IPFIX
    // collectors, nfdump, Argus, Joy, UNSW-NB15's and Bot-IoT's raw files): numbers that say who and
    // when, not how a flow behaves, so never features. Every family's identifiers apply to every table,
    // matched trimmed and in any case: Zeek's `ts` and CIC's `Timestamp` are not repeated here.
    identifiers: &[
        "id",
        "pkseqid",
        "flow_id",
        "src_ip",
        "dst_ip",
        "dest_ip",
        "srcip",
        "dstip",
        "src_addr",
        "dst_addr",
        "srcaddr",
        "dstaddr",
        "saddr",
        "daddr",
        "ipv4_src_addr",
        "ipv4_dst_addr",
        "ipv6_src_addr",
        "ipv6_dst_addr",
        "sa",
        "da",
        "src_port",
        "dst_port",
        "dest_port",
        "srcport",
        "dstport",
        "sport",
        "dport",
        "dsport",
        "sp",
        "dp",
        "l4_src_port",
        "l4_dst_port",
        "te",
        "time_start",
        "time_end",
        "start_time",
        "end_time",
        "starttime",
        "endtime",
        "lasttime",
        "stime",
        "ltime",
        "first_switched",
        "last_switched",
        "flow_start_milliseconds",
        "flow_end_milliseconds",
    ],
    identifier_types: NONE,
    shown: NONE,
    categoricals: NONE,
    profiled: NONE,
    destination_ports: NONE,
    services: NONE,
    zero_when_unset: NONE,
    positive: None,
    payload: NONE,
    duration: Some(("dur", 1.0)),
    // The parts of a connection under the names of flow exporters no family record holds (Argus and
    // CTU-13's `SrcAddr`, nfdump's `sa`, nProbe / NetFlow's `IPV4_SRC_ADDR`, IPFIX's
    // `sourceIPv4Address`, Joy and LUFlow's `src_ip`, UNSW-NB15's `srcip`, Bot-IoT's `saddr`, ToN-IoT's
    // `src_pkts`): with them the host and pair levels read those logs (names another family's record
    // holds, such as `proto`, `service` or KDD's `src_bytes`, are found there). Directions follow each
    // exporter's own words: Joy's `bytes_out` and Argus's `SrcBytes` go from source to destination, and
    // so do nProbe's `IN_BYTES` and nfdump's `ibyt` (bytes into the flow from its source).
    roles: FlowRoles {
        timestamp: &[
            "stime",
            "starttime",
            "start_time",
            "time_start",
            "first_switched",
            "flow_start_milliseconds",
            "flowstartmilliseconds",
            "flowstartseconds",
            "date first seen",
        ],
        source: &[
            "srcaddr",
            "src_ip",
            "srcip",
            "saddr",
            "src_addr",
            "sa",
            "ipv4_src_addr",
            "ipv6_src_addr",
            "sourceipv4address",
            "sourceipv6address",
            "src ip addr",
        ],
        destination: &[
            "dstaddr",
            "dst_ip",
            "dest_ip",
            "dstip",
            "daddr",
            "dst_addr",
            "da",
            "ipv4_dst_addr",
            "ipv6_dst_addr",
            "destinationipv4address",
            "destinationipv6address",
            "dst ip addr",
        ],
        destination_port: &[
            "dport",
            "dst_port",
            "dest_port",
            "dsport",
            "dstport",
            "dp",
            "l4_dst_port",
            "destinationtransportport",
        ],
        source_port: &["sport", "src_port", "srcport", "sp", "l4_src_port", "sourcetransportport"],
        connection_id: &["flow_id"],
        protocol: &["pr", "protocolidentifier"],
        service: NONE,
        state: NONE,
        failed_states: NONE,
        bytes_out: &["srcbytes", "sbytes", "bytes_out", "in_bytes", "ibyt", "octetdeltacount"],
        bytes_in: &["dstbytes", "dbytes", "bytes_in", "out_bytes", "obyt"],
        packets_out: &["srcpkts", "spkts", "src_pkts", "num_pkts_out", "in_pkts", "ipkt", "packetdeltacount"],
        packets_in: &["dstpkts", "dpkts", "dst_pkts", "num_pkts_in", "out_pkts", "opkt"],
        bytes_total: &["totbytes"],
        packets_total: &["totpkts"],
        local_source: NONE,
        local_destination: NONE,
    },
};

const ZEEK: FamilyColumns = FamilyColumns {
    markers: &[&["uid"], &["id.orig_h"], &["conn_state"]],
    declared_types: true,
    labels: &["label", "detailed-label", "detailedlabel", "detailed_label"],
    identifiers: &["ts", "uid", "id.orig_h", "id.orig_p", "id.resp_h", "id.resp_p", "ts_flow", "community_id"],
    identifier_types: &["addr", "subnet", "port"],
    shown: &[
        "uid",
        "ts",
        "id.orig_h",
        "id.orig_p",
        "id.resp_h",
        "id.resp_p",
        "proto",
        "service",
        "label",
        "detailed-label",
        "detailedlabel",
    ],
    categoricals: &["proto", "service", "conn_state", "history"],
    profiled: &["proto", "service", "conn_state", "label", "detailedlabel", "detailed-label", "history"],
    destination_ports: &["id.resp_p"],
    services: &["service"],
    zero_when_unset: &[
        "duration",
        "orig_bytes",
        "resp_bytes",
        "missed_bytes",
        "orig_pkts",
        "orig_ip_bytes",
        "resp_pkts",
        "resp_ip_bytes",
        "local_orig",
        "local_resp",
    ],
    positive: None,
    payload: &["orig_bytes", "resp_bytes"],
    duration: Some(("duration", 1.0)),
    roles: FlowRoles {
        timestamp: &["ts"],
        source: &["id.orig_h"],
        destination: &["id.resp_h"],
        destination_port: &["id.resp_p"],
        source_port: &["id.orig_p"],
        connection_id: &["uid"],
        protocol: &["proto"],
        service: &["service"],
        state: &["conn_state"],
        // No reply (S0), rejected (REJ), reset by either side (RST*), half-open or no SYN seen (SH, SHR).
        failed_states: &["S0", "REJ", "RSTO", "RSTR", "RSTOS0", "RSTRH", "SH", "SHR"],
        bytes_out: &["orig_bytes"],
        bytes_in: &["resp_bytes"],
        packets_out: &["orig_pkts"],
        packets_in: &["resp_pkts"],
        bytes_total: NONE,
        packets_total: NONE,
        local_source: &["local_orig"],
        local_destination: &["local_resp"],
    },
};

const CIC: FamilyColumns = FamilyColumns {
    markers: &[&["Flow Duration"], &["Fwd Header Length"], &["Flow Bytes/s"], &["Flow Byts/s"], &["Tot Fwd Pkts"]],
    declared_types: false,
    labels: &["label"],
    identifiers: &[
        "Flow ID",
        "Src IP",
        "Source IP",
        "Dst IP",
        "Destination IP",
        "Src Port",
        "Source Port",
        "Dst Port",
        "Destination Port",
        "Timestamp",
    ],
    identifier_types: NONE,
    shown: &[
        "Flow ID",
        "Src IP",
        "Src Port",
        "Dst IP",
        "Dst Port",
        "Source IP",
        "Source Port",
        "Destination IP",
        "Destination Port",
        "Timestamp",
        "Label",
    ],
    categoricals: &["protocol"],
    profiled: &["Label"],
    destination_ports: &["Destination Port", "Dst Port"],
    services: NONE,
    zero_when_unset: NONE,
    positive: Some((
        "header length must be > 0",
        &["Fwd Header Length", "Bwd Header Length", "Fwd Header Len", "Bwd Header Len"],
    )),
    payload: &["Total Length of Fwd Packets", "Total Length of Bwd Packets", "TotLen Fwd Pkts", "TotLen Bwd Pkts"],
    duration: Some(("Flow Duration", 1e-6)),
    roles: FlowRoles {
        timestamp: &["Timestamp"],
        source: &["Src IP", "Source IP"],
        destination: &["Dst IP", "Destination IP"],
        destination_port: &["Dst Port", "Destination Port"],
        source_port: &["Src Port", "Source Port"],
        connection_id: &["Flow ID"],
        protocol: &["Protocol"],
        service: NONE,
        state: NONE,
        failed_states: NONE,
        bytes_out: &["TotLen Fwd Pkts", "Total Length of Fwd Packets"],
        bytes_in: &["TotLen Bwd Pkts", "Total Length of Bwd Packets"],
        packets_out: &["Tot Fwd Pkts", "Total Fwd Packets"],
        packets_in: &["Tot Bwd Pkts", "Total Backward Packets"],
        bytes_total: NONE,
        packets_total: NONE,
        local_source: NONE,
        local_destination: NONE,
    },
};

const RT_IOT: FamilyColumns = FamilyColumns {
    markers: &[&["fwd_pkts_payload.tot"], &["flow_duration"]],
    declared_types: false,
    labels: &["attack_type"],
    identifiers: &["id.orig_p", "id.resp_p"],
    identifier_types: NONE,
    shown: NONE,
    categoricals: &["proto", "service"],
    profiled: &["proto", "service", "Attack_type"],
    destination_ports: &["id.resp_p"],
    services: &["service"],
    zero_when_unset: NONE,
    positive: None,
    payload: &["fwd_pkts_payload.tot", "bwd_pkts_payload.tot"],
    duration: Some(("flow_duration", 1.0)),
    roles: FlowRoles {
        destination_port: &["id.resp_p"],
        protocol: &["proto"],
        service: &["service"],
        bytes_out: &["fwd_pkts_payload.tot"],
        bytes_in: &["bwd_pkts_payload.tot"],
        packets_out: &["fwd_pkts_tot"],
        packets_in: &["bwd_pkts_tot"],
        ..NO_ROLES
    },
};

const KDD: FamilyColumns = FamilyColumns {
    markers: &[&["protocol_type", "srv_count"]],
    declared_types: false,
    labels: &["label", "difficulty"],
    identifiers: NONE,
    identifier_types: NONE,
    shown: NONE,
    categoricals: &["protocol_type", "service", "flag"],
    profiled: &["protocol_type", "service", "flag", "label"],
    destination_ports: NONE,
    services: &["service"],
    zero_when_unset: NONE,
    positive: None,
    payload: &["src_bytes", "dst_bytes"],
    duration: Some(("duration", 1.0)),
    roles: FlowRoles {
        protocol: &["protocol_type"],
        service: &["service"],
        state: &["flag"],
        failed_states: &["S0", "REJ", "RSTO", "RSTR", "RSTOS0", "SH", "SHR"],
        bytes_out: &["src_bytes"],
        bytes_in: &["dst_bytes"],
        ..NO_ROLES
    },
};

impl Family {
    /// Every family, in the order detection tries them (then [`Family::Generic`]).
    pub const ALL: [Family; 5] = [Family::Zeek, Family::Cic, Family::Kdd, Family::RtIot, Family::Generic];

    /// The families' names, as [`Family::name`] gives them.
    pub const NAMES: &'static [&'static str] = &["generic", "zeek", "cic", "rt_iot", "kdd"];

    /// The family's name.
    pub fn name(self) -> &'static str {
        match self {
            Family::Generic => "generic",
            Family::Zeek => "zeek",
            Family::Cic => "cic",
            Family::RtIot => "rt_iot",
            Family::Kdd => "kdd",
        }
    }

    /// What is known about the family's columns.
    pub fn columns(self) -> &'static FamilyColumns {
        match self {
            Family::Generic => &GENERIC,
            Family::Zeek => &ZEEK,
            Family::Cic => &CIC,
            Family::RtIot => &RT_IOT,
            Family::Kdd => &KDD,
        }
    }

    /// The column of `table` that plays a flow role: the first of the role's names in this family's
    /// record, then in every other family's, that the table has (compared with [`same_name`]).
    ///
    /// ```
    /// use outflow_io::{Column, Family, Table};
    /// let t = Table::new(vec![Column::from_str_opt("Src IP", [Some("10.0.0.1")])]).unwrap();
    /// assert_eq!(Family::Zeek.role_column(&t, |r| r.source).map(|c| c.name()), Some("Src IP"));
    /// assert!(Family::Zeek.role_column(&t, |r| r.timestamp).is_none());
    /// ```
    pub fn role_column(self, table: &Table, role: fn(&FlowRoles) -> &'static [&'static str]) -> Option<&Column> {
        std::iter::once(self)
            .chain(Family::ALL)
            .flat_map(|f| role(&f.columns().roles).iter())
            .find_map(|n| table.columns().iter().find(|c| same_name(c.name(), n)))
    }

    /// A table's duration column with its factor to seconds: this family's, else the first other
    /// family's the table has (names compared trimmed, in any case).
    pub fn duration_column(self, table: &Table) -> Option<(&Column, f64)> {
        std::iter::once(self)
            .chain(Family::ALL)
            .filter_map(|f| f.columns().duration)
            .find_map(|(name, scale)| table.columns().iter().find(|c| same_name(c.name(), name)).map(|c| (c, scale)))
    }

    /// The family of a table: the first of [`Family::ALL`] whose markers (or, for Zeek, declared types)
    /// it has.
    pub fn detect(table: &Table) -> Family {
        Family::detect_names(&table.names(), table.columns().iter().any(|c| c.source_type().is_some()))
    }

    /// The family of a set of column names (`declared_types`: whether the columns carry Zeek's declared
    /// types).
    pub fn detect_names<S: AsRef<str>>(names: &[S], declared_types: bool) -> Family {
        let has = |n: &str| names.iter().any(|c| same_name(c.as_ref(), n));
        Family::ALL
            .into_iter()
            .find(|f| {
                let c = f.columns();
                (c.declared_types && declared_types) || c.markers.iter().any(|group| group.iter().all(|n| has(n)))
            })
            .unwrap_or(Family::Generic)
    }

    /// A list over every family, in [`Family::ALL`] order without repeats: what a log of unknown family is
    /// read with (its labels, identifiers, categories, destination ports).
    pub fn union(list: impl Fn(&FamilyColumns) -> &'static [&'static str]) -> Vec<&'static str> {
        let mut out: Vec<&'static str> = Vec::new();
        for f in Family::ALL {
            for &n in list(f.columns()) {
                if !out.contains(&n) {
                    out.push(n);
                }
            }
        }
        out
    }

    /// The columns shown next to a flow's score, over every family (exact names, identifiers first).
    pub fn shown_columns() -> Vec<&'static str> {
        Family::union(|c| c.shown)
    }

    /// The columns of a log with these names to show next to a flow's score (indexes, in order): the
    /// connection's identifier, time, addresses, ports, protocol and service as the log's roles name
    /// them ([`Family::role_column`]: an Argus `SrcAddr`, a UNSW-NB15 `srcip`, a NetFlow
    /// `IPV4_SRC_ADDR`), every family's label columns, then [`Family::shown_columns`] (names matched
    /// trimmed, in any case).
    pub fn shown_of(names: &[&str]) -> Vec<usize> {
        let family = Family::detect_names(names, false);
        let position = |n: &str| names.iter().position(|c| same_name(c, n));
        let roles: [fn(&FlowRoles) -> &'static [&'static str]; 8] = [
            |r| r.connection_id,
            |r| r.timestamp,
            |r| r.source,
            |r| r.source_port,
            |r| r.destination,
            |r| r.destination_port,
            |r| r.protocol,
            |r| r.service,
        ];
        let by_role = roles.into_iter().filter_map(|role| {
            std::iter::once(family)
                .chain(Family::ALL)
                .flat_map(|f| role(&f.columns().roles).iter())
                .find_map(|n| position(n))
        });
        let labels = Family::union(|c| c.labels).into_iter().filter_map(position);
        let shown = Family::shown_columns().into_iter().filter_map(position);
        let mut out: Vec<usize> = Vec::new();
        for j in by_role.chain(labels).chain(shown) {
            if !out.contains(&j) {
                out.push(j);
            }
        }
        out
    }
}

/// Column names compared trimmed and case-insensitively.
pub fn same_name(a: &str, b: &str) -> bool {
    a.trim().eq_ignore_ascii_case(b.trim())
}

impl std::fmt::Display for Family {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for Family {
    type Err = IoError;
    fn from_str(s: &str) -> Result<Self> {
        match s.trim().to_ascii_lowercase().replace('-', "_").as_str() {
            "generic" => Ok(Family::Generic),
            "zeek" | "zeek_conn" | "bro" => Ok(Family::Zeek),
            "cic" | "cicflowmeter" => Ok(Family::Cic),
            "rt_iot" | "rtiot" | "rt_iot2022" => Ok(Family::RtIot),
            "kdd" | "nsl_kdd" | "kdd99" => Ok(Family::Kdd),
            _ => Err(IoError::UnknownFormat(format!("log family '{s}' (one of: {})", Family::NAMES.join(", ")))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Column;

    #[test]
    fn detection_and_unions() {
        let zeek = Table::new(vec![Column::from_f64("duration", vec![1.0]).with_source_type("interval")]).unwrap();
        assert_eq!(Family::detect(&zeek), Family::Zeek);
        let kdd =
            Table::new(vec![Column::from_f64("protocol_type", vec![1.0]), Column::from_f64("srv_count", vec![1.0])])
                .unwrap();
        assert_eq!(Family::detect(&kdd), Family::Kdd);
        let half_kdd = Table::new(vec![Column::from_f64("protocol_type", vec![1.0])]).unwrap();
        assert_eq!(Family::detect(&half_kdd), Family::Generic);
        assert_eq!(Family::detect_names(&["FlowDuration"], false), Family::Generic);
        assert_eq!(Family::detect_names(&[" flow duration "], false), Family::Cic);
        assert_eq!(Family::detect_names(&["flow_duration", "proto"], false), Family::RtIot);
        assert_eq!(Family::detect(&Table::default()), Family::Generic);
        let labels = Family::union(|c| c.labels);
        assert_eq!(
            labels,
            [
                "label",
                "detailed-label",
                "detailedlabel",
                "detailed_label",
                "difficulty",
                "attack_type",
                "attack_cat",
                "class",
                "attack",
                "category",
                "subcategory",
                "attack_category",
                "is_attack",
                "target"
            ]
        );
        let argus = ["StartTime", "Dur", "Proto", "SrcAddr", "Sport", "Dir", "DstAddr", "Dport", "TotBytes", "Label"];
        let shown: Vec<&str> = Family::shown_of(&argus).into_iter().map(|j| argus[j]).collect();
        assert_eq!(shown, ["StartTime", "SrcAddr", "Sport", "DstAddr", "Dport", "Proto", "Label"]);
        let unsw = ["srcip", "sport", "dstip", "dsport", "proto", "state", "sbytes", "stime", "attack_cat", "label"];
        let shown: Vec<&str> = Family::shown_of(&unsw).into_iter().map(|j| unsw[j]).collect();
        assert_eq!(shown, ["stime", "srcip", "sport", "dstip", "dsport", "proto", "label", "attack_cat"]);
        let shown = Family::shown_columns();
        assert_eq!(shown.len(), 22);
        assert!(shown.ends_with(&["Timestamp", "Label"]));
        for name in Family::NAMES {
            assert_eq!(name.parse::<Family>().unwrap().name(), *name);
        }
        assert!("nope".parse::<Family>().is_err());
        assert_eq!(serde_json::to_string(&Family::RtIot).unwrap(), "\"rt_iot\"");
    }
}
