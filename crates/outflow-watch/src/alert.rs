//! Alerts in the Elastic Common Schema: one JSON object per line, nested as ECS documents are, with
//! Outflow's own fields under `outflow`.
//!
//! Types follow ECS: `@timestamp` and `event.*` dates in RFC 3339 UTC, `event.severity` a number
//! (moderate 2, severe 3), `event.risk_score` 0–100, ports and byte counts integers, `network.transport`
//! lower case. `event.id` is a digest of what the alert is about (the flow's `uid` and time, or its file
//! fingerprint and line; the entity and window), so an alert sent again after a restart carries the same
//! id and a SIEM that uses it as the document id stores it once.

use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

use outflow::Severity;
use outflow::io::{Column, Family, FlowRoles, Table, Value as Cell};

/// The ECS version the alerts follow.
pub const ECS_VERSION: &str = "9.3.0";

/// One alert, ready to be written.
#[derive(Debug, Clone, PartialEq)]
pub struct Alert {
    /// `event.id`.
    pub id: String,
    /// Its severity (moderate or severe).
    pub severity: Severity,
    /// The addresses it is about (source, destination), for allow-lists.
    pub addresses: Vec<String>,
    /// The ECS document.
    pub document: Value,
}

impl Alert {
    /// The document as one line of JSON, with its newline.
    pub fn to_line(&self) -> Vec<u8> {
        let mut line = serde_json::to_vec(&self.document).expect("a JSON value serialises");
        line.push(b'\n');
        line
    }
}

/// What the model contributes to every alert.
#[derive(Debug, Clone)]
pub struct ModelInfo {
    /// The model as named on the command line.
    pub name: String,
    /// SHA-256 of its body.
    pub sha256: String,
}

/// The level an alert is at.
pub fn ecs_severity(s: Severity) -> u8 {
    match s {
        Severity::Severe => 3,
        Severity::Moderate => 2,
        _ => 1,
    }
}

/// RFC 3339 UTC with milliseconds.
pub fn rfc3339(epoch_seconds: f64) -> String {
    let ms = (epoch_seconds * 1000.0).round() as i64;
    match chrono::DateTime::from_timestamp_millis(ms) {
        Some(t) => t.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string(),
        None => "1970-01-01T00:00:00.000Z".into(),
    }
}

/// The time now, as [`rfc3339`] writes it.
pub fn now_rfc3339() -> String {
    chrono::Utc::now().format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}

/// The columns of a batch that an alert shows, found through the log family's roles.
pub struct FlowColumns<'a> {
    ts: Option<&'a Column>,
    uid: Option<&'a Column>,
    src: Option<&'a Column>,
    src_port: Option<&'a Column>,
    dst: Option<&'a Column>,
    dst_port: Option<&'a Column>,
    proto: Option<&'a Column>,
    service: Option<&'a Column>,
    bytes_out: Option<&'a Column>,
    bytes_in: Option<&'a Column>,
    bytes_total: Option<&'a Column>,
    duration: Option<(&'a Column, f64)>,
}

impl<'a> FlowColumns<'a> {
    /// Over a batch table.
    pub fn new(table: &'a Table) -> Self {
        let f = Family::detect(table);
        let role = |r: fn(&FlowRoles) -> &'static [&'static str]| f.role_column(table, r);
        FlowColumns {
            ts: role(|r| r.timestamp),
            uid: role(|r| r.connection_id),
            src: role(|r| r.source),
            src_port: role(|r| r.source_port),
            dst: role(|r| r.destination),
            dst_port: role(|r| r.destination_port),
            proto: role(|r| r.protocol),
            service: role(|r| r.service),
            bytes_out: role(|r| r.bytes_out),
            bytes_in: role(|r| r.bytes_in),
            bytes_total: role(|r| r.bytes_total),
            duration: f.duration_column(table),
        }
    }
}

fn text(c: Option<&Column>, row: usize) -> Option<String> {
    match c?.value(row) {
        Cell::Null => None,
        Cell::Str(s) => Some(s.to_owned()),
        v => {
            v.as_f64().map(|x| if x.fract() == 0.0 && x.abs() < 1e15 { format!("{}", x as i64) } else { x.to_string() })
        }
    }
}

fn number(c: Option<&Column>, row: usize) -> Option<f64> {
    let c = c?;
    match c.value(row) {
        Cell::Str(s) => outflow::aggregate::parse_timestamp(s),
        _ => c.f64_at(row),
    }
    .filter(|x| x.is_finite())
}

fn integer(c: Option<&Column>, row: usize) -> Option<i64> {
    number(c, row).filter(|x| *x >= 0.0 && x.fract() == 0.0).map(|x| x as i64)
}

/// The details of a flow alert other than its columns.
pub struct FlowAlert<'a> {
    /// Row in the batch.
    pub row: usize,
    /// Fused score.
    pub score: f64,
    /// Severity.
    pub severity: Severity,
    /// Cluster (−1 noise).
    pub cluster: i64,
    /// The top features against their typical values.
    pub reasons: &'a str,
    /// The file and line it was read from.
    pub file: &'a str,
    /// 1-based line number.
    pub line: u64,
}

/// The ECS alert of one flow.
pub fn flow_alert(cols: &FlowColumns<'_>, a: &FlowAlert<'_>, model: &ModelInfo) -> Alert {
    let row = a.row;
    let ts = cols.ts.and_then(|c| outflow::aggregate::seconds_at(c, row));
    let uid = text(cols.uid, row);
    let src = text(cols.src, row);
    let dst = text(cols.dst, row);
    let id = {
        let key = match (&uid, ts) {
            (Some(u), Some(t)) => format!("flow\0{u}\0{t}"),
            _ => format!("flow\0{}\0{}", a.file, a.line),
        };
        format!("of1-{}", &sha256_hex(key.as_bytes())[..32])
    };
    let mut event = event_base("flow", &id, a.severity, a.score);
    if let Some(t) = ts {
        event.insert("start".into(), json!(rfc3339(t)));
    }
    if let Some((c, scale)) = cols.duration
        && let Some(d) = c.f64_at(row).filter(|d| d.is_finite() && *d >= 0.0)
    {
        event.insert("duration".into(), json!((d * scale * 1e9).round() as i64));
    }
    let mut doc = Map::new();
    doc.insert("@timestamp".into(), json!(ts.map(rfc3339).unwrap_or_else(now_rfc3339)));
    doc.insert("ecs".into(), json!({ "version": ECS_VERSION }));
    doc.insert("event".into(), Value::Object(event));
    // A log with totals and no responder's column (Argus) gives the responder's bytes as the difference.
    let bytes_out = integer(cols.bytes_out, row);
    let total = integer(cols.bytes_total, row);
    let bytes_in = integer(cols.bytes_in, row)
        .or_else(|| total.zip(bytes_out).and_then(|(t, o)| t.checked_sub(o)).filter(|r| *r >= 0));
    let total = bytes_out.zip(bytes_in).and_then(|(o, r)| o.checked_add(r)).or(total);
    let endpoint = |ip: &Option<String>, port: Option<&Column>, bytes: Option<i64>| {
        let mut m = Map::new();
        if let Some(ip) = ip {
            m.insert("ip".into(), json!(ip));
        }
        if let Some(p) = integer(port, row).filter(|p| *p <= 65535) {
            m.insert("port".into(), json!(p));
        }
        if let Some(b) = bytes {
            m.insert("bytes".into(), json!(b));
        }
        m
    };
    doc.insert("source".into(), Value::Object(endpoint(&src, cols.src_port, bytes_out)));
    doc.insert("destination".into(), Value::Object(endpoint(&dst, cols.dst_port, bytes_in)));
    let mut network = Map::new();
    if let Some(p) = text(cols.proto, row) {
        network.insert("transport".into(), json!(p.to_ascii_lowercase()));
    }
    // Zeek's `service` may list several guesses (`ssl,http`): ECS takes one, the first.
    if let Some(s) = text(cols.service, row) {
        network.insert("protocol".into(), json!(s.split(',').next().unwrap_or(&s).to_ascii_lowercase()));
    }
    if let Some(total) = total {
        network.insert("bytes".into(), json!(total));
    }
    doc.insert("network".into(), Value::Object(network));
    let related: Vec<&String> = src.iter().chain(dst.iter()).collect();
    doc.insert("related".into(), json!({ "ip": related }));
    if let Some(u) = &uid {
        doc.insert("zeek".into(), json!({ "uid": u }));
    }
    let mut outflow = outflow_base("flow", a.score, a.severity, a.cluster, a.reasons, model);
    outflow.insert("file".into(), json!(a.file));
    outflow.insert("line".into(), json!(a.line));
    doc.insert("outflow".into(), Value::Object(outflow));
    Alert { id, severity: a.severity, addresses: src.into_iter().chain(dst).collect(), document: Value::Object(doc) }
}

/// The details of a host or pair alert.
pub struct EntityAlert<'a> {
    /// `host` or `pair`.
    pub level: &'a str,
    /// The host, or the pair's source.
    pub src: &'a str,
    /// The pair's destination.
    pub dst: Option<&'a str>,
    /// Window start and end, epoch seconds.
    pub window: (f64, f64),
    /// Flows in it.
    pub flows: u64,
    /// Bytes sent by the source, when known.
    pub bytes_out: Option<f64>,
    /// Bytes received by it.
    pub bytes_in: Option<f64>,
    /// Fused score.
    pub score: f64,
    /// Severity.
    pub severity: Severity,
    /// Cluster.
    pub cluster: i64,
    /// The behaviours it stands out in.
    pub evidence: Vec<String>,
    /// The top features against their typical values.
    pub reasons: &'a str,
    /// Raised before its window closed.
    pub partial: bool,
}

/// The ECS alert of a host or a pair over a window.
pub fn entity_alert(a: &EntityAlert<'_>, model: &ModelInfo) -> Alert {
    let key = format!("{}\0{}\0{}\0{}\0{}", a.level, a.src, a.dst.unwrap_or(""), a.window.0, a.partial);
    let prefix = if a.level == "host" { "oh1" } else { "op1" };
    let id = format!("{prefix}-{}", &sha256_hex(key.as_bytes())[..32]);
    let mut source = Map::new();
    source.insert("ip".into(), json!(a.src));
    if let Some(b) = a.bytes_out.filter(|b| b.is_finite() && *b >= 0.0) {
        source.insert("bytes".into(), json!(b.round() as i64));
    }
    let mut doc = Map::new();
    doc.insert("@timestamp".into(), json!(rfc3339(if a.partial { a.window.0 } else { a.window.1 })));
    doc.insert("ecs".into(), json!({ "version": ECS_VERSION }));
    let mut event = event_base(a.level, &id, a.severity, a.score);
    event.insert("start".into(), json!(rfc3339(a.window.0)));
    event.insert("end".into(), json!(rfc3339(a.window.1)));
    doc.insert("event".into(), Value::Object(event));
    doc.insert("source".into(), Value::Object(source));
    let mut related = vec![a.src.to_owned()];
    if let Some(d) = a.dst {
        let mut dest = Map::new();
        dest.insert("ip".into(), json!(d));
        if let Some(b) = a.bytes_in.filter(|b| b.is_finite() && *b >= 0.0) {
            dest.insert("bytes".into(), json!(b.round() as i64));
        }
        doc.insert("destination".into(), Value::Object(dest));
        related.push(d.to_owned());
    }
    doc.insert("related".into(), json!({ "ip": related }));
    let mut outflow = outflow_base(a.level, a.score, a.severity, a.cluster, a.reasons, model);
    outflow.insert("flows".into(), json!(a.flows));
    outflow.insert("partial".into(), json!(a.partial));
    outflow.insert("evidence".into(), json!(a.evidence));
    doc.insert("outflow".into(), Value::Object(outflow));
    Alert { id, severity: a.severity, addresses: related, document: Value::Object(doc) }
}

/// The `event` fields every alert has.
fn event_base(level: &str, id: &str, severity: Severity, score: f64) -> Map<String, Value> {
    let mut event = Map::new();
    event.insert("kind".into(), json!("alert"));
    event.insert("category".into(), json!(["network", "intrusion_detection"]));
    event.insert("type".into(), json!(["info"]));
    event.insert("module".into(), json!("outflow"));
    event.insert("dataset".into(), json!(format!("outflow.{level}")));
    event.insert("id".into(), json!(id));
    event.insert("severity".into(), json!(ecs_severity(severity)));
    event.insert("risk_score".into(), json!(round(score * 100.0, 2)));
    event.insert("created".into(), json!(now_rfc3339()));
    event
}

/// The `outflow` fields every alert has.
fn outflow_base(
    level: &str,
    score: f64,
    severity: Severity,
    cluster: i64,
    reasons: &str,
    model: &ModelInfo,
) -> Map<String, Value> {
    let reasons: Vec<&str> = reasons.split("; ").filter(|r| !r.is_empty()).collect();
    let mut m = Map::new();
    m.insert("score".into(), json!(round(score, 6)));
    m.insert("severity".into(), json!(severity.name()));
    m.insert("cluster".into(), json!(cluster));
    m.insert("level".into(), json!(level));
    m.insert("reasons".into(), json!(reasons));
    m.insert("model".into(), json!(model.name));
    m.insert("model_sha256".into(), json!(model.sha256));
    m
}

fn round(x: f64, digits: i32) -> f64 {
    let f = 10f64.powi(digits);
    (x * f).round() / f
}

/// SHA-256 of bytes, lower-case hex.
pub(crate) fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_are_rfc3339_utc() {
        assert_eq!(rfc3339(1_714_644_843.12), "2024-05-02T10:14:03.120Z");
        assert_eq!(rfc3339(0.0), "1970-01-01T00:00:00.000Z");
    }

    #[test]
    fn argus_totals_give_the_responders_bytes() {
        use outflow::io::{CsvOptions, Input, read_csv};
        let log = "StartTime,Dur,Proto,SrcAddr,Sport,Dir,DstAddr,Dport,TotPkts,TotBytes,SrcBytes,Label\n\
                   2011/08/10 09:46:53.047277,1.5,tcp,147.32.84.165,1025,->,74.125.232.195,80,9,2000,600,x\n\
                   2011/08/10 09:46:54.000000,0.0,udp,147.32.84.165,1026,->,8.8.8.8,53,1,75,75,x\n";
        let table = read_csv(&Input::bytes("c.binetflow", log.as_bytes().to_vec()), &CsvOptions::default()).unwrap();
        let cols = FlowColumns::new(&table);
        let model = ModelInfo { name: "m".into(), sha256: "0".into() };
        let alert = |row| {
            let a = FlowAlert {
                row,
                score: 1.0,
                severity: Severity::Severe,
                cluster: -1,
                reasons: "",
                file: "c.binetflow",
                line: row as u64 + 2,
            };
            flow_alert(&cols, &a, &model).document
        };
        let d = alert(0);
        assert_eq!(d["source"]["bytes"], json!(600));
        assert_eq!(d["destination"]["bytes"], json!(1400));
        assert_eq!(d["network"]["bytes"], json!(2000));
        assert_eq!(d["destination"]["port"], json!(80));
        assert_eq!(d["@timestamp"], json!("2011-08-10T09:46:53.047Z"));
        let d = alert(1);
        assert_eq!(d["destination"]["bytes"], json!(0));
        assert_eq!(d["network"]["bytes"], json!(75));
    }
}
