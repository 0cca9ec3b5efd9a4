//! The estimator contract, checked on every clustering algorithm of [`Algorithm::NAMES`] (in the manner of
//! scikit-learn's `check_estimator`): parameter validation, errors on empty and non-finite input, seeded
//! determinism, the same partition under a row permutation, serde round trips, and prediction on the
//! training rows. A new algorithm is covered as soon as it has a name.

use ndarray::Array2;
use outflow_cluster::{Algorithm, ClusterError, ClusterModel, Fit, InputError, Model};

/// Three well-separated blobs of 40 points in 3 dimensions (every algorithm finds the same partition).
fn blobs() -> Array2<f64> {
    let mut state = 0x2545_f491_4f6c_dd1du64;
    let mut uniform = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state >> 11) as f64 / (1u64 << 53) as f64 - 0.5
    };
    let centres = [[0.0, 0.0, 0.0], [20.0, 0.0, 5.0], [0.0, 25.0, -10.0]];
    Array2::from_shape_fn((120, 3), |(i, j)| centres[i % 3][j] + uniform())
}

/// Every algorithm with the parameters it needs (`k = 3` where `k` is required).
fn algorithms() -> Vec<Algorithm> {
    Algorithm::NAMES
        .iter()
        .map(|name| {
            let mut a = Algorithm::by_name(name).unwrap();
            if a.required().contains(&"k") {
                a.set("k", "3").unwrap();
            }
            if let Algorithm::Dbscan(_) = a {
                a.set("eps", "2.0").unwrap();
            }
            a
        })
        .collect()
}

/// Labels renamed by order of first appearance (noise stays −1), to compare partitions.
fn canonical(labels: &[i64]) -> Vec<i64> {
    let mut seen: Vec<i64> = Vec::new();
    labels
        .iter()
        .map(|&l| {
            if l < 0 {
                return -1;
            }
            match seen.iter().position(|&s| s == l) {
                Some(p) => p as i64,
                None => {
                    seen.push(l);
                    seen.len() as i64 - 1
                }
            }
        })
        .collect()
}

#[test]
fn every_name_builds_and_finds_the_blobs() {
    let x = blobs();
    let truth = canonical(&(0..120).map(|i| i % 3).collect::<Vec<i64>>());
    for a in algorithms() {
        let m = a.fit(x.view()).unwrap_or_else(|e| panic!("{}: {e}", a.name()));
        assert_eq!(canonical(m.labels()), truth, "{}", a.name());
        assert_eq!(m.n_features(), 3, "{}", a.name());
    }
}

#[test]
fn unknown_and_out_of_range_parameters_are_rejected() {
    for a in algorithms() {
        let name = a.name();
        // An unknown field, by the setter and in a saved section.
        assert!(a.clone().set("no_such_parameter", "1").is_err(), "{name}");
        let mut json = serde_json::to_value(&a).unwrap();
        json.as_object_mut().unwrap().insert("no_such_parameter".into(), 1.into());
        assert!(serde_json::from_value::<Algorithm>(json).is_err(), "{name}: unknown field accepted");
        // A negative number is out of range for every numeric parameter of every algorithm.
        let json = serde_json::to_value(&a).unwrap();
        for (field, value) in json.as_object().unwrap() {
            if !value.is_number() {
                continue;
            }
            let mut b = a.clone();
            let rejected = b.set(field, "-1").is_err() || b.validate().is_err() || b.fit(blobs().view()).is_err();
            assert!(rejected, "{name}: {field} = -1 accepted");
        }
    }
}

#[test]
fn empty_and_non_finite_input_are_input_errors() {
    for a in algorithms() {
        let name = a.name();
        let empty = Array2::<f64>::zeros((0, 3));
        match a.fit(empty.view()) {
            Err(ClusterError::Input(InputError::Empty { .. })) => {}
            other => panic!("{name}: empty input gave {other:?}"),
        }
        let mut x = blobs();
        x[[7, 2]] = f64::NAN;
        match a.fit(x.view()) {
            Err(ClusterError::Input(InputError::NonFinite { row: 7, col: 2, .. })) => {}
            other => panic!("{name}: NaN gave {:?}", other.map(|m| m.labels().len())),
        }
        x[[7, 2]] = f64::INFINITY;
        assert!(matches!(a.fit(x.view()), Err(ClusterError::Input(InputError::NonFinite { .. }))), "{name}");
        // A model refuses rows of another width.
        let m = a.fit(blobs().view()).unwrap();
        let narrow = Array2::<f64>::zeros((2, 2));
        assert!(m.assign(narrow.view()).is_err(), "{name}: width mismatch accepted");
    }
}

#[test]
fn fits_are_deterministic_for_a_seed() {
    let x = blobs();
    for a in algorithms() {
        for seed in [0, 7] {
            let a = a.clone().with_seed(seed);
            let (m1, m2) = (a.fit(x.view()).unwrap(), a.fit(x.view()).unwrap());
            assert_eq!(m1.labels(), m2.labels(), "{} seed {seed}", a.name());
            assert_eq!(serde_json::to_string(&m1).unwrap(), serde_json::to_string(&m2).unwrap(), "{}", a.name());
        }
    }
}

#[test]
fn a_row_permutation_gives_the_same_partition() {
    let x = blobs();
    let n = x.nrows();
    let perm: Vec<usize> = (0..n).map(|i| (i * 37 + 11) % n).collect(); // 37 is coprime with 120
    let xp = x.select(ndarray::Axis(0), &perm);
    for a in algorithms() {
        let m = a.fit(x.view()).unwrap();
        let mp = a.fit(xp.view()).unwrap();
        // Row perm[i] of x is row i of xp: map the permuted labels back.
        let mut back = vec![0i64; n];
        for (i, &p) in perm.iter().enumerate() {
            back[p] = mp.labels()[i];
        }
        assert_eq!(canonical(&back), canonical(m.labels()), "{}", a.name());
    }
}

#[test]
fn parameters_and_models_round_trip_through_serde() {
    let x = blobs();
    let queries = ndarray::array![[0.1, -0.2, 0.0], [19.8, 0.3, 5.1], [0.0, 24.9, -9.7], [60.0, 60.0, 60.0]];
    for a in algorithms() {
        let json = serde_json::to_string(&a).unwrap();
        assert_eq!(serde_json::from_str::<Algorithm>(&json).unwrap(), a, "{}", a.name());
        let m = a.fit(x.view()).unwrap();
        let back: Model = serde_json::from_str(&serde_json::to_string(&m).unwrap()).unwrap();
        assert_eq!(back.labels(), m.labels(), "{}", a.name());
        assert_eq!(back.assign(queries.view()).unwrap(), m.assign(queries.view()).unwrap(), "{}", a.name());
    }
}

#[test]
fn predicting_the_training_rows_gives_their_labels() {
    let x = blobs();
    for a in algorithms() {
        let m = a.fit(x.view()).unwrap();
        let assigned: Vec<i64> = m.assign(x.view()).unwrap().iter().map(|p| p.label).collect();
        assert_eq!(assigned, m.labels(), "{}", a.name());
        // A point far from every blob is never put in a cluster by the density-based algorithms.
        let far = m.assign(ndarray::array![[500.0, 500.0, 500.0]].view()).unwrap();
        if matches!(a, Algorithm::Hdbscan(_) | Algorithm::Dbscan(_)) {
            assert_eq!(far[0].label, -1, "{}", a.name());
        }
    }
}
