//! Detection quality of the detector's score on labeled logs, against single signals.
//!
//! `cargo run --release -p outflow-benches --bin detection_quality -- [DATA_DIR]` (default `../shared/data`).
//! Arguments: `[DATA_DIR] [VARIANTS] [FILE_FILTER]`, VARIANTS e.g. `iforest+pca,lof:onehot`.
//! The positive class is subsampled to 3 % (seeds 1–3, averaged); labels are never used for fitting.

use std::path::Path;

use outflow::outlier::benchmark::{LabelRule, subsample_positives};
use outflow::outlier::metrics::{average_precision, roc_auc};
use outflow::prep::{Encoding, PrepParams};
use outflow::{DetectorParams, ReadOptions, ScoringParams, Signal, read_table};

fn main() {
    let dir = std::env::args().nth(1).unwrap_or_else(|| "../shared/data".into());
    let only = std::env::args().nth(3);
    let sets: &[(&str, LabelRule)] = &[
        ("stratosphere/001-labeled-conn.log", LabelRule::positive("label", "Malicious")),
        ("stratosphere/008-mixed-conn.log.labeled", LabelRule::positive("label", "Malicious")),
        ("stratosphere/010-mixed-conn.log.labeled", LabelRule::positive("label", "Malicious")),
        ("cic/CICIDS2017_sample.csv", LabelRule::negative("Label", "BENIGN")),
        ("kdd/KDDTrain+_20Percent.txt", LabelRule::negative("label", "normal")),
        ("kdd/KDDTest-21.txt", LabelRule::negative("label", "normal")),
        ("kdd/kddcup.data_10_percent.gz", LabelRule::negative("label", "normal.")),
    ];
    // Each variant: signals joined by '+', optionally ":onehot" (categorical columns one-hot encoded).
    let variants: Vec<String> = std::env::args()
        .nth(2)
        .unwrap_or_else(|| {
            // The default score first, then the baselines of the README's table.
            "iforest+pca+pca_mahalanobis,iforest,glosh".into()
        })
        .split(',')
        .map(str::to_owned)
        .collect();
    println!("{:42} {:24} {:>8} {:>8} {:>6}", "data", "score", "ROC-AUC", "PR-AUC", "pos");
    for (file, rule) in sets {
        if only.as_deref().is_some_and(|o| !file.contains(o)) {
            continue;
        }
        let path = Path::new(&dir).join(file);
        let Ok(table) = read_table(&path, &ReadOptions::default()) else {
            eprintln!("skip {}", path.display());
            continue;
        };
        let classes = rule.classes(&table).expect("labels");
        for name in &variants {
            let (spec, onehot) = match name.strip_suffix(":onehot") {
                Some(spec) => (spec, true),
                None => (name.as_str(), false),
            };
            let signals: Vec<Signal> = spec.split('+').map(|s| s.parse().expect("signal")).collect();
            let (mut roc, mut pr, mut npos) = (0.0, 0.0, 0);
            for seed in 1..=3u64 {
                let known: Vec<usize> = (0..table.n_rows()).filter(|&i| classes[i].is_some()).collect();
                let y: Vec<bool> = known.iter().map(|&i| classes[i].unwrap()).collect();
                let keep = subsample_positives(&y, 0.03, seed).expect("subsample");
                let rows: Vec<usize> = keep.iter().map(|&k| known[k]).collect();
                let t = table.take_rows(&rows);
                let y: Vec<bool> = keep.iter().map(|&k| y[k]).collect();
                let mut prep = PrepParams::auto(&t);
                if onehot {
                    prep.categorical.encoding = Encoding::OneHot;
                }
                let config = DetectorParams {
                    prep: Some(prep),
                    scoring: ScoringParams { signals: signals.clone(), ..Default::default() },
                    seed,
                    ..Default::default()
                };
                let fit = config.fit(&t).expect("fit");
                let s: Vec<f64> = fit.flows.iter().map(|f| f.outlier_score.unwrap_or(0.0)).collect();
                roc += roc_auc(&y, &s).unwrap();
                pr += average_precision(&y, &s).unwrap();
                npos = y.iter().filter(|&&b| b).count();
            }
            println!("{:42} {:24} {:8.3} {:8.3} {:6}", file, name, roc / 3.0, pr / 3.0, npos);
        }
    }
}
