//! t-SNE's contract: deterministic for a seed whatever the thread count, duplicates and constant
//! columns handled, groups kept apart, bad input refused with the parameter named.

use ndarray::Array2;
use outflow_embed::{EmbedError, Fit, InputError, TsneInit, TsneParams, trustworthiness};

fn groups(n: usize) -> Array2<f64> {
    Array2::from_shape_fn((n, 6), |(i, j)| {
        let g = (i % 3) as f64 * 8.0;
        g + ((i * 31 + j * 17) % 23) as f64 / 23.0 + if j == 5 { 1.0 } else { 0.0 }
    })
}

#[test]
fn results_do_not_depend_on_the_thread_count() {
    let x = groups(700);
    for init in [TsneInit::Pca, TsneInit::Random] {
        let p = TsneParams { init, seed: 5, max_iter: 300, ..Default::default() };
        let run = |threads| {
            rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap().install(|| p.fit(x.view()).unwrap())
        };
        assert_eq!(run(1), run(3), "{init:?}");
    }
}

#[test]
fn seeds_change_a_random_start_only() {
    let x = groups(200);
    let fit = |init, seed| TsneParams { init, seed, max_iter: 250, ..Default::default() }.fit(x.view()).unwrap();
    assert_eq!(fit(TsneInit::Pca, 1), fit(TsneInit::Pca, 2));
    assert_ne!(fit(TsneInit::Random, 1).embedding, fit(TsneInit::Random, 2).embedding);
}

#[test]
fn duplicated_rows_and_constant_columns_embed() {
    // Flow tables repeat rows: 400 rows of 8 distinct values, one column constant.
    let x = Array2::from_shape_fn((400, 4), |(i, j)| if j == 3 { 7.0 } else { ((i % 8) * (j + 1)) as f64 });
    let t = TsneParams { perplexity: 20.0, ..Default::default() }.fit(x.view()).unwrap();
    assert!(t.embedding.iter().all(|v| v.is_finite()));
    // Equal rows land together: each distinct row's copies are closer to each other than to any other group.
    let centre = |g: usize| {
        let rows: Vec<usize> = (0..400).filter(|i| i % 8 == g).collect();
        let c: Vec<f64> =
            (0..2).map(|a| rows.iter().map(|&i| t.embedding[[i, a]]).sum::<f64>() / rows.len() as f64).collect();
        (rows, c)
    };
    for g in 0..8 {
        let (rows, c) = centre(g);
        let spread =
            rows.iter().map(|&i| (t.embedding[[i, 0]] - c[0]).hypot(t.embedding[[i, 1]] - c[1])).fold(0.0, f64::max);
        for h in (0..8).filter(|&h| h != g) {
            let (_, d) = centre(h);
            assert!((c[0] - d[0]).hypot(c[1] - d[1]) > spread, "group {g} overlaps {h}");
        }
    }
}

#[test]
fn three_components_and_one() {
    let x = groups(150);
    for dim in [1, 3] {
        let t = TsneParams { n_components: dim, perplexity: 15.0, ..Default::default() }.fit(x.view()).unwrap();
        assert_eq!(t.embedding.ncols(), dim);
        assert!(trustworthiness(x.view(), t.embedding.view(), 5).unwrap() > 0.85, "{dim}");
    }
}

#[test]
fn bad_input_names_the_problem() {
    let x = groups(30);
    let e = TsneParams::default().fit(x.view()).unwrap_err();
    assert!(e.to_string().contains("perplexity") && e.to_string().contains("30"), "{e}");
    let e = TsneParams { n_components: 3, perplexity: 5.0, ..Default::default() }
        .fit(x.slice(ndarray::s![.., ..2]))
        .unwrap_err();
    assert!(e.to_string().contains("n_components"), "{e}");
    assert!(matches!(
        TsneParams::default().fit(Array2::<f64>::zeros((0, 3)).view()),
        Err(EmbedError::Input(InputError::Empty { .. })) | Err(EmbedError::Input(InputError::InvalidParameter { .. }))
    ));
    let mut bad = x.clone();
    bad[[2, 2]] = f64::INFINITY;
    assert!(matches!(
        TsneParams { perplexity: 5.0, ..Default::default() }.fit(bad.view()),
        Err(EmbedError::Input(InputError::NonFinite { row: 2, col: 2, .. }))
    ));
    assert!(trustworthiness(x.view(), x.view(), 15).is_err());
}
