//! Parity of HDBSCAN with sample weights and with partial labels (semi-supervised HDBSCAN*(BC)) against
//! fast_hdbscan 0.3.4, which defines both, on the fixtures written by
//! `tools/reference/hdbscan_weights_reference.py` into `tests/fixtures/hdbscan_weights/` (exact MST there:
//! fast_hdbscan's default Borůvka path mixes squared and plain distances with weights).
//!
//! For every run: core distances (fast_hdbscan computes in `f32`: within 1e-5), the same partition, and
//! — where fast_hdbscan's result does not move with the row order (`reordered_ari` 1: no tied MST edge
//! decides it) — the same condensed-tree cluster rows (λ, weighted size) and the same membership
//! probabilities in leaf clusters (for a selected cluster that has children, fast_hdbscan divides by the
//! largest λ of its own point rows, hdbscan and Outflow by the largest λ of any of its rows). Elsewhere
//! the partition must agree as closely as fast_hdbscan agrees with itself on reordered rows (adjusted
//! Rand index within 0.02 of that; Outflow merges tied components at once, independent of the order). The main run of a case without such ties also matches fast_hdbscan's stability
//! of every cluster, clusters matched by their birth λ and weight.

mod common;

use common::{ari, matrix, same_partition};
use outflow_cluster::{ClusterModel, ClusterSelection, Hdbscan, HdbscanParams, MinSamplesConvention, SemiSupervised};
use serde::Deserialize;

#[derive(Deserialize)]
struct Fixture {
    name: String,
    x: Vec<Vec<f64>>,
    weights: Option<Vec<f64>>,
    y: Option<Vec<i64>>,
    runs: Vec<Run>,
}

#[derive(Deserialize)]
struct Run {
    min_cluster_size: usize,
    min_samples: usize,
    method: String,
    allow_single_cluster: bool,
    max_cluster_size: usize,
    epsilon: f64,
    weighted: bool,
    ss_algorithm: Option<String>,
    labels: Vec<i64>,
    probabilities: Vec<f64>,
    /// (λ, weighted size) of the condensed tree's cluster rows, sorted.
    cluster_rows: Vec<(f64, f64)>,
    reordered_ari: f64,
    core_distances: Option<Vec<f64>>,
    /// [parent, child, λ, child_size] rows.
    condensed_tree: Option<Vec<(usize, usize, f64, f64)>>,
    /// [node, score] as fast_hdbscan's `score_condensed_tree_nodes`.
    stability: Option<Vec<(usize, f64)>>,
}

fn fixtures() -> Vec<Fixture> {
    common::fixtures("hdbscan_weights", 3)
}

/// fast_hdbscan's exact path counts `min_samples` two ways: with weights the row itself counts (its
/// weight first in the cumulative sum: scikit-learn's convention); without weights it does not (hdbscan's:
/// the `min_samples`-th other row), except that `min_samples = 1` gives core distance 0 (scikit-learn's).
fn params(r: &Run) -> HdbscanParams {
    let hdbscan_way = !r.weighted && r.min_samples > 1;
    let convention = if hdbscan_way { MinSamplesConvention::Hdbscan } else { MinSamplesConvention::Sklearn };
    let mut p = HdbscanParams::new(r.min_cluster_size)
        .min_samples(r.min_samples)
        .min_samples_convention(convention)
        .allow_single_cluster(r.allow_single_cluster)
        .max_cluster_size(r.max_cluster_size)
        .cluster_selection_epsilon(r.epsilon)
        .cluster_selection(if r.method == "leaf" { ClusterSelection::Leaf } else { ClusterSelection::Eom });
    if let Some(ss) = &r.ss_algorithm {
        p = p.ss_algorithm(if ss == "bc" { SemiSupervised::Bc } else { SemiSupervised::BcSimple });
    }
    p
}

fn fit(f: &Fixture, r: &Run) -> Hdbscan {
    let x = matrix(&f.x);
    let w = f.weights.as_deref().filter(|_| r.weighted);
    let y = f.y.as_deref().filter(|_| r.ss_algorithm.is_some());
    params(r).fit_with(x.view(), w, y).unwrap()
}

/// (λ, weight) of the cluster rows, sorted, λ to 7 significant digits as the fixture records it.
fn cluster_rows(m: &Hdbscan) -> Vec<(f64, f64)> {
    let ct = m.condensed_tree();
    let mut rows: Vec<(f64, f64)> = (0..ct.len())
        .filter(|&i| ct.child[i] >= ct.n_points)
        .map(|i| (sig7(ct.lambda_val[i]), ct.size_of_row(i)))
        .collect();
    rows.sort_by(|a, b| a.partial_cmp(b).unwrap());
    rows
}

fn sig7(v: f64) -> f64 {
    format!("{v:.6e}").parse().unwrap()
}

fn close(a: f64, b: f64, rel: f64) -> bool {
    (a - b).abs() <= rel * b.abs().max(1e-12)
}

#[test]
fn weighted_and_semi_supervised_fits_match_fast_hdbscan() {
    let (mut checked, mut exact) = (0, 0);
    for f in fixtures() {
        for (k, r) in f.runs.iter().enumerate() {
            let what = format!(
                "{} run {k} ({} ms={} single={})",
                f.name,
                r.ss_algorithm.as_deref().unwrap_or(&r.method),
                r.min_samples,
                r.allow_single_cluster
            );
            let m = fit(&f, r);
            if let Some(core) = &r.core_distances {
                for (i, (a, b)) in m.core_distances().iter().zip(core).enumerate() {
                    assert!((a - b).abs() <= 1e-5 * b.max(1.0), "{what}: core distance of row {i}: {a} against {b}");
                }
            }
            let got = m.labels();
            if r.reordered_ari < 1.0 {
                let a = ari(got, &r.labels);
                eprintln!(
                    "{what}: ARI {a:.4} against fast_hdbscan (tie-dependent: fast_hdbscan to itself {})",
                    r.reordered_ari
                );
                assert!(a >= r.reordered_ari - 0.02, "{what}: ARI {a} against fast_hdbscan");
                continue;
            }
            same_partition(got, &r.labels).unwrap_or_else(|e| panic!("{what}: {e}"));
            checked += 1;
            if r.min_samples > 1 {
                // Tied edges (core distances) can still move a bridge point between a cluster and its
                // parent (see the crate docs) without moving a label.
                continue;
            }
            let ours = cluster_rows(&m);
            assert_eq!(ours.len(), r.cluster_rows.len(), "{what}: cluster rows {ours:?} against {:?}", r.cluster_rows);
            for (a, b) in ours.iter().zip(&r.cluster_rows) {
                assert!(close(a.0, b.0, 2e-6) && a.1 == b.1, "{what}: cluster row {a:?} against {b:?}");
            }
            let ct = m.condensed_tree();
            let leaf = |label: i64| {
                let c = m.selected_clusters()[label as usize];
                !ct.child.iter().zip(&ct.parent).any(|(&ch, &p)| p == c && ch >= ct.n_points)
            };
            for (i, (&l, (&p, &q))) in got.iter().zip(m.probabilities().iter().zip(&r.probabilities)).enumerate() {
                if l >= 0 && leaf(l) {
                    assert!((p - q).abs() <= 1e-5, "{what}: probability of row {i}: {p} against {q}");
                }
            }
            if let (Some(tree), Some(stab)) = (&r.condensed_tree, &r.stability) {
                check_stability(&what, &m, tree, stab);
                exact += 1;
            }
        }
    }
    assert!(checked >= 6 && exact == 3, "{checked} partitions and {exact} trees compared exactly");
}

/// fast_hdbscan's stability of every cluster against Outflow's, matched by (birth λ, weight); siblings
/// with the same key are compared as sorted lists.
fn check_stability(what: &str, m: &Hdbscan, tree: &[(usize, usize, f64, f64)], stab: &[(usize, f64)]) {
    let n = m.labels().len();
    let mut theirs: Vec<(f64, f64, f64)> = tree
        .iter()
        .filter(|r| r.1 >= n)
        .map(|r| (r.2, r.3, stab.iter().find(|s| s.0 == r.1).expect("every cluster scored").1))
        .collect();
    let ct = m.condensed_tree();
    let all = ct.stabilities();
    let mut ours: Vec<(f64, f64, f64)> = (0..ct.len())
        .filter(|&i| ct.child[i] >= ct.n_points)
        .map(|i| (sig7(ct.lambda_val[i]), ct.size_of_row(i), all[ct.child[i]]))
        .collect();
    let order = |a: &(f64, f64, f64), b: &(f64, f64, f64)| a.partial_cmp(b).unwrap();
    theirs.sort_by(order);
    ours.sort_by(order);
    assert_eq!(ours.len(), theirs.len(), "{what}: clusters");
    for (o, t) in ours.iter().zip(&theirs) {
        assert!(
            close(o.0, t.0, 2e-6) && o.1 == t.1 && close(o.2, t.2, 1e-4),
            "{what}: (birth λ, weight, stability) {o:?} against {t:?}"
        );
    }
}

#[test]
fn semi_supervised_variants_choose_as_fast_hdbscan_does() {
    // The fixture's point: plain EOM keeps the first pair of sub-blobs whole (3 clusters), "bc" splits
    // it by its labels (4), "bc_simple" keeps it (3).
    let f = fixtures().into_iter().find(|f| f.name == "nested_semi_supervised").expect("fixture");
    let count = |m: &Hdbscan| m.n_clusters();
    let x = matrix(&f.x);
    let y = f.y.as_deref().unwrap();
    let base = HdbscanParams::new(15).min_samples(5).min_samples_convention(MinSamplesConvention::Hdbscan);
    assert_eq!(count(&base.fit_semi_supervised(x.view(), y).unwrap()), 4);
    assert_eq!(
        count(&base.clone().ss_algorithm(SemiSupervised::BcSimple).fit_semi_supervised(x.view(), y).unwrap()),
        3
    );
    assert_eq!(count(&outflow_cluster::Fit::fit(&base, x.view()).unwrap()), 3);
}

#[test]
fn bad_weights_and_labels_are_named() {
    let f = fixtures().into_iter().find(|f| f.name == "blobs_int_weights").expect("fixture");
    let x = matrix(&f.x);
    let n = x.nrows();
    let p = HdbscanParams::new(15).min_samples(5);
    let err = |r: Result<Hdbscan, outflow_cluster::ClusterError>| r.expect_err("must fail").to_string();
    assert!(err(p.fit_weighted(x.view(), &vec![1.0; n - 1])).contains("sample weights"));
    let mut w = vec![1.0; n];
    w[7] = -0.5;
    assert!(err(p.fit_weighted(x.view(), &w)).contains("row 7"));
    w[7] = f64::NAN;
    assert!(err(p.fit_weighted(x.view(), &w)).contains("row 7"));
    assert!(err(p.fit_weighted(x.view(), &vec![0.01; n])).contains("below min_samples"));
    assert!(err(p.fit_semi_supervised(x.view(), &vec![0; n + 1])).contains("partial labels"));
    assert!(err(p.fit_semi_supervised(x.view(), &vec![-1; n])).contains("unlabelled"));
    let mut y = vec![-1; n];
    y[3] = -2;
    assert!(err(p.fit_semi_supervised(x.view(), &y)).contains("row 3"));
    y[3] = 0;
    assert!(
        err(p.clone().cluster_selection(ClusterSelection::Leaf).fit_semi_supervised(x.view(), &y)).contains("leaf")
    );
    assert!(err(p.clone().max_cluster_size(100).fit_semi_supervised(x.view(), &y)).contains("max_cluster_size"));
}

#[test]
fn partial_labels_from_the_clustering_itself_give_it_back() {
    // Labelling every clustered row with its own cluster is the best BCubed score there is: the
    // semi-supervised selection must return that clustering.
    for f in fixtures() {
        let x = matrix(&f.x);
        let p = HdbscanParams::new(15).min_samples(5);
        let plain = outflow_cluster::Fit::fit(&p, x.view()).unwrap();
        for variant in [SemiSupervised::Bc, SemiSupervised::BcSimple] {
            let again = p.clone().ss_algorithm(variant).fit_semi_supervised(x.view(), plain.labels()).unwrap();
            same_partition(again.labels(), plain.labels()).unwrap_or_else(|e| panic!("{} {variant:?}: {e}", f.name));
        }
    }
}

#[test]
fn weighted_models_predict_their_training_rows() {
    // Fractional weights (k/8, some 0): a new point's core distance may need more neighbours than
    // min_samples; predicting the training rows must find them and mostly give the fitted labels.
    let f = fixtures().into_iter().find(|f| f.name == "blobs_frac_weights").expect("fixture");
    let x = matrix(&f.x);
    let m = HdbscanParams::new(10).min_samples(4).fit_weighted(x.view(), f.weights.as_deref().unwrap()).unwrap();
    assert_eq!(m.sample_weights(), f.weights.as_deref());
    let predicted = outflow_cluster::Predict::predict(&m, x.view()).unwrap();
    let same = predicted.iter().zip(m.labels()).filter(|(a, b)| a == b).count();
    assert!(same as f64 >= 0.95 * x.nrows() as f64, "{same} of {} training rows predicted as fitted", x.nrows());
    let back: Hdbscan = serde_json::from_str(&serde_json::to_string(&m).unwrap()).unwrap();
    assert_eq!(back, m);
    assert!(back.check().is_ok());
}

#[test]
fn weight_edge_cases() {
    use ndarray::Array2;
    use outflow_cluster::MstAlgorithm;
    // A jittered 6 × 4 grid (no tied distances), a far group of three rows weighing nothing, and one
    // heavy row.
    let jitter = |i: usize, a: usize, b: usize| ((i * a) % b) as f64 * 0.0031;
    let mut rows: Vec<[f64; 2]> =
        (0..24).map(|i| [(i % 6) as f64 * 0.1 + jitter(i, 37, 11), (i / 6) as f64 * 0.1 + jitter(i, 53, 7)]).collect();
    rows.extend([[40.0, 40.0], [40.1, 40.0], [40.0, 40.1], [3.0, 0.0]]);
    let x = Array2::from_shape_fn((rows.len(), 2), |(i, j)| rows[i][j]);
    let mut w = vec![1.0; rows.len()];
    w[24..27].fill(0.0);
    w[27] = 50.0;
    let p = HdbscanParams::new(10).min_samples(3);
    let by_tree = p.fit_weighted(x.view(), &w).unwrap();
    let by_prim = p.clone().mst_algorithm(MstAlgorithm::Prim).fit_weighted(x.view(), &w).unwrap();
    // The weightless group reaches weight 3 only at the grid: its core distances come from the whole
    // data set (the kd-tree search widens to every row), as Prim's do.
    for (a, b) in by_tree.core_distances().iter().zip(by_prim.core_distances()) {
        assert!(close(*a, *b, 1e-12), "{a} against {b}");
    }
    assert!(by_tree.core_distances()[24] > 50.0);
    assert_eq!(by_tree.labels(), by_prim.labels());
    // The heavy row (weight 50 ≥ min_cluster_size) stays a point of the tree; its own weight reaches
    // min_samples at distance 0.
    let ct = by_tree.condensed_tree();
    assert!(ct.child.contains(&27));
    assert_eq!(by_tree.core_distances()[27], 0.0);
    assert!(by_tree.persistence().iter().all(|p| (0.0..=1.0).contains(p)), "{:?}", by_tree.persistence());
    // Persistence simplification keeps the weights aligned with the rows.
    let simple = p.clone().cluster_selection_persistence(0.5).fit_weighted(x.view(), &w).unwrap();
    let st = simple.condensed_tree();
    assert_eq!(st.child_weight.len(), st.len());

    // A duplicated row with two weights is one point of their summed weight.
    let mut dup = x.clone().into_shape_with_order((rows.len() * 2,)).unwrap().to_vec();
    dup.extend_from_slice(&[0.0, 0.0]);
    let xd = Array2::from_shape_vec((rows.len() + 1, 2), dup).unwrap();
    let (mut wd, mut ws) = (vec![1.0; rows.len() + 1], vec![1.0; rows.len()]);
    wd[0] = 0.5;
    wd[rows.len()] = 2.5;
    ws[0] = 3.0;
    let a = p.fit_weighted(xd.view(), &wd).unwrap();
    let b = p.fit_weighted(x.view(), &ws).unwrap();
    assert_eq!(a.core_distances()[..rows.len()], b.core_distances()[..]);
    assert_eq!(a.core_distances()[0], a.core_distances()[rows.len()]);
}

#[test]
fn semi_supervised_models_take_epsilon_and_round_trip() {
    let f = fixtures().into_iter().find(|f| f.name == "nested_semi_supervised").expect("fixture");
    let x = matrix(&f.x);
    let y = f.y.as_deref().unwrap();
    let base = HdbscanParams::new(15).min_samples(5).min_samples_convention(MinSamplesConvention::Hdbscan);
    let split = base.fit_semi_supervised(x.view(), y).unwrap();
    assert_eq!(split.n_clusters(), 4);
    // Epsilon acts after the labels' choice: the pairs of sub-blobs (about 2 apart) merge back.
    let merged = base.clone().cluster_selection_epsilon(3.0).fit_semi_supervised(x.view(), y).unwrap();
    assert!(merged.n_clusters() < 4, "{}", merged.n_clusters());
    let back: Hdbscan = serde_json::from_str(&serde_json::to_string(&split).unwrap()).unwrap();
    assert_eq!(back, split);
    let predicted = outflow_cluster::Predict::predict(&back, x.view()).unwrap();
    let same = predicted.iter().zip(split.labels()).filter(|(a, b)| a == b).count();
    assert!(same as f64 >= 0.95 * x.nrows() as f64);
}
