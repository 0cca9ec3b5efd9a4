//! Parity with numpy / pandas / scikit-learn on the fixtures written by
//! `tools/reference/prep_reference.py` (no Python needed here). Each test prints the largest error it saw.

use std::path::PathBuf;

use ndarray::{Array2, ArrayView2};
use outflow_io::{Column, ReadOptions, Table, read_table};
use outflow_prep::{
    CorrelationPruning, Family, Fit, LowVariance, MinMaxScalerParams, Moments, PcaComponents, PcaParams, PrepParams,
    RobustScalerParams, ScalerParams, StandardScalerParams, Transform, UndefinedCorrelation, correlation_matrix, stats,
};
use serde_json::Value;

fn fixture(name: &str) -> Value {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(name);
    serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap()
}

fn num(v: &Value) -> f64 {
    match v {
        Value::Number(n) => n.as_f64().unwrap(),
        Value::String(s) if s == "NaN" => f64::NAN,
        Value::String(s) if s == "inf" => f64::INFINITY,
        Value::String(s) if s == "-inf" => f64::NEG_INFINITY,
        other => panic!("not a number: {other}"),
    }
}

fn opt(v: &Value) -> Option<f64> {
    (!v.is_null()).then(|| num(v))
}

fn vec1(v: &Value) -> Vec<f64> {
    v.as_array().unwrap().iter().map(num).collect()
}

fn mat(v: &Value) -> Array2<f64> {
    let rows: Vec<Vec<f64>> = v.as_array().unwrap().iter().map(vec1).collect();
    let (n, p) = (rows.len(), rows.first().map_or(0, Vec::len));
    Array2::from_shape_vec((n, p), rows.into_iter().flatten().collect()).unwrap()
}

/// Largest relative error (absolute below `floor`); NaN must match NaN, infinities must be equal.
fn rel_err(got: &[f64], want: &[f64], floor: f64) -> f64 {
    assert_eq!(got.len(), want.len());
    got.iter()
        .zip(want)
        .map(|(&g, &w)| {
            if w.is_nan() || g.is_nan() {
                assert!(w.is_nan() && g.is_nan(), "{g} vs {w}");
                0.0
            } else if w.is_infinite() || g.is_infinite() {
                assert_eq!(g, w);
                0.0
            } else {
                (g - w).abs() / w.abs().max(floor)
            }
        })
        .fold(0.0, f64::max)
}

fn check(what: &str, got: &[f64], want: &[f64], tol: f64) {
    let e = rel_err(got, want, 1.0);
    println!("{what}: max relative error {e:.2e} (tolerance {tol:.0e})");
    assert!(e <= tol, "{what}: {e} > {tol}");
}

/// Largest error relative to the largest reference magnitude (for results with a wide dynamic range,
/// e.g. the smallest eigenvalues of scikit-learn's `covariance_eigh`).
fn check_scaled(what: &str, got: &[f64], want: &[f64], tol: f64) {
    let scale = want.iter().fold(0.0f64, |m, w| m.max(w.abs()));
    let e = rel_err(got, want, scale);
    println!("{what}: max error relative to the largest value {e:.2e} (tolerance {tol:.0e})");
    assert!(e <= tol, "{what}: {e} > {tol}");
}

fn flat(a: ArrayView2<'_, f64>) -> Vec<f64> {
    a.iter().copied().collect()
}

#[test]
fn scalers_match_scikit_learn() {
    let f = fixture("scalers.json");
    let (x, x_new) = (mat(&f["x"]), mat(&f["x_new"]));
    for case in f["cases"].as_array().unwrap() {
        let name = case["name"].as_str().unwrap();
        let params = &case["params"];
        let scaler = match name {
            "robust" | "robust_10_90" | "robust_no_centering" => ScalerParams::Robust(RobustScalerParams {
                quantile_range: [num(&params["quantile_range"][0]), num(&params["quantile_range"][1])],
                with_centering: params["with_centering"].as_bool().unwrap(),
                with_scaling: params["with_scaling"].as_bool().unwrap(),
            }),
            "standard" => ScalerParams::Standard(StandardScalerParams::default()),
            _ => ScalerParams::MinMax(MinMaxScalerParams {
                feature_range: [num(&params["feature_range"][0]), num(&params["feature_range"][1])],
                clip: params["clip"].as_bool().unwrap(),
            }),
        };
        let fitted = scaler.fit(x.view()).unwrap();
        let attrs = &case["attrs"];
        match &fitted {
            outflow_prep::Scaler::Robust { center, scale } => {
                if let Some(c) = attrs.get("center_") {
                    check(&format!("{name} center"), center, &vec1(c), 0.0);
                }
                check(&format!("{name} scale"), scale, &vec1(&attrs["scale_"]), 1e-15);
            }
            outflow_prep::Scaler::Standard { mean, scale } => {
                check(&format!("{name} mean"), mean, &vec1(&attrs["mean_"]), 1e-15);
                check(&format!("{name} scale"), scale, &vec1(&attrs["scale_"]), 1e-13);
            }
            outflow_prep::Scaler::MinMax { scale, min, .. } => {
                check(&format!("{name} scale"), scale, &vec1(&attrs["scale_"]), 0.0);
                check(&format!("{name} min"), min, &vec1(&attrs["min_"]), 0.0);
            }
            outflow_prep::Scaler::Identity { .. } => unreachable!(),
        }
        if let outflow_prep::Scaler::Standard { mean, .. } = &fitted {
            // Pairwise summation is within 2 ulp of the exactly rounded mean (math.fsum).
            let exact = vec1(&case["exact_mean"]);
            for j in 0..mean.len() {
                assert!((mean[j] - exact[j]).abs() <= 2.0 * f64::EPSILON * exact[j].abs(), "mean of column {j}");
            }
        }
        // Error relative to the operands (|x| / scale): a column at 1e6 +- 1e-3 amplifies the last-bit
        // difference of the means (pairwise vs sequential sums) by 1e9 in the standard scaler's output.
        let conditioned = |x: &Array2<f64>, want: &Value| {
            let want = mat(want);
            let got = fitted.transform(x.view()).unwrap();
            let m = fitted.multipliers();
            let mut e: f64 = 0.0;
            for ((i, j), &w) in want.indexed_iter() {
                let g = got[[i, j]];
                assert!(g.is_finite() == w.is_finite(), "{g} vs {w}");
                e = e.max((g - w).abs() / w.abs().max((x[[i, j]] * m[j]).abs()).max(1.0));
            }
            e
        };
        for (what, x, want) in [("train", &x, &case["train"]), ("new", &x_new, &case["new"])] {
            let e = conditioned(x, want);
            println!("{name} transform({what}): max error relative to operands {e:.2e} (tolerance 1e-15)");
            assert!(e <= 1e-15, "{name} {what}: {e}");
        }
    }
}

fn vec1_flat(v: &Value) -> Vec<f64> {
    flat(mat(v).view())
}

#[test]
fn pca_matches_scikit_learn_including_signs() {
    let f = fixture("pca.json");
    for case in f["cases"].as_array().unwrap() {
        let name = case["name"].as_str().unwrap();
        let x = mat(&case["x"]);
        let x_new = mat(&case["x_new"]);
        let p = PcaParams::default().fit(x.view()).unwrap();
        check(&format!("{name} mean"), &p.mean, &vec1(&case["mean"]), 1e-13);
        // Against the accurate reference (full SVD of the centred data): tight.
        check(
            &format!("{name} explained_variance vs full SVD"),
            &p.explained_variance,
            &vec1(&case["svd_explained_variance"]),
            1e-12,
        );
        check(
            &format!("{name} components vs full SVD"),
            &flat(p.components.view()),
            &vec1_flat(&case["svd_components"]),
            1e-12,
        );
        let t = p.transform(x_new.view()).unwrap();
        check(
            &format!("{name} transform(new) vs full SVD"),
            &flat(t.view()),
            &vec1_flat(&case["svd_transform_new"]),
            1e-12,
        );
        // Against scikit-learn's default solver: `covariance_eigh` loses ~1e-10 to cancellation with large means.
        check_scaled(
            &format!("{name} explained_variance"),
            &p.explained_variance,
            &vec1(&case["explained_variance"]),
            1e-9,
        );
        check_scaled(
            &format!("{name} ratio"),
            &p.explained_variance_ratio,
            &vec1(&case["explained_variance_ratio"]),
            1e-9,
        );
        check_scaled(&format!("{name} singular_values"), &p.singular_values, &vec1(&case["singular_values"]), 1e-8);
        // (sqrt of the small eigenvalues magnifies their cancellation error: 1e-8 for singular values.)
        // Same signs as scikit-learn (svd_flip on the rows of Vt): compared without "up to sign".
        check_scaled(&format!("{name} components"), &flat(p.components.view()), &vec1_flat(&case["components"]), 1e-9);
        let t = p.transform(x_new.view()).unwrap();
        check_scaled(&format!("{name} transform(new)"), &flat(t.view()), &vec1_flat(&case["transform_new"]), 1e-9);
        let head = p.transform(x.slice(ndarray::s![..10, ..])).unwrap();
        check_scaled(&format!("{name} transform(head)"), &flat(head.view()), &vec1_flat(&case["transform_head"]), 1e-9);
        let s = p.summary();
        assert_eq!(s.components_80 as u64, case["components_80"].as_u64().unwrap());
        assert_eq!(s.components_90 as u64, case["components_90"].as_u64().unwrap());
        assert_eq!(s.components_95 as u64, case["components_95"].as_u64().unwrap());
        let k3 = PcaParams { n_components: PcaComponents::Count(3) }.fit(x.view()).unwrap();
        check_scaled(
            &format!("{name} k=3 components"),
            &flat(k3.components.view()),
            &vec1_flat(&case["k3_components"]),
            1e-9,
        );
        let t3 = k3.transform(x_new.view()).unwrap();
        check_scaled(&format!("{name} k=3 transform"), &flat(t3.view()), &vec1_flat(&case["k3_transform_new"]), 1e-9);
    }
}

#[test]
fn correlation_matches_numpy_corrcoef() {
    let f = fixture("correlation.json");
    let x = mat(&f["small"]["x"]);
    let r = correlation_matrix(x.view()).unwrap();
    check("corrcoef 200 x 8 (a constant column)", &flat(r.view()), &vec1_flat(&f["small"]["corr"]), 1e-13);

    // The formula matrix spans several 4096-row blocks; integer arithmetic makes it identical in Python.
    let n = f["formula"]["n"].as_u64().unwrap() as usize;
    let x = Array2::from_shape_fn((n, 6), |(i, j)| {
        let i = i as i64;
        (match j {
            0 => (i * 7919 + 13) % 1009,
            1 => (i * 104729 + 7) % 65537,
            2 => ((i * 7919 + 13) % 1009) * 3 + i % 11,
            3 => 42,
            4 => (i * i) % 997 - 498,
            _ => 1_000_000_000 + i % 17,
        }) as f64
    });
    let r = correlation_matrix(x.view()).unwrap();
    check(
        "corrcoef 10000 x 6 (blocks, constant, offset 1e9)",
        &flat(r.view()),
        &vec1_flat(&f["formula"]["corr"]),
        1e-12,
    );
}

#[test]
fn describe_matches_numpy() {
    let f = fixture("describe.json");
    for c in f["columns"].as_array().unwrap() {
        let name = c["name"].as_str().unwrap();
        let values: Vec<f64> = c["values"].as_array().unwrap().iter().filter_map(opt).collect();
        let d = stats::describe(&values);
        assert_eq!(d.count as u64, c["count"].as_u64().unwrap(), "{name}");
        if d.count == 0 {
            continue;
        }
        let pairs = [
            ("p25", d.p25),
            ("p50", d.p50),
            ("p75", d.p75),
            ("min", d.min),
            ("max", d.max),
            ("mean", d.mean),
            ("std", d.std),
            ("variance", d.variance),
            ("skewness", d.skewness),
        ];
        for (k, got) in pairs {
            let want = opt(&c[k]);
            match (got, want) {
                (None, None) => {}
                (Some(g), Some(w)) => {
                    // Quantiles, min, max: exactly numpy (same sort, same lerp); moments: pairwise sums.
                    let tol = if ["p25", "p50", "p75", "min", "max"].contains(&k) { 0.0 } else { 1e-9 };
                    check(&format!("describe {name} {k}"), &[g], &[w], tol);
                }
                other => panic!("{name} {k}: {other:?}"),
            }
        }
        assert_eq!(d.iqr_outliers.map(|v| v as u64), c["iqr_outliers"].as_u64(), "{name}");
    }
}

#[test]
fn pruning_decisions_match_the_seed_rule() {
    let f = fixture("pruning.json");
    for case in f["cases"].as_array().unwrap() {
        let name = case["name"].as_str().unwrap();
        let x = mat(&case["x"]);
        let m = Moments::of(x.view()).unwrap();
        let r = m.correlation().unwrap();
        let var = m.variances(1).unwrap();
        for (policy, undefined) in
            [("zero", UndefinedCorrelation::Zero), ("propagate", UndefinedCorrelation::Propagate)]
        {
            let want = &case["policies"][policy];
            let rule = CorrelationPruning { threshold: num(&case["threshold"]), undefined };
            let out = rule.apply(r.view()).unwrap();
            let pairs: Vec<[u64; 2]> = out.pairs.iter().map(|p| [p.i as u64, p.j as u64]).collect();
            let want_pairs: Vec<[u64; 2]> = want["pairs"]
                .as_array()
                .unwrap()
                .iter()
                .map(|p| [p[0].as_u64().unwrap(), p[1].as_u64().unwrap()])
                .collect();
            assert_eq!(pairs, want_pairs, "{name} {policy} pairs");
            let dropped: Vec<u64> = out.decisions.iter().map(|d| d.dropped as u64).collect();
            let want_dropped: Vec<u64> =
                want["dropped"].as_array().unwrap().iter().map(|v| v.as_u64().unwrap()).collect();
            assert_eq!(dropped, want_dropped, "{name} {policy} decisions");
            let e = rel_err(&out.mean_abs, &vec1(&want["mean_abs"]), 1.0);
            assert!(e < 1e-13, "{name} {policy} mean |r| {e}");
            let remaining: Vec<usize> = (0..var.len()).filter(|j| !dropped.contains(&(*j as u64))).collect();
            let low: Vec<u64> = LowVariance::default()
                .apply(&remaining.iter().map(|&j| var[j]).collect::<Vec<_>>())
                .into_iter()
                .map(|k| remaining[k] as u64)
                .collect();
            let want_low: Vec<u64> =
                want["low_variance"].as_array().unwrap().iter().map(|v| v.as_u64().unwrap()).collect();
            assert_eq!(low, want_low, "{name} {policy} low variance");
            println!("pruning {name} {policy}: dropped {dropped:?}, low variance {low:?} (identical)");
        }
    }
}

#[test]
fn seed_pipeline_on_a_cic_excerpt_matches_pandas_and_scikit_learn() {
    let f = fixture("pipeline_cic.json");
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/cic-excerpt.csv");
    let table = read_table(&path, &ReadOptions::default()).unwrap();
    assert_eq!(table.n_rows() as u64, f["input_rows"].as_u64().unwrap());
    for (policy, undefined) in [("zero", UndefinedCorrelation::Zero), ("propagate", UndefinedCorrelation::Propagate)] {
        let want = &f["policies"][policy];
        let mut config = PrepParams::auto(&table);
        assert_eq!(config.preset, Family::Cic);
        config.selection.correlation.as_mut().unwrap().undefined = undefined;
        config.pca_summary = false;
        let fit = config.fit(&table).unwrap();
        let kept: Vec<u64> = fit.output.kept.iter().map(|&i| i as u64).collect();
        let want_kept: Vec<u64> = f["kept_rows"].as_array().unwrap().iter().map(|v| v.as_u64().unwrap()).collect();
        assert_eq!(kept, want_kept);
        let names =
            |v: &Value| v.as_array().unwrap().iter().map(|s| s.as_str().unwrap().to_owned()).collect::<Vec<_>>();
        assert_eq!(fit.report.candidates, names(&f["candidates"]));
        let pruned = |rule: outflow_prep::Step| {
            fit.report.pruned.iter().filter(|p| p.rule == rule).map(|p| p.name.clone()).collect::<Vec<_>>()
        };
        assert_eq!(pruned(outflow_prep::Step::Correlation), names(&want["correlation_dropped"]), "{policy}");
        assert_eq!(pruned(outflow_prep::Step::LowVariance), names(&want["low_variance_dropped"]), "{policy}");
        assert_eq!(fit.report.features, names(&want["features"]), "{policy}");
        let outflow_prep::Scaler::Robust { center, scale } = fit.prep.scaler() else { panic!() };
        check(&format!("cic {policy} center"), center, &vec1(&want["center"]), 0.0);
        check(&format!("cic {policy} scale"), scale, &vec1(&want["scale"]), 1e-15);
        let head = fit.output.scaled.slice(ndarray::s![..5, ..]);
        check(&format!("cic {policy} scaled head"), &flat(head), &vec1_flat(&want["scaled_head"]), 1e-15);
        let sums: Vec<f64> = fit.output.scaled.columns().into_iter().map(|c| c.sum()).collect();
        check(&format!("cic {policy} scaled column sums"), &sums, &vec1(&want["scaled_column_sums"]), 1e-12);
        let leak: Vec<(String, f64)> = fit.report.leakage.iter().map(|l| (l.feature.clone(), l.r)).collect();
        let want_leak: Vec<(String, f64)> = want["leakage"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| (l[0].as_str().unwrap().to_owned(), num(&l[1])))
            .collect();
        assert_eq!(leak.len(), want_leak.len(), "{policy} leakage {leak:?} vs {want_leak:?}");
        for ((a, r), (b, w)) in leak.iter().zip(&want_leak) {
            assert_eq!(a, b);
            assert!((r - w).abs() < 1e-12, "{a}: {r} vs {w}");
        }
        // Rows removed by the cleaning steps are reported with their reasons.
        let non_finite = fit.report.step(outflow_prep::Step::NonFinite).unwrap().rows_removed as u64;
        assert_eq!(non_finite, f["input_rows"].as_u64().unwrap() - f["rows_after_non_finite"].as_u64().unwrap());
    }
}

#[test]
fn table_columns_with_nulls_describe_like_pandas() {
    // The EDA path (Table columns with nulls) gives the same numbers as the slice path above.
    let f = fixture("describe.json");
    let cols: Vec<Column> = f["columns"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| Column::from_f64_opt(c["name"].as_str().unwrap(), c["values"].as_array().unwrap().iter().map(opt)))
        .collect();
    let table = Table::new(cols).unwrap();
    let report = outflow_prep::eda(&table, &PrepParams::default()).unwrap();
    for (c, want) in report.columns.iter().zip(f["columns"].as_array().unwrap()) {
        assert_eq!(c.stats.count as u64, want["count"].as_u64().unwrap());
        assert_eq!(c.stats.p50, opt(&want["p50"]).filter(|_| c.stats.count > 0));
    }
}
