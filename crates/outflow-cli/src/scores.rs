//! CSV outputs of `detect` and `score`: one line per input record, identifying columns carried through.

use anyhow::Result;
use outflow::io::Table;
use outflow::{FlowScore, ID_COLUMNS, Tuning};

fn opt(v: Option<f64>) -> String {
    v.map_or(String::new(), |x| x.to_string())
}

fn score_fields(f: &FlowScore) -> [String; 6] {
    [
        f.row.to_string(),
        f.cluster.map_or(String::new(), |c| c.to_string()),
        opt(f.probability),
        opt(f.outlier_score),
        f.severity.name().to_string(),
        f.reason.clone().unwrap_or_default(),
    ]
}

/// `row,cluster,probability,outlier_score,severity,reason,<identifying columns>` for every record.
pub fn scores_csv(table: &Table, flows: &[FlowScore]) -> Result<String> {
    let ids: Vec<&str> = ID_COLUMNS.iter().copied().filter(|c| table.column(c).is_some()).collect();
    let mut w = csv::Writer::from_writer(Vec::new());
    let mut header: Vec<&str> = vec!["row", "cluster", "probability", "outlier_score", "severity", "reason"];
    header.extend(&ids);
    w.write_record(&header)?;
    for f in flows {
        let mut rec: Vec<String> = score_fields(f).to_vec();
        rec.extend(ids.iter().map(|c| table.column(c).expect("present").value(f.row).to_string()));
        w.write_record(&rec)?;
    }
    Ok(String::from_utf8(w.into_inner()?)?)
}

/// Moderate and severe flows with every original column, highest score first.
pub fn anomalies_csv(table: &Table, flows: &[FlowScore]) -> Result<String> {
    let mut hits: Vec<&FlowScore> = flows.iter().filter(|f| f.severity.is_anomaly()).collect();
    hits.sort_by(|a, b| b.outlier_score.partial_cmp(&a.outlier_score).expect("finite").then(a.row.cmp(&b.row)));
    let mut w = csv::Writer::from_writer(Vec::new());
    let mut header: Vec<String> =
        ["row", "outlier_score", "severity", "cluster", "probability"].iter().map(|s| s.to_string()).collect();
    header.extend(table.names().iter().map(|s| s.to_string()));
    w.write_record(&header)?;
    for f in hits {
        let mut rec = vec![
            f.row.to_string(),
            opt(f.outlier_score),
            f.severity.name().to_string(),
            f.cluster.map_or(String::new(), |c| c.to_string()),
            opt(f.probability),
        ];
        rec.extend(table.columns().iter().map(|c| c.value(f.row).to_string()));
        w.write_record(&rec)?;
    }
    Ok(String::from_utf8(w.into_inner()?)?)
}

/// Rows of the prepared feature matrix kept in a run directory for the report (seeded sample).
pub const SAMPLE_ROWS: usize = 5_000;

/// A seeded sample (≤ [`SAMPLE_ROWS`]) of the scored flows with the features the model saw:
/// `row,cluster,probability,outlier_score,severity,<model input columns...>`, ascending row.
pub fn sample_csv(fit: &outflow::DetectorFit, seed: u64) -> Result<String> {
    use rand::SeedableRng;
    let prepared = &fit.prepared;
    let x = prepared.model_input();
    let n = x.nrows();
    let mut take: Vec<usize> = if n > SAMPLE_ROWS {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
        rand::seq::index::sample(&mut rng, n, SAMPLE_ROWS).into_vec()
    } else {
        (0..n).collect()
    };
    take.sort_unstable();
    let mut w = csv::Writer::from_writer(Vec::new());
    let mut header: Vec<String> =
        ["row", "cluster", "probability", "outlier_score", "severity"].iter().map(|s| s.to_string()).collect();
    header.extend(prepared.model_input_names());
    w.write_record(&header)?;
    for k in take {
        let row = prepared.kept[k];
        let f = &fit.flows[row];
        let mut rec = vec![
            row.to_string(),
            f.cluster.map_or(String::new(), |c| c.to_string()),
            opt(f.probability),
            opt(f.outlier_score),
            f.severity.name().to_string(),
        ];
        rec.extend(x.row(k).iter().map(|v| v.to_string()));
        w.write_record(&rec)?;
    }
    Ok(String::from_utf8(w.into_inner()?)?)
}

/// The tuning grid with its scores; `chosen` marks the selected configuration.
pub fn tuning_csv(t: &Tuning) -> String {
    let mut s = String::from(
        "min_cluster_size,min_samples,metric,cluster_selection_epsilon,n_clusters,noise_percent,dbcv,davies_bouldin,calinski_harabasz,chosen\n",
    );
    for (i, r) in t.results.iter().enumerate() {
        s.push_str(&format!(
            "{},{},{},{},{},{:.4},{},{},{},{}\n",
            r.min_cluster_size,
            r.min_samples,
            r.metric,
            r.epsilon,
            r.n_clusters,
            100.0 * r.noise_fraction,
            opt(r.dbcv),
            opt(r.davies_bouldin),
            opt(r.calinski_harabasz),
            i == t.chosen
        ));
    }
    s
}
