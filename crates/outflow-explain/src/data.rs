//! Input validation and the column-major copy the tree builder works on.

use ndarray::ArrayView2;

use outflow_core::{InputError, check_query};

use crate::error::{ExplainError, Result};

/// Checks a model's feature count against an input matrix, and its values.
pub(crate) fn check_features(expected: usize, x: ArrayView2<'_, f64>) -> Result<()> {
    Ok(check_query(x, expected)?)
}

/// Sorted distinct labels and each row's class index into them.
#[derive(Debug, Clone)]
pub(crate) struct Encoded {
    pub classes: Vec<i64>,
    pub y: Vec<u32>,
}

/// Encodes labels as indices into their sorted distinct values; needs at least two classes.
pub(crate) fn encode_labels(labels: &[i64]) -> Result<Encoded> {
    let mut classes = labels.to_vec();
    classes.sort_unstable();
    classes.dedup();
    match classes.len() {
        0 => return Err(InputError::Empty { rows: 0, cols: 1 }.into()),
        1 => return Err(ExplainError::SingleClass { class: classes[0] }),
        _ => {}
    }
    let y = labels.iter().map(|l| classes.binary_search(l).expect("label is a class") as u32).collect();
    Ok(Encoded { classes, y })
}

/// A column-major copy of a feature matrix.
#[derive(Debug, Clone)]
pub(crate) struct Columns {
    pub n_rows: usize,
    pub n_features: usize,
    data: Vec<f64>,
}

impl Columns {
    pub fn new(x: ArrayView2<'_, f64>) -> Self {
        let (n_rows, n_features) = x.dim();
        let mut data = Vec::with_capacity(n_rows * n_features);
        for j in 0..n_features {
            data.extend(x.column(j).iter().copied());
        }
        Columns { n_rows, n_features, data }
    }

    #[inline]
    pub fn col(&self, j: usize) -> &[f64] {
        &self.data[j * self.n_rows..(j + 1) * self.n_rows]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encode_needs_two_classes() {
        assert!(matches!(encode_labels(&[3, 3]), Err(ExplainError::SingleClass { class: 3 })));
        let e = encode_labels(&[5, -1, 5, 0]).unwrap();
        assert_eq!(e.classes, vec![-1, 0, 5]);
        assert_eq!(e.y, vec![2, 0, 2, 1]);
    }
}
