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
    crate::format::one_batch(|f| read_kdd_batches(input, usize::MAX, f))
}

/// [`read_kdd`] in tables of at most `max_rows` records, handed to `f` in file order: the column types
/// are fixed by the format, so memory holds one batch.
pub fn read_kdd_batches<E: From<IoError>>(
    input: &Input,
    max_rows: usize,
    mut f: impl FnMut(Table) -> std::result::Result<(), E>,
) -> std::result::Result<(), E> {
    let file = input.name().to_owned();
    let mut reader =
        ReaderBuilder::new().has_headers(false).flexible(true).buffer_capacity(1 << 17).from_reader(input.open()?);
    let mut record = ByteRecord::new();
    let mut builders: Vec<TypedBuilder> = Vec::new();
    let (mut first, mut rows, mut batches) = (true, 0usize, 0usize);
    let fresh = |width: usize| -> Vec<TypedBuilder> {
        let names = KDD_FEATURES.iter().copied().chain([KDD_LABEL, KDD_DIFFICULTY]).take(width);
        names.enumerate().map(|(j, n)| TypedBuilder::with_kind(n, None, Some(kind(j)), 0)).collect()
    };
    let finish = |builders: Vec<TypedBuilder>| -> Result<Table> {
        Table::new(builders.into_iter().map(TypedBuilder::finish).collect::<Result<Vec<_>>>()?)
    };
    let mut width = 0;
    while reader.read_byte_record(&mut record).map_err(|e| csv_error(input, e))? {
        let line = record.position().map_or(0, |p| p.line());
        let at = |field: Option<&str>| Location { file: file.clone(), line, field: field.map(str::to_owned) };
        if first {
            first = false;
            if record.get(0).is_some_and(|f| parse_number(f).is_none()) {
                continue; // a header line
            }
        }
        if width == 0 {
            if !(41..=43).contains(&record.len()) {
                return Err(IoError::Ragged { at: at(None), expected: 42, found: record.len() }.into());
            }
            width = record.len();
        }
        if record.len() != width {
            return Err(IoError::Ragged { at: at(None), expected: width, found: record.len() }.into());
        }
        if builders.is_empty() {
            builders = fresh(width);
        }
        for (b, f) in builders.iter_mut().zip(record.iter()) {
            if let Err(expected) = b.push(f.trim_ascii(), false) {
                let at = at(Some(&b.name));
                return Err(IoError::Parse { at, expected: expected.into(), found: excerpt(f) }.into());
            }
        }
        rows += 1;
        if rows == max_rows {
            f(finish(std::mem::take(&mut builders))?)?;
            (rows, batches) = (0, batches + 1);
        }
    }
    if rows > 0 {
        f(finish(builders)?)?;
    } else if batches == 0 {
        return Err(IoError::Empty { file, message: "no KDD records".into() }.into());
    }
    Ok(())
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
    fn batches_make_the_whole_file() {
        let text: String = (0..7).map(|i| ROW.replacen("181", &i.to_string(), 1) + "\n").collect();
        let input = Input::bytes("k", text);
        let whole = read_kdd(&input).unwrap();
        for size in [1, 3, 7, 100] {
            let mut parts = Vec::new();
            read_kdd_batches(&input, size, |t| {
                parts.push(t);
                Ok::<(), IoError>(())
            })
            .unwrap();
            assert_eq!(parts.len(), 7usize.div_ceil(size), "batches of {size}");
            assert!(parts.iter().all(|p| p.n_rows() <= size));
            let src: Vec<f64> = parts
                .iter()
                .flat_map(|p| (0..p.n_rows()).map(|i| p.column("src_bytes").unwrap().f64_at(i).unwrap()))
                .collect();
            assert_eq!(src, (0..7).map(f64::from).collect::<Vec<_>>());
            assert!(Table::concat(&parts).unwrap() == whole, "batches of {size}");
        }
        let err = read_kdd_batches(&Input::bytes("k", "duration,protocol_type\n"), 2, |_| Ok::<(), IoError>(()));
        assert!(matches!(err, Err(IoError::Empty { .. })));
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
