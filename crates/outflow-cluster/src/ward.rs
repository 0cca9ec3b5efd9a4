//! Ward's minimum-variance hierarchical clustering by the nearest-neighbour chain, with the merge tree in
//! SciPy's linkage format, a cut into `k` clusters, and an option for large inputs (fit on a
//! seeded sample, assign the other rows to the nearest cluster centroid).
//!
//! The Ward distance of clusters A and B is `√(2·|A||B|/(|A|+|B|)) · ‖c_A − c_B‖` — the value SciPy's
//! `ward` / `linkage(method="ward")` and scikit-learn's `AgglomerativeClustering(linkage="ward",
//! compute_distances=True).distances_` report (for singletons: the Euclidean distance). SciPy derives it
//! with Lance–Williams updates of an n² distance matrix; here it is computed from centroids and sizes,
//! so memory is O(n·d): the chain, the centroids and the sizes. Time is O(n²·d); the nearest-neighbour
//! scans are vectorised over clusters and split across threads for large n (a deterministic minimum, so
//! results do not depend on the thread count).
//!
//! The chain follows SciPy's `nn_chain` step for step: it starts from the smallest active cluster id,
//! prefers the previous chain element on ties and otherwise the smallest id; a merge keeps the larger id
//! of the pair. The merges are then stably sorted by distance and relabelled as SciPy's `label` does, so on
//! data without distance ties the linkage matrix is SciPy's (distances equal to rounding).

use ndarray::{Array2, ArrayView2};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use outflow_core::{InputError, check_len, check_matrix, check_query, sample_indices, sq_euclidean};

use crate::error::{ClusterError, Result};
use crate::kmeans::nearest_centres;
use crate::traits::{ClusterModel, Fit, Predict};

/// Ward parameters.
///
/// ```
/// use ndarray::array;
/// use outflow_cluster::{ClusterModel, Fit, WardParams};
/// let x = array![[0.0, 0.0], [0.0, 1.0], [5.0, 5.0], [5.0, 6.0], [20.0, 0.0]];
/// let model = WardParams::new(3).fit(x.view()).unwrap();
/// assert_eq!(model.labels(), &[0, 0, 1, 1, 2]);
/// let z = model.linkage_matrix(); // SciPy's format: [a, b, distance, size] per merge
/// assert_eq!(z.nrows(), 4);
/// assert_eq!((z[[0, 0]], z[[0, 1]], z[[0, 2]], z[[0, 3]]), (0.0, 1.0, 1.0, 2.0));
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WardParams {
    /// Number of clusters of the cut (1 ≤ k ≤ rows, or ≤ `sample_size`).
    pub k: usize,
    /// For large inputs: build the tree on this many rows drawn without replacement (seeded), and give
    /// every other row the label of the nearest cluster centroid. `None` (default) or a value ≥ the number of rows: exact, on all rows.
    pub sample_size: Option<usize>,
    /// Seed of the sample.
    pub seed: u64,
}

impl Default for WardParams {
    fn default() -> Self {
        WardParams { k: 2, sample_size: None, seed: 0 }
    }
}

impl WardParams {
    /// Defaults with `k` clusters.
    pub fn new(k: usize) -> Self {
        WardParams { k, ..Default::default() }
    }

    /// Sets `sample_size`: fit on a seeded sample of `n` rows.
    pub fn sample_size(mut self, n: usize) -> Self {
        self.sample_size = Some(n);
        self
    }

    /// Sets `seed` (of the sample).
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// Checks the parameters on their own.
    pub fn validate(&self) -> Result<()> {
        if self.k == 0 {
            return Err(ClusterError::param("k", "must be at least 1"));
        }
        if let Some(s) = self.sample_size
            && s < self.k
        {
            return Err(ClusterError::param("sample_size", format!("{s} is smaller than k = {}", self.k)));
        }
        Ok(())
    }
}

/// One merge, in SciPy's linkage convention: clusters `a < b` (ids below `n` are leaves, `n + i` is the
/// cluster made by merge `i`), the Ward distance, and the size of the new cluster.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct LinkageStep {
    /// Smaller cluster id.
    pub a: usize,
    /// Larger cluster id.
    pub b: usize,
    /// Ward distance of the merge.
    pub distance: f64,
    /// Leaves under the new cluster.
    pub size: usize,
}

/// A fitted Ward clustering.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Ward {
    params: WardParams,
    #[serde(with = "outflow_core::codec::i64s")]
    labels: Vec<i64>,
    /// Empty after [`Ward::slim`].
    linkage: Vec<LinkageStep>,
    #[serde(with = "outflow_core::codec::matrix")]
    centroids: Array2<f64>,
    sizes: Vec<usize>,
    sample: Option<Vec<usize>>,
}

impl Ward {
    /// Checks a model read from a file: one size per centroid, at least one, every coordinate usable.
    pub fn check(&self) -> std::result::Result<(), String> {
        let k = self.centroids.nrows();
        if k == 0 || self.sizes.len() != k || self.centroids.iter().any(|v| !outflow_core::is_usable(*v)) {
            return Err(format!("{k} centroids with {} sizes, or a coordinate that is not usable", self.sizes.len()));
        }
        Ok(())
    }

    /// The parameters used.
    pub fn params(&self) -> &WardParams {
        &self.params
    }

    /// Number of features.
    pub fn n_features(&self) -> usize {
        self.centroids.ncols()
    }

    /// Drops the merge tree and the sample rows, which prediction (nearest centroid) does not need.
    pub fn slim(mut self) -> Ward {
        self.linkage = Vec::new();
        self.sample = None;
        self
    }

    /// The merge tree (n − 1 merges in ascending distance), over the rows — or over the sample rows, leaf
    /// `i` being row [`Ward::sample_rows`]`[i]`, when fitted on a sample. Empty after [`Ward::slim`].
    pub fn linkage(&self) -> &[LinkageStep] {
        &self.linkage
    }

    /// The merge tree as SciPy's `(n − 1) × 4` linkage matrix `[a, b, distance, size]`.
    pub fn linkage_matrix(&self) -> Array2<f64> {
        Array2::from_shape_fn((self.linkage.len(), 4), |(i, j)| {
            let s = &self.linkage[i];
            match j {
                0 => s.a as f64,
                1 => s.b as f64,
                2 => s.distance,
                _ => s.size as f64,
            }
        })
    }

    /// Centroid of each cluster (row = label) — of the sample clusters when fitted on a sample.
    pub fn centroids(&self) -> &Array2<f64> {
        &self.centroids
    }

    /// Points of each cluster in the tree (sample clusters when fitted on a sample).
    pub fn cluster_sizes(&self) -> &[usize] {
        &self.sizes
    }

    /// The rows the tree was built on, ascending, when fitted on a sample.
    pub fn sample_rows(&self) -> Option<&[usize]> {
        self.sample.as_deref()
    }

    /// Euclidean distance of each row of `x` to the centroid of the cluster `labels` gives it.
    pub fn distances_to_centroids(&self, x: ArrayView2<'_, f64>, labels: &[i64]) -> Result<Vec<f64>> {
        check_query(x, self.centroids.ncols())?;
        check_len("labels", x.nrows(), labels.len())?;
        let k = self.centroids.nrows();
        if let Some(&l) = labels.iter().find(|&&l| l < 0 || l as usize >= k) {
            return Err(ClusterError::param("labels", format!("label {l} is not a cluster of the model (0..{k})")));
        }
        let x = x.as_standard_layout();
        let c = self.centroids.as_standard_layout();
        let d = c.ncols();
        let (xs, cs) = (x.as_slice().expect("standard layout"), c.as_slice().expect("standard layout"));
        Ok(labels
            .iter()
            .enumerate()
            .map(|(i, &l)| sq_euclidean(&xs[i * d..(i + 1) * d], &cs[l as usize * d..(l as usize + 1) * d]).sqrt())
            .collect())
    }
}

impl ClusterModel for Ward {
    fn labels(&self) -> &[i64] {
        &self.labels
    }
}

impl Predict for Ward {
    type Error = ClusterError;

    /// Nearest cluster centroid (first on ties).
    fn predict(&self, x: ArrayView2<'_, f64>) -> Result<Vec<i64>> {
        check_query(x, self.centroids.ncols())?;
        Ok(nearest_centres(x, &self.centroids).0)
    }
}

/// Active clusters kept compact (swap-remove) and dimension-major, so a nearest-neighbour scan streams
/// through contiguous memory and vectorises over clusters.
struct Active {
    d: usize,
    /// Capacity (initial n, rounded up to a multiple of [`LANES`]).
    cap: usize,
    m: usize,
    /// `cent[j * cap + p]`: coordinate j of the cluster at position p.
    cent: Vec<f64>,
    size: Vec<f64>,
    id: Vec<u32>,
    pos_of: Vec<u32>,
}

const LANES: usize = 8;
/// Below this many active clusters a scan runs on one thread.
const PAR_MIN: usize = 6144;
/// Positions per parallel work unit of a scan.
const PAR_CHUNK: usize = 2048;

impl Active {
    fn new(x: &[f64], n: usize, d: usize) -> Active {
        let cap = n.div_ceil(LANES) * LANES;
        let mut cent = vec![0.0; cap * d];
        for i in 0..n {
            for j in 0..d {
                cent[j * cap + i] = x[i * d + j];
            }
        }
        let mut size = vec![0.0; cap];
        size[..n].fill(1.0);
        Active { d, cap, m: n, cent, size, id: (0..n as u32).collect(), pos_of: (0..n as u32).collect() }
    }

    fn centroid(&self, p: usize) -> Vec<f64> {
        (0..self.d).map(|j| self.cent[j * self.cap + p]).collect()
    }

    /// Half the squared Ward distance between the cluster at `p` and every other active one is
    /// `s_p s_q / (s_p + s_q) · ‖c_p − c_q‖²`; returns the smallest as (value, id), ties to the smaller id,
    /// scanning positions `range`.
    #[inline(always)]
    fn nearest_in(&self, p: usize, c: &[f64], range: std::ops::Range<usize>) -> (f64, u32) {
        let sp = self.size[p];
        let mut best = (f64::INFINITY, u32::MAX);
        let mut b = range.start;
        while b < range.end {
            let mut acc = [0.0f64; LANES];
            let w = (range.end - b).min(LANES);
            for (j, &cj) in c.iter().enumerate() {
                let col = &self.cent[j * self.cap + b..j * self.cap + b + LANES];
                for (a, &v) in acc.iter_mut().zip(col) {
                    let t = v - cj;
                    *a += t * t;
                }
            }
            for (l, &d2) in acc.iter().enumerate().take(w) {
                let q = b + l;
                let sq = self.size[q];
                let v = sp * sq / (sp + sq) * d2;
                let id = self.id[q];
                if q != p && (v < best.0 || (v == best.0 && id < best.1)) {
                    best = (v, id);
                }
            }
            b += LANES;
        }
        best
    }

    fn nearest(&self, p: usize) -> (f64, u32) {
        let c = self.centroid(p);
        if self.m < PAR_MIN {
            return self.nearest_in(p, &c, 0..self.m);
        }
        let chunks = self.m.div_ceil(PAR_CHUNK);
        (0..chunks)
            .into_par_iter()
            .map(|k| self.nearest_in(p, &c, k * PAR_CHUNK..((k + 1) * PAR_CHUNK).min(self.m)))
            .reduce(|| (f64::INFINITY, u32::MAX), |a, b| if b.0 < a.0 || (b.0 == a.0 && b.1 < a.1) { b } else { a })
    }

    /// The value [`Active::nearest_in`] computes for the pair (same operations in the same order).
    fn half_sq(&self, p: usize, q: usize) -> f64 {
        let (sp, sq) = (self.size[p], self.size[q]);
        let mut s = 0.0;
        for j in 0..self.d {
            let t = self.cent[j * self.cap + q] - self.cent[j * self.cap + p];
            s += t * t;
        }
        sp * sq / (sp + sq) * s
    }

    /// Merges the cluster at `px` into the one at `py` (which keeps its id) and removes `px`.
    fn merge(&mut self, px: usize, py: usize) {
        let (sx, sy) = (self.size[px], self.size[py]);
        let t = sx + sy;
        for j in 0..self.d {
            let (a, b) = (self.cent[j * self.cap + px], self.cent[j * self.cap + py]);
            self.cent[j * self.cap + py] = (sx * a + sy * b) / t;
        }
        self.size[py] = t;
        let last = self.m - 1;
        if px != last {
            for j in 0..self.d {
                self.cent[j * self.cap + px] = self.cent[j * self.cap + last];
            }
            self.size[px] = self.size[last];
            self.id[px] = self.id[last];
            self.pos_of[self.id[px] as usize] = px as u32;
        }
        // Keep the padding lanes harmless.
        for j in 0..self.d {
            self.cent[j * self.cap + last] = 0.0;
        }
        self.size[last] = 0.0;
        self.m -= 1;
    }
}

/// Ward's merges by the nearest-neighbour chain, in SciPy's final form (sorted, relabelled).
pub(crate) fn nn_chain(x: &[f64], n: usize, d: usize) -> Vec<LinkageStep> {
    let mut act = Active::new(x, n, d);
    let mut alive = vec![true; n];
    let mut lowest = 0usize;
    let mut chain: Vec<u32> = Vec::with_capacity(n);
    // Merges as (x, y, distance, size) with SciPy's slot ids (the merged cluster keeps y).
    let mut merges: Vec<(u32, u32, f64, usize)> = Vec::with_capacity(n.saturating_sub(1));
    for _ in 1..n {
        if chain.is_empty() {
            while !alive[lowest] {
                lowest += 1;
            }
            chain.push(lowest as u32);
        }
        let (xid, yid, half) = loop {
            let xid = *chain.last().expect("non-empty chain");
            let px = act.pos_of[xid as usize] as usize;
            let (mut v, mut y) = act.nearest(px);
            if chain.len() > 1 {
                let prev = chain[chain.len() - 2];
                let vp = act.half_sq(px, act.pos_of[prev as usize] as usize);
                if vp <= v {
                    (v, y) = (vp, prev);
                }
                if y == prev {
                    break (xid, y, v);
                }
            }
            chain.push(y);
        };
        chain.truncate(chain.len() - 2);
        let (a, b) = if xid < yid { (xid, yid) } else { (yid, xid) };
        let (pa, pb) = (act.pos_of[a as usize] as usize, act.pos_of[b as usize] as usize);
        let size = (act.size[pa] + act.size[pb]) as usize;
        merges.push((a, b, (2.0 * half).sqrt(), size));
        act.merge(pa, pb);
        alive[a as usize] = false;
    }
    // Stable sort by distance, then SciPy's `label`: union–find roots, smaller id first, new ids n + i.
    merges.sort_by(|p, q| p.2.total_cmp(&q.2));
    let mut parent: Vec<usize> = (0..2 * n.max(1) - 1).collect();
    let find = |parent: &mut Vec<usize>, mut v: usize| {
        let mut r = v;
        while parent[r] != r {
            r = parent[r];
        }
        while parent[v] != r {
            let nx = parent[v];
            parent[v] = r;
            v = nx;
        }
        r
    };
    let mut sizes = vec![1usize; 2 * n.max(1) - 1];
    merges
        .iter()
        .enumerate()
        .map(|(i, &(x, y, dist, _))| {
            let (rx, ry) = (find(&mut parent, x as usize), find(&mut parent, y as usize));
            let new = n + i;
            parent[rx] = new;
            parent[ry] = new;
            sizes[new] = sizes[rx] + sizes[ry];
            LinkageStep { a: rx.min(ry), b: rx.max(ry), distance: dist, size: sizes[new] }
        })
        .collect()
}

/// Flat clusters after undoing the last `k − 1` merges, numbered in order of their smallest leaf.
pub(crate) fn cut(linkage: &[LinkageStep], n: usize, k: usize) -> Vec<i64> {
    let mut parent: Vec<usize> = (0..2 * n - 1).collect();
    for (i, s) in linkage.iter().take(n - k).enumerate() {
        parent[s.a] = n + i;
        parent[s.b] = n + i;
    }
    let root = |mut v: usize| {
        while parent[v] != v {
            v = parent[v];
        }
        v
    };
    let mut label_of = vec![-1i64; 2 * n - 1];
    let mut next = 0;
    (0..n)
        .map(|i| {
            let r = root(i);
            if label_of[r] < 0 {
                label_of[r] = next;
                next += 1;
            }
            label_of[r]
        })
        .collect()
}

impl Fit for WardParams {
    type Fitted = Ward;
    type Error = ClusterError;

    fn fit(&self, x: ArrayView2<'_, f64>) -> Result<Ward> {
        self.validate()?;
        check_matrix(x)?;
        let (n, d) = x.dim();
        if self.k > n {
            return Err(InputError::too_few_rows(format!("Ward with k = {}", self.k), self.k, n).into());
        }
        let x = x.as_standard_layout();
        let sample: Option<Vec<usize>> = self.sample_size.filter(|&s| s < n).map(|s| sample_indices(n, s, self.seed));
        let fit_x: Array2<f64> = match &sample {
            Some(idx) => x.select(ndarray::Axis(0), idx),
            None => x.to_owned(),
        };
        let m = fit_x.nrows();
        let flat = fit_x.as_slice().expect("standard layout");
        let linkage = nn_chain(flat, m, d);
        let tree_labels = cut(&linkage, m, self.k);
        let mut centroids = Array2::<f64>::zeros((self.k, d));
        let mut sizes = vec![0usize; self.k];
        for (i, &l) in tree_labels.iter().enumerate() {
            let mut c = centroids.row_mut(l as usize);
            c += &fit_x.row(i);
            sizes[l as usize] += 1;
        }
        for (mut c, &s) in centroids.rows_mut().into_iter().zip(&sizes) {
            c /= s as f64;
        }
        let labels = match &sample {
            None => tree_labels,
            Some(idx) => {
                let mut labels = vec![-1i64; n];
                for (&row, &l) in idx.iter().zip(&tree_labels) {
                    labels[row] = l;
                }
                let rest: Vec<usize> = (0..n).filter(|&i| labels[i] < 0).collect();
                let pred = nearest_centres(x.select(ndarray::Axis(0), &rest).view(), &centroids).0;
                for (&row, l) in rest.iter().zip(pred) {
                    labels[row] = l;
                }
                labels
            }
        };
        Ok(Ward { params: self.clone(), labels, linkage, centroids, sizes, sample })
    }
}

/// Ward linkage by brute force (O(n³)): for tests.
#[cfg(test)]
pub(crate) fn naive_linkage(x: &Array2<f64>) -> Vec<(Vec<usize>, Vec<usize>, f64)> {
    let mut clusters: Vec<Vec<usize>> = (0..x.nrows()).map(|i| vec![i]).collect();
    let centroid = |c: &Vec<usize>| -> Vec<f64> {
        (0..x.ncols()).map(|j| c.iter().map(|&i| x[[i, j]]).sum::<f64>() / c.len() as f64).collect()
    };
    let mut out = Vec::new();
    while clusters.len() > 1 {
        let mut best = (f64::INFINITY, 0, 0);
        for a in 0..clusters.len() {
            for b in a + 1..clusters.len() {
                let (ca, cb) = (centroid(&clusters[a]), centroid(&clusters[b]));
                let (na, nb) = (clusters[a].len() as f64, clusters[b].len() as f64);
                let dd: f64 = ca.iter().zip(&cb).map(|(p, q)| (p - q) * (p - q)).sum();
                let w = (2.0 * na * nb / (na + nb) * dd).sqrt();
                if w < best.0 {
                    best = (w, a, b);
                }
            }
        }
        let (w, a, b) = best;
        let cb = clusters.remove(b);
        let ca = clusters[a].clone();
        clusters[a].extend(cb.iter().copied());
        out.push((ca, cb, w));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;
    use rand::{RngExt, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    fn random(n: usize, d: usize, seed: u64) -> Array2<f64> {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        Array2::from_shape_fn((n, d), |(i, _)| rng.random_range(-1.0..1.0) + (i % 3) as f64 * 3.0)
    }

    /// Leaves under each linkage node.
    fn members(l: &[LinkageStep], n: usize) -> Vec<Vec<usize>> {
        let mut m: Vec<Vec<usize>> = (0..n).map(|i| vec![i]).collect();
        for s in l {
            let mut v = m[s.a].clone();
            v.extend(m[s.b].iter().copied());
            v.sort_unstable();
            m.push(v);
        }
        m
    }

    #[test]
    fn equals_brute_force() {
        for (n, d, seed) in [(40, 2, 1), (60, 5, 2), (25, 1, 3)] {
            let x = random(n, d, seed);
            let l = nn_chain(x.as_slice().unwrap(), n, d);
            let naive = naive_linkage(&x);
            let mut nd: Vec<f64> = naive.iter().map(|t| t.2).collect();
            nd.sort_by(f64::total_cmp);
            let m = members(&l, n);
            let mut naive_sets: Vec<Vec<usize>> = naive
                .iter()
                .map(|(a, b, _)| {
                    let mut v: Vec<usize> = a.iter().chain(b).copied().collect();
                    v.sort_unstable();
                    v
                })
                .collect();
            naive_sets.sort();
            let mut ours: Vec<Vec<usize>> = m[n..].to_vec();
            ours.sort();
            assert_eq!(ours, naive_sets);
            for (s, e) in l.iter().zip(&nd) {
                assert!((s.distance - e).abs() <= 1e-12 * e.max(1.0));
                assert!(s.a < s.b);
            }
        }
    }

    #[test]
    fn cuts() {
        let x = random(30, 3, 5);
        let w = WardParams::new(30).fit(x.view()).unwrap();
        assert_eq!(w.labels(), &(0..30).collect::<Vec<i64>>()[..]);
        let w = WardParams::new(1).fit(x.view()).unwrap();
        assert!(w.labels().iter().all(|&l| l == 0));
        let w = WardParams::new(3).fit(x.view()).unwrap();
        assert_eq!(w.n_clusters(), 3);
        assert_eq!(w.predict(x.view()).unwrap(), w.labels());
    }

    #[test]
    fn sample_then_nearest_centroid() {
        let x = random(500, 2, 7);
        let w = WardParams::new(3).sample_size(100).seed(1).fit(x.view()).unwrap();
        assert_eq!(w.sample_rows().unwrap().len(), 100);
        assert_eq!(w.linkage().len(), 99);
        let pred = w.predict(x.view()).unwrap();
        for (i, &pi) in pred.iter().enumerate() {
            if w.sample_rows().unwrap().binary_search(&i).is_err() {
                assert_eq!(pi, w.labels()[i]);
            }
        }
        assert_eq!(WardParams::new(3).sample_size(100).seed(1).fit(x.view()).unwrap(), w);
    }

    #[test]
    fn bad_input() {
        let x = array![[0.0, 1.0], [1.0, 0.0]];
        assert!(WardParams::new(0).fit(x.view()).is_err());
        assert!(WardParams::new(3).fit(x.view()).is_err());
        assert!(WardParams::new(2).sample_size(1).fit(x.view()).is_err());
        assert!(WardParams::new(1).fit(array![[f64::NAN]].view()).is_err());
        let one = WardParams::new(1).fit(array![[2.0, 3.0]].view()).unwrap();
        assert_eq!(one.labels(), &[0]);
        assert!(one.linkage().is_empty());
    }
}

#[cfg(test)]
mod check_tests {
    use super::*;
    use outflow_core::Fit;

    #[test]
    fn crafted_centroids_are_refused() {
        let x = ndarray::Array2::from_shape_fn((60, 2), |(i, j)| ((i % 3) * 10 + j) as f64);
        let m = WardParams { k: 3, ..Default::default() }.fit(x.view()).unwrap();
        let mut b = m.clone();
        b.sizes.pop();
        assert!(b.check().is_err());
        let mut b = m.clone();
        b.centroids[[0, 1]] = f64::NAN;
        assert!(b.check().is_err());
        assert!(m.check().is_ok());
    }
}
