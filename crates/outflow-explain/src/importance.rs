//! Permutation importance: how much the accuracy drops when one feature's column is shuffled.

use ndarray::{Array2, ArrayView2};
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use outflow_core::{InputError, Predict, check_len as check_rows};

use crate::data::check_features;
use crate::error::{ExplainError, Result};
use crate::forest::RandomForest;
use crate::tree::{DecisionTree, argmax};

/// Rows per parallel work item of [`permutation_importance`].
const PERM_CHUNK: usize = 256;

/// Settings of [`permutation_importance`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PermutationParams {
    /// Shuffles per feature (≥ 1).
    pub n_repeats: usize,
    /// Seed of the shuffles; feature `j` uses the `j`-th draw of a ChaCha8 stream seeded with it, so the
    /// result does not depend on the number of threads.
    pub seed: u64,
}

impl Default for PermutationParams {
    fn default() -> Self {
        PermutationParams { n_repeats: 5, seed: 0 }
    }
}

impl PermutationParams {
    /// Checks the parameters.
    pub fn validate(&self) -> Result<()> {
        if self.n_repeats == 0 {
            return Err(ExplainError::param("n_repeats", "must be at least 1"));
        }
        Ok(())
    }
}

/// Accuracy drops per feature.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PermutationImportance {
    /// Accuracy on the unshuffled data.
    pub baseline: f64,
    /// Mean drop per feature.
    pub mean: Vec<f64>,
    /// Standard deviation (population, ddof = 0, as scikit-learn) of the drops per feature.
    pub std: Vec<f64>,
    /// All drops, `features × repeats`.
    pub drops: Array2<f64>,
}

/// Permutation importance of a fitted forest on `x` / `y` (scikit-learn's `permutation_importance` with
/// accuracy as the score): for each feature and repeat the column is shuffled, and the importance is the
/// baseline accuracy minus the shuffled accuracy. Parallel over rows; a shuffled row is re-run only
/// through the trees whose path for the original row tests the shuffled feature.
pub fn permutation_importance(
    model: &RandomForest,
    x: ArrayView2<'_, f64>,
    y: &[i64],
    params: &PermutationParams,
) -> Result<PermutationImportance> {
    params.validate()?;
    check_features(model.n_features(), x)?;
    check_rows("labels", x.nrows(), y.len())?;
    if x.nrows() == 0 {
        return Err(InputError::Empty { rows: 0, cols: x.ncols() }.into());
    }
    let x = x.as_standard_layout();
    let (n, m) = x.dim();
    let xs = x.as_slice().expect("standard layout");
    // Labels absent from the model's classes can never be predicted correctly.
    let y_idx: Vec<Option<usize>> = y.iter().map(|l| model.classes().binary_search(l).ok()).collect();
    let accuracy = |correct: usize| correct as f64 / n as f64;
    let baseline = {
        let pred = model.predict(x.view())?;
        accuracy(pred.iter().zip(y).filter(|(a, b)| a == b).count())
    };
    let r = params.n_repeats;
    let job = PermutationJob {
        perms: permutations(params.seed, n, m, r),
        trees: model.trees(),
        xs,
        m,
        r,
        k: model.classes().len(),
        y_idx,
    };
    // Correct predictions per (feature, repeat), summed over row chunks (integer sums: thread-independent).
    let correct = (0..n.div_ceil(PERM_CHUNK))
        .into_par_iter()
        .map(|ci| job.correct_in(ci * PERM_CHUNK..((ci + 1) * PERM_CHUNK).min(n)))
        .reduce(|| vec![0usize; m * r], |a, b| a.iter().zip(&b).map(|(a, b)| a + b).collect());
    let rows: Vec<Vec<f64>> =
        (0..m).map(|j| (0..r).map(|rep| baseline - accuracy(correct[j * r + rep])).collect()).collect();
    let drops = Array2::from_shape_fn((m, params.n_repeats), |(j, r)| rows[j][r]);
    let mean: Vec<f64> = rows.iter().map(|r| r.iter().sum::<f64>() / r.len() as f64).collect();
    let std = rows
        .iter()
        .zip(&mean)
        .map(|(r, mu)| (r.iter().map(|v| (v - mu) * (v - mu)).sum::<f64>() / r.len() as f64).sqrt())
        .collect();
    Ok(PermutationImportance { baseline, mean, std, drops })
}

/// The row permutations, `r` per feature (feature-major): feature j shuffles with the j-th seed drawn
/// from the master stream, so a feature's permutations do not depend on the others'.
fn permutations(seed: u64, n: usize, m: usize, r: usize) -> Vec<Vec<u32>> {
    let mut master = ChaCha8Rng::seed_from_u64(seed);
    let seeds: Vec<u64> = (0..m).map(|_| master.next_u64()).collect();
    (0..m)
        .into_par_iter()
        .flat_map_iter(|j| {
            let mut rng = ChaCha8Rng::seed_from_u64(seeds[j]);
            let mut perm: Vec<u32> = (0..n as u32).collect();
            (0..r)
                .map(|_| {
                    perm.shuffle(&mut rng);
                    perm.clone()
                })
                .collect::<Vec<_>>()
        })
        .collect()
}

/// What every row chunk of the permutation importance reads.
struct PermutationJob<'a> {
    perms: Vec<Vec<u32>>,
    trees: &'a [DecisionTree],
    /// The rows, row-major.
    xs: &'a [f64],
    m: usize,
    r: usize,
    /// Classes.
    k: usize,
    /// Each row's class index (`None`: a label the forest does not know).
    y_idx: Vec<Option<usize>>,
}

impl PermutationJob<'_> {
    /// Correct predictions per (feature, repeat) among `rows`.
    fn correct_in(&self, rows: std::ops::Range<usize>) -> Vec<usize> {
        let (trees, xs, m, r) = (self.trees, self.xs, self.m, self.r);
        let words = m.div_ceil(64);
        let mut counts = vec![0usize; m * r];
        // Baseline leaf and the set of features on the baseline path, per row and tree.
        let mut leaves = Vec::with_capacity(rows.len() * trees.len());
        let mut masks = vec![0u64; rows.len() * trees.len() * words];
        for (ri, i) in rows.clone().enumerate() {
            let row = &xs[i * m..(i + 1) * m];
            for (ti, t) in trees.iter().enumerate() {
                let mask = &mut masks[(ri * trees.len() + ti) * words..][..words];
                let mut node = 0usize;
                while !t.is_leaf(node) {
                    let f = t.feature()[node] as usize;
                    mask[f / 64] |= 1 << (f % 64);
                    node = if row[f] <= t.threshold()[node] {
                        t.children_left()[node] as usize
                    } else {
                        t.children_right()[node] as usize
                    };
                }
                leaves.push(node);
            }
        }
        let mut row = vec![0.0; m];
        let mut proba = vec![0.0; self.k];
        for j in 0..m {
            for rep in 0..r {
                let perm = &self.perms[j * r + rep];
                for (ri, i) in rows.clone().enumerate() {
                    row.copy_from_slice(&xs[i * m..(i + 1) * m]);
                    row[j] = xs[perm[i] as usize * m + j];
                    // Same sum, in the same order, as `predict_proba_row`; only trees whose baseline
                    // path tests feature j can reach another leaf.
                    proba.iter_mut().for_each(|p| *p = 0.0);
                    for (ti, t) in trees.iter().enumerate() {
                        let b = (ri * trees.len() + ti) * words;
                        let leaf = if masks[b + j / 64] >> (j % 64) & 1 == 1 {
                            t.apply_row(&row)
                        } else {
                            leaves[ri * trees.len() + ti]
                        };
                        let w = t.weighted_n_node_samples()[leaf];
                        for (p, c) in proba.iter_mut().zip(t.node_value(leaf)) {
                            *p += c / w;
                        }
                    }
                    let nt = trees.len() as f64;
                    proba.iter_mut().for_each(|p| *p /= nt);
                    if self.y_idx[i] == Some(argmax(&proba)) {
                        counts[j * r + rep] += 1;
                    }
                }
            }
        }
        counts
    }
}
