//! KDD Cup 1999 and NSL-KDD: 41 features, the label, and NSL-KDD's difficulty level; no header (a header
//! line, as some copies have, is skipped).

use csv::{ByteRecord, ReaderBuilder};

use crate::csv::csv_error;
use crate::error::{IoError, Location, Result, excerpt};
use crate::infer::parse_number;
use crate::source::Input;
use crate::table::Table;
use crate::typed::{Kind, TypedBuilder};

/// The 41 feature names of KDD Cup 1999 (as in the UCI `kddcup.names` file).
pub const KDD_FEATURES: [&str; 41] = [
    "duration",
    "protocol_type",
    "service",
    "flag",
    "src_bytes",
    "dst_bytes",
    "land",
    "wrong_fragment",
    "urgent",
    "hot",
    "num_failed_logins",
    "logged_in",
    "num_compromised",
    "root_shell",
    "su_attempted",
    "num_root",
    "num_file_creations",
    "num_shells",
    "num_access_files",
    "num_outbound_cmds",
    "is_host_login",
    "is_guest_login",
    "count",
    "srv_count",
    "serror_rate",
    "srv_serror_rate",
    "rerror_rate",
    "srv_rerror_rate",
    "same_srv_rate",
    "diff_srv_rate",
    "srv_diff_host_rate",
    "dst_host_count",
    "dst_host_srv_count",
    "dst_host_same_srv_rate",
    "dst_host_diff_srv_rate",
    "dst_host_same_src_port_rate",
    "dst_host_srv_diff_host_rate",
    "dst_host_serror_rate",
    "dst_host_srv_serror_rate",
    "dst_host_rerror_rate",
    "dst_host_srv_rerror_rate",
];

/// Name of the label column (field 42).
pub const KDD_LABEL: &str = "label";
/// Name of NSL-KDD's difficulty column (field 43).
pub const KDD_DIFFICULTY: &str = "difficulty";

fn kind(j: usize) -> Kind {
    match j {
        0 => Kind::Interval,
        1 | 2 | 3 | 41 => Kind::Str,
        6 | 11 | 20 | 21 => Kind::Bool,
        24..=30 | 33..=40 => Kind::Double,
        _ => Kind::Int,
    }
}

/// True when a first line looks like a KDD record or a KDD header.
pub(crate) fn looks_like_kdd(first_line: &[u8]) -> bool {
    let f: Vec<&[u8]> = first_line.trim_ascii_end().split(|&b| b == b',').collect();
    if !(41..=43).contains(&f.len()) {
        return false;
    }
    let proto = f[1].trim_ascii();
    (parse_number(f[0]).is_some() && matches!(proto, b"tcp" | b"udp" | b"icmp"))
        || (f[0].trim_ascii() == b"duration" && proto == b"protocol_type")
}

/// Reads a KDD Cup 99 (42 fields) or NSL-KDD (43 fields) file, or their 41 features without the label.
pub fn read_kdd(input: &Input) -> Result<Table> {
    let file = input.name().to_owned();
    let mut reader =
        ReaderBuilder::new().has_headers(false).flexible(true).buffer_capacity(1 << 17).from_reader(input.open()?);
    let mut record = ByteRecord::new();
    let mut builders: Vec<TypedBuilder> = Vec::new();
    let mut first = true;
    while reader.read_byte_record(&mut record).map_err(|e| csv_error(input, e))? {
        let line = record.position().map_or(0, |p| p.line());
        let at = |field: Option<&str>| Location { file: file.clone(), line, field: field.map(str::to_owned) };
        if first {
            first = false;
            if record.get(0).is_some_and(|f| parse_number(f).is_none()) {
                continue; // a header line
            }
        }
        if builders.is_empty() {
            if !(41..=43).contains(&record.len()) {
                return Err(IoError::Ragged { at: at(None), expected: 42, found: record.len() });
            }
            let names = KDD_FEATURES.iter().copied().chain([KDD_LABEL, KDD_DIFFICULTY]).take(record.len());
            builders = names.enumerate().map(|(j, n)| TypedBuilder::with_kind(n, None, Some(kind(j)), 0)).collect();
        }
        if record.len() != builders.len() {
            return Err(IoError::Ragged { at: at(None), expected: builders.len(), found: record.len() });
        }
        for (b, f) in builders.iter_mut().zip(record.iter()) {
            if let Err(expected) = b.push(f.trim_ascii(), false) {
                return Err(IoError::Parse { at: at(Some(&b.name)), expected: expected.into(), found: excerpt(f) });
            }
        }
    }
    if builders.is_empty() {
        return Err(IoError::Empty { file, message: "no KDD records".into() });
    }
    Table::new(builders.into_iter().map(TypedBuilder::finish).collect::<Result<Vec<_>>>()?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::DataType;

    const ROW: &str = "0,tcp,http,SF,181,5450,0,0,0,0,0,1,0,0,0,0,0,0,0,0,0,0,8,8,0.00,0.00,0.00,0.00,1.00,0.00,0.00,9,9,1.00,0.00,0.11,0.00,0.00,0.00,0.00,0.00,normal.";

    #[test]
    fn kdd99_and_nsl() {
        let t = read_kdd(&Input::bytes("k", format!("{ROW}\n{ROW}\n"))).unwrap();
        assert_eq!((t.n_rows(), t.n_cols()), (2, 42));
        assert_eq!(t.column("label").unwrap().str_at(0), Some("normal."));
        assert_eq!(t.column("logged_in").unwrap().dtype(), DataType::Bool);
        assert_eq!(t.column("dst_host_same_src_port_rate").unwrap().f64_at(1), Some(0.11));
        let t = read_kdd(&Input::bytes("k", format!("{ROW},21\n"))).unwrap();
        assert_eq!(t.column("difficulty").unwrap().f64_at(0), Some(21.0));
        assert!(looks_like_kdd(ROW.as_bytes()));
        // The 41 features without the label (flows to score): still KDD, not a CSV whose header is a flow.
        let unlabeled = ROW.trim_end_matches(",normal.");
        assert!(looks_like_kdd(unlabeled.as_bytes()));
        let t = read_kdd(&Input::bytes("k", format!("{unlabeled}\n{unlabeled}\n"))).unwrap();
        assert_eq!((t.n_rows(), t.n_cols()), (2, 41));
        assert!(t.column("label").is_none());
    }

    #[test]
    fn bad_records() {
        let err = read_kdd(&Input::bytes("k", format!("{ROW}\n0,tcp\n"))).unwrap_err();
        assert!(matches!(err, IoError::Ragged { ref at, .. } if at.line == 2), "{err}");
        let bad = ROW.replacen("181", "x", 1);
        let err = read_kdd(&Input::bytes("k", format!("{bad}\n"))).unwrap_err();
        assert!(matches!(err, IoError::Parse { ref at, .. } if at.field.as_deref() == Some("src_bytes")), "{err}");
    }
}
