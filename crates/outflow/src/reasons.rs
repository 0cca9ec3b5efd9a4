//! Why a row scored as it did: the features farthest from their typical value.
//!
//! Distance is read on the scale the model saw (after the preparation's compression and scaling), so a
//! feature counts as far when the detector saw it far; the text shows the original units:
//! `distinct_dst_ports=612 (typical 3)`.

use ndarray::{Array2, Axis};
use outflow_core::stats;
use outflow_prep::{Prepared, RowStatus};

/// Median of each column.
pub(crate) fn typical_values(unscaled: &Array2<f64>) -> Vec<f64> {
    unscaled.axis_iter(Axis(1)).map(|c| stats::median(&mut c.to_vec())).collect()
}

/// A number in few characters: integers as integers, others with three significant digits.
pub(crate) fn short(x: f64) -> String {
    if x == x.trunc() && x.abs() < 1e15 {
        format!("{}", x as i64)
    } else if x.abs() >= 1e5 || x.abs() < 1e-3 {
        format!("{x:.3e}")
    } else {
        let digits = (2 - x.abs().log10().floor() as i32).max(0) as usize;
        let s = format!("{x:.digits$}");
        if s.contains('.') { s.trim_end_matches('0').trim_end_matches('.').to_owned() } else { s }
    }
}

/// One text per input row (see `Detector::reasons`).
pub(crate) fn reasons(prepared: &Prepared, typical: &[f64], k: usize) -> Vec<String> {
    let p = prepared.features.len();
    if typical.len() != p || p == 0 || k == 0 {
        return vec![String::new(); prepared.rows.len()];
    }
    prepared
        .rows
        .iter()
        .map(|st| match st {
            RowStatus::Kept(r) => {
                let scaled = prepared.scaled.row(*r);
                let mut order: Vec<usize> = (0..p).filter(|&j| scaled[j] != 0.0).collect();
                order.sort_by(|&a, &b| scaled[b].abs().total_cmp(&scaled[a].abs()).then(a.cmp(&b)));
                order
                    .iter()
                    .take(k)
                    .map(|&j| {
                        let v = prepared.unscaled[[*r, j]];
                        format!("{}={} (typical {})", prepared.features[j], short(v), short(typical[j]))
                    })
                    .collect::<Vec<_>>()
                    .join("; ")
            }
            RowStatus::Rejected(_) => String::new(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::short;

    #[test]
    fn short_numbers() {
        assert_eq!(short(612.0), "612");
        assert_eq!(short(0.25), "0.25");
        assert_eq!(short(0.123456), "0.123");
        assert_eq!(short(12.3456), "12.3");
        assert_eq!(short(1234.5678), "1235");
        assert_eq!(short(2.5e9), "2500000000");
        assert_eq!(short(2.5e-5), "2.500e-5");
        assert_eq!(short(-3.0), "-3");
    }
}
