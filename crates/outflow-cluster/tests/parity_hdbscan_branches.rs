//! Branch detection (FLASC) against hdbscan 0.8.44's `hdbscan.branches`, on the fixtures written by
//! `tools/reference/hdbscan_branches_reference.py` into `tests/fixtures/hdbscan_branches/` (the semantics:
//! `tools/reference/notes/flasc_branches.md`).
//!
//! Every branch merge is a tie (the joining vertex reaches both branches at its own centrality), where
//! hdbscan's binary tree depends on its sort order and Outflow's level tree does not. The fixture
//! therefore records, beside hdbscan's result, the result of hdbscan's rules on the level tree (`level`,
//! an independent Python model that reproduces hdbscan exactly with hdbscan's tree code): Outflow must
//! give that partition, its branch counts and branch probabilities (1e-6), and the centralities (1e-6);
//! against hdbscan, at least the level model's adjusted Rand index. The clustering underneath must be
//! hdbscan's (same partition, probabilities within 1e-6). Where the clustering's minimum spanning tree has
//! tied edges and the "core" graph takes them, the test feeds the tree hdbscan used (`mst`).

mod common;

use common::{ari, matrix, same_partition};
use outflow_cluster::{BranchGraph, BranchParams, ClusterModel, ClusterSelection, Fit, HdbscanParams, Metric, MstEdge};
use serde::Deserialize;

#[derive(Deserialize)]
struct Fixture {
    name: String,
    x: Vec<Vec<f64>>,
    outflow_params: Params,
    cluster_labels: Vec<i64>,
    cluster_probabilities: Vec<f64>,
    centralities: Vec<f64>,
    /// hdbscan's MST pairs, when ties make it one of several.
    mst: Option<Vec<(usize, usize)>>,
    runs: Vec<Run>,
}

#[derive(Deserialize)]
struct Params {
    min_cluster_size: usize,
    min_samples: usize,
}

#[derive(Deserialize)]
struct Run {
    method: String,
    selection: String,
    min_branch_size: Option<usize>,
    label_sides_as_branches: bool,
    allow_single_branch: bool,
    labels: Vec<i64>,
    level: Level,
}

#[derive(Deserialize)]
struct Level {
    labels: Vec<i64>,
    branch_probabilities: Vec<f64>,
    n_branches: Vec<usize>,
    ari_vs_hdbscan: f64,
}

#[test]
fn branches_match_hdbscan_on_the_level_tree() {
    let fixtures: Vec<Fixture> = common::fixtures("hdbscan_branches", 3);
    let mut runs = 0;
    for f in fixtures {
        let x = matrix(&f.x);
        let p = HdbscanParams::new(f.outflow_params.min_cluster_size).min_samples(f.outflow_params.min_samples);
        let model = p.fit(x.view()).unwrap();
        same_partition(model.labels(), &f.cluster_labels).unwrap_or_else(|e| panic!("{}: clustering: {e}", f.name));
        for (a, b) in model.probabilities().iter().zip(&f.cluster_probabilities) {
            assert!((a - b).abs() <= 1e-6, "{}: cluster probability {a} against {b}", f.name);
        }
        for (k, r) in f.runs.iter().enumerate() {
            let what = format!("{} run {k} ({} {})", f.name, r.method, r.selection);
            let params = BranchParams {
                graph: if r.method == "core" { BranchGraph::Core } else { BranchGraph::Full },
                label_sides_as_branches: r.label_sides_as_branches,
                min_branch_size: r.min_branch_size,
                allow_single_branch: Some(r.allow_single_branch),
                branch_selection: Some(if r.selection == "leaf" {
                    ClusterSelection::Leaf
                } else {
                    ClusterSelection::Eom
                }),
                ..Default::default()
            };
            let b = match (&f.mst, params.graph) {
                (Some(pairs), BranchGraph::Core) => {
                    let core = model.core_distances();
                    let mst: Vec<MstEdge> = pairs
                        .iter()
                        .map(|&(a, b)| {
                            let d =
                                Metric::Euclidean.distance(x.row(a).as_slice().unwrap(), x.row(b).as_slice().unwrap());
                            MstEdge { a, b, distance: d.max(core[a]).max(core[b]) }
                        })
                        .collect();
                    params.detect(x.view(), model.labels(), Some(model.probabilities()), &mst, &p).unwrap()
                }
                _ => model.branches(x.view(), &params).unwrap(),
            };
            for (i, (a, c)) in b.centralities.iter().zip(&f.centralities).enumerate() {
                assert!((a - c).abs() <= 1e-6 * c.max(1.0), "{what}: centrality of row {i}: {a} against {c}");
            }
            let counts: Vec<usize> = b.clusters.iter().map(|c| c.n_branches).collect();
            assert_eq!(counts, r.level.n_branches, "{what}: branches per cluster");
            same_partition(&b.labels, &r.level.labels).unwrap_or_else(|e| panic!("{what}: {e}"));
            for (i, (a, c)) in b.branch_probabilities.iter().zip(&r.level.branch_probabilities).enumerate() {
                assert!((a - c).abs() <= 1e-6, "{what}: branch probability of row {i}: {a} against {c}");
            }
            let a = ari(&b.labels, &r.labels);
            assert!(a >= r.level.ari_vs_hdbscan - 1e-6, "{what}: ARI {a} against hdbscan");
            runs += 1;
        }
    }
    assert!(runs >= 12, "{runs} runs");
}

#[test]
fn bad_branch_requests_are_named() {
    let f: Fixture = common::fixtures::<Fixture>("hdbscan_branches", 3).remove(0);
    let x = matrix(&f.x);
    let p = HdbscanParams::new(f.outflow_params.min_cluster_size).min_samples(f.outflow_params.min_samples);
    let model = p.fit(x.view()).unwrap();
    let err = |b: BranchParams| model.branches(x.view(), &b).expect_err("must fail").to_string();
    assert!(err(BranchParams { min_branch_size: Some(1), ..Default::default() }).contains("min_branch_size"));
    assert!(err(BranchParams { branch_selection_epsilon: -1.0, ..Default::default() }).contains("epsilon"));
    let short = x.slice(ndarray::s![..10, ..]);
    assert!(model.branches(short, &BranchParams::default()).is_err());
    let slim = model.clone().slim();
    assert!(slim.branches(x.view(), &BranchParams::default()).expect_err("slim").to_string().contains("slim"));
    // Persistence above every branch's: no split (hdbscan crashes where a branch tree has none).
    let b =
        model.branches(x.view(), &BranchParams { branch_selection_persistence: 1e6, ..Default::default() }).unwrap();
    assert!(b.clusters.iter().all(|c| !c.split && c.n_branches <= 1));
    assert_eq!(b.labels, model.labels());
    // Rows that are not the training rows.
    let mut moved = x.clone();
    moved[[3, 0]] += 1.0;
    assert!(
        model.branches(moved.view(), &BranchParams::default()).expect_err("other rows").to_string().contains("row 3")
    );
}

#[test]
fn small_clusters_noise_and_row_order() {
    use ndarray::array;
    let p = HdbscanParams::new(2).min_samples(1);
    let x = array![[0.0, 0.0], [1.0, 0.0], [5.0, 5.0], [9.0, 9.0], [9.0, 9.5]];
    let mst = [
        MstEdge { a: 0, b: 1, distance: 1.0 },
        MstEdge { a: 3, b: 4, distance: 0.5 },
        MstEdge { a: 1, b: 2, distance: 6.4 },
        MstEdge { a: 2, b: 3, distance: 5.7 },
    ];
    // A one-row cluster (its row on the centroid: centrality +inf), a two-row one, noise.
    let labels = [0, 0, 1, 2, -1];
    let b = BranchParams::default().detect(x.view(), &labels, None, &mst, &p).unwrap();
    assert_eq!(b.labels, vec![0, 0, 1, 2, -1]);
    assert!(b.centralities[2].is_infinite() && b.centralities[4] == 0.0);
    assert_eq!((b.branch_labels[4], b.branch_probabilities[4]), (0, 1.0));
    // Every row noise.
    let none = BranchParams::default().detect(x.view(), &[-1; 5], None, &[], &p).unwrap();
    assert!(none.labels.iter().all(|&l| l == -1) && none.clusters.is_empty());
    // Bad clusterings are refused, not indexed past.
    assert!(BranchParams::default().detect(x.view(), &[0, 0, 9, -1, -1], None, &mst, &p).is_err());
    let far = [MstEdge { a: 0, b: 7, distance: 1.0 }];
    assert!(BranchParams::default().detect(x.view(), &labels, None, &far, &p).is_err());

    // The full graph's branches do not depend on the row order.
    let f = common::fixtures::<Fixture>("hdbscan_branches", 3).into_iter().find(|f| f.name == "two_stars").unwrap();
    let x = matrix(&f.x);
    let p = HdbscanParams::new(f.outflow_params.min_cluster_size).min_samples(f.outflow_params.min_samples);
    let params =
        BranchParams { min_branch_size: Some(8), branch_selection: Some(ClusterSelection::Leaf), ..Default::default() };
    let base = p.fit(x.view()).unwrap().branches(x.view(), &params).unwrap();
    assert!(base.clusters.iter().any(|c| c.split));
    let perm: Vec<usize> = (0..x.nrows()).map(|i| (i * 7919) % x.nrows()).collect();
    let xp = x.select(ndarray::Axis(0), &perm);
    let moved = p.fit(xp.view()).unwrap().branches(xp.view(), &params).unwrap();
    let mut back = vec![0; x.nrows()];
    for (k, &i) in perm.iter().enumerate() {
        back[i] = moved.labels[k];
    }
    same_partition(&back, &base.labels).unwrap();
}
