//! UMAP's contract: determinism, `transform`, refusals.

use ndarray::{Array2, s};
use outflow_embed::{EmbedError, Fit, Metric, Transform, UmapInit, UmapParams, trustworthiness};

/// Three groups of rows in 6 dimensions, deterministic.
fn groups(n: usize) -> Array2<f64> {
    Array2::from_shape_fn((n, 6), |(i, j)| {
        let g = (i % 3) as f64 * 6.0;
        let h = ((i * 2654435761 + j * 40503) % 10007) as f64 / 10007.0;
        g + h * 2.0 - 1.0 + if j == i % 6 { 1.5 } else { 0.0 }
    })
}

fn in_pool<T: Send>(threads: usize, f: impl FnOnce() -> T + Send) -> T {
    rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap().install(f)
}

#[test]
fn same_seed_same_map_whatever_the_threads() {
    let x = groups(600);
    let p = UmapParams { seed: 7, n_epochs: Some(60), ..Default::default() };
    let one = in_pool(1, || p.fit(x.view()).unwrap());
    let two = in_pool(2, || p.fit(x.view()).unwrap());
    assert_eq!(one.embedding, two.embedding);
    let q = x.slice(s![..50, ..]).mapv(|v| v + 0.01);
    assert_eq!(in_pool(1, || one.transform(q.view()).unwrap()), in_pool(2, || one.transform(q.view()).unwrap()));
    let other = UmapParams { seed: 8, ..p }.fit(x.view()).unwrap();
    assert_ne!(one.embedding, other.embedding);
}

#[test]
fn transform_keeps_training_rows_near_their_place_and_ignores_the_batch() {
    let x = groups(450);
    let u = UmapParams::default().fit(x.view()).unwrap();
    let back = u.transform(x.view()).unwrap();
    // Distance moved, relative to the map's extent.
    let extent = u.embedding.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    let mut moved: Vec<f64> = (0..x.nrows())
        .map(|i| (0..2).map(|d| (back[[i, d]] - u.embedding[[i, d]]).powi(2)).sum::<f64>().sqrt() / extent)
        .collect();
    moved.sort_by(f64::total_cmp);
    assert!(moved[moved.len() / 2] < 0.02, "median move {}", moved[moved.len() / 2]);
    assert!(moved[moved.len() * 9 / 10] < 0.05, "90th percentile move {}", moved[moved.len() * 9 / 10]);
    // One row alone lands where it lands in a batch.
    let alone = u.transform(x.slice(s![17..18, ..])).unwrap();
    assert_eq!(alone.row(0), back.row(17));
    // New rows of a group land among that group's rows.
    let new = groups(30).mapv(|v| v + 0.05);
    let placed = u.transform(new.view()).unwrap();
    assert!(trustworthiness(new.view(), placed.view(), 5).unwrap() > 0.8);
}

#[test]
fn separate_components_and_every_start_give_finite_maps() {
    // Groups far apart with few neighbours: the graph falls into components.
    let x = groups(300).mapv(|v| v * 100.0);
    for init in [UmapInit::Spectral, UmapInit::Pca, UmapInit::Random] {
        for dim in [1, 2, 3] {
            let u = UmapParams { n_neighbors: 5, n_components: dim, init, n_epochs: Some(50), ..Default::default() }
                .fit(x.view())
                .unwrap();
            assert_eq!(u.embedding.dim(), (300, dim));
            assert!(u.embedding.iter().all(|v| v.is_finite()), "{init:?} {dim}");
        }
    }
    // Other metrics.
    for metric in [Metric::Manhattan, Metric::Cosine, Metric::Chebyshev, Metric::minkowski(3.0).unwrap()] {
        let u = UmapParams { metric, n_epochs: Some(30), ..Default::default() }.fit(x.view()).unwrap();
        assert!(u.embedding.iter().all(|v| v.is_finite()), "{metric}");
    }
}

#[test]
fn duplicated_rows_are_embedded() {
    // Flow tables repeat rows: a third of these are one row.
    let mut x = groups(300);
    for i in (0..300).step_by(3) {
        let r = x.row(0).to_owned();
        x.row_mut(i).assign(&r);
    }
    let u = UmapParams { n_epochs: Some(50), ..Default::default() }.fit(x.view()).unwrap();
    assert!(u.embedding.iter().all(|v| v.is_finite()));
    let t = u.transform(x.slice(s![..30, ..])).unwrap();
    assert!(t.iter().all(|v| v.is_finite()));
    // A repeated row and a distinct one land where they land in the batch.
    for r in [0, 1, 3] {
        assert_eq!(u.transform(x.slice(s![r..r + 1, ..])).unwrap().row(0), t.row(r), "row {r}");
    }
}

#[test]
fn model_round_trips_through_serde() {
    let x = groups(200);
    let u = UmapParams { n_epochs: Some(40), ..Default::default() }.fit(x.view()).unwrap();
    let text = serde_json::to_string(&u).unwrap();
    let back: outflow_embed::Umap = serde_json::from_str(&text).unwrap();
    assert_eq!(back.embedding, u.embedding);
    assert_eq!(back.transform(x.view()).unwrap(), u.transform(x.view()).unwrap());
}

#[test]
fn bad_input_is_refused_with_the_reason() {
    let x = groups(20);
    let err = |p: UmapParams, x: &Array2<f64>| p.fit(x.view()).unwrap_err().to_string();
    assert!(err(UmapParams { n_neighbors: 20, ..Default::default() }, &x).contains("n_neighbors"));
    assert!(err(UmapParams { n_neighbors: 1, ..Default::default() }, &x).contains("n_neighbors"));
    assert!(err(UmapParams { min_dist: 2.0, ..Default::default() }, &x).contains("min_dist"));
    assert!(err(UmapParams { n_components: 0, ..Default::default() }, &x).contains("n_components"));
    assert!(err(UmapParams { metric: Metric::Precomputed, ..Default::default() }, &x).contains("metric"));
    let mut nan = x.clone();
    nan[[3, 2]] = f64::NAN;
    let e = UmapParams { n_neighbors: 5, ..Default::default() }.fit(nan.view()).unwrap_err();
    assert!(matches!(e, EmbedError::Input(_)), "{e}");
    assert!(e.to_string().contains("row") || e.to_string().contains("finite"), "{e}");
    let u = UmapParams { n_neighbors: 5, n_epochs: Some(10), ..Default::default() }.fit(x.view()).unwrap();
    assert!(u.transform(Array2::<f64>::zeros((2, 5)).view()).is_err());
    assert!(u.transform(nan.view()).is_err());
}
