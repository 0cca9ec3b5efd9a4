//! `outflow detect` and `outflow score` end to end on the built-in sample.

use std::path::{Path, PathBuf};
use std::process::Command;

fn outflow() -> Command {
    Command::new(env!("CARGO_BIN_EXE_outflow"))
}

/// The built-in sample: the simulator's default day.
fn sample() -> outflow_sim::Simulated {
    outflow_sim::simulate(&outflow_sim::SimParams::default())
}

/// The built-in sample written to a file by `outflow simulate`.
fn sample_file(dir: &Path) -> PathBuf {
    let path = dir.join("sample.conn.log");
    let out = outflow().args(["simulate", "--output"]).arg(&path).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    path
}

fn csv_rows(path: &Path) -> Vec<Vec<String>> {
    let mut r = csv::Reader::from_path(path).unwrap();
    r.records().map(|rec| rec.unwrap().iter().map(str::to_owned).collect()).collect()
}

#[test]
fn detect_writes_a_consistent_run_and_score_reproduces_it() {
    let dir = tempfile::tempdir().unwrap();
    let run = dir.path().join("run");
    let out = outflow().args(["detect", "--quiet", "--out"]).arg(&run).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let summary: serde_json::Value = serde_json::from_slice(&std::fs::read(run.join("summary.json")).unwrap()).unwrap();
    let n = sample().conns.len();
    assert_eq!(summary["rows_read"], n);
    let scores = csv_rows(&run.join("scores.csv"));
    assert_eq!(scores.len(), n);
    for (i, r) in scores.iter().enumerate() {
        assert_eq!(r[0], i.to_string());
    }
    let c = &summary["severity_counts"];
    let flagged = c["moderate"].as_u64().unwrap() + c["severe"].as_u64().unwrap();
    assert!((flagged as f64 / n as f64 - 0.05).abs() < 0.01);
    let anomalies = csv_rows(&run.join("anomalies.csv"));
    assert_eq!(anomalies.len() as u64, flagged);
    let s: Vec<f64> = anomalies.iter().map(|r| r[1].parse().unwrap()).collect();
    assert!(s.windows(2).all(|w| w[0] >= w[1]), "anomalies sorted by score");
    let th = summary["thresholds"]["moderate"].as_f64().unwrap();
    assert!(s.iter().all(|&x| x >= th));
    let clusters: serde_json::Value =
        serde_json::from_slice(&std::fs::read(run.join("clusters.json")).unwrap()).unwrap();
    assert!(clusters.as_array().unwrap().iter().any(|c| c["numeric"]["duration"]["median"].is_number()));

    // Score the training file with the saved model: same clusters and severities.
    let model = run.join(summary["model_file"].as_str().unwrap());
    let sample = sample_file(dir.path());
    let rescored = dir.path().join("again.csv");
    let out = outflow().arg("score").arg(&model).arg(&sample).arg("-o").arg(&rescored).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let again = csv_rows(&rescored);
    for (a, b) in scores.iter().zip(&again) {
        if a[2] == "1" {
            assert_eq!(a[1], b[1], "core point {} changed cluster", a[0]);
        }
        assert_eq!(a[4], b[4], "severity of row {}", a[0]);
    }

    // Nothing is overwritten without --force.
    let out = outflow().args(["detect", "--quiet", "--out"]).arg(&run).output().unwrap();
    assert!(!out.status.success());
    let out = outflow().arg("score").arg(&model).arg(&sample).arg("-o").arg(&rescored).output().unwrap();
    assert!(!out.status.success());
}

#[test]
fn bad_inputs_fail_clearly() {
    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().join("empty.log");
    std::fs::write(&empty, "").unwrap();
    let out = outflow().args(["detect", "--quiet", "--out"]).arg(dir.path().join("r")).arg(&empty).output().unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("empty"));
    assert!(!dir.path().join("r").exists(), "a failed run leaves no directory behind");
    let out = outflow().args(["detect", "--format", "parquet"]).output().unwrap();
    assert!(!out.status.success());
    let bogus = dir.path().join("model.json");
    std::fs::write(&bogus, "{\"format\":\"outflow-model\",\"format_version\":7}\n{}\n").unwrap();
    let out = outflow().arg("score").arg(&bogus).arg(&empty).output().unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("version 7"), "{}", String::from_utf8_lossy(&out.stderr));
}

#[test]
fn selection_keeps_every_record() {
    let dir = tempfile::tempdir().unwrap();
    let run = dir.path().join("run");
    let out = outflow().args(["detect", "--quiet", "--service", "ssl", "--out"]).arg(&run).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let scores = csv_rows(&run.join("scores.csv"));
    assert_eq!(scores.len(), sample().conns.len());
    let unscored: Vec<&Vec<String>> = scores.iter().filter(|r| r[4] == "unscored").collect();
    assert!(!unscored.is_empty() && unscored.iter().all(|r| r[5].starts_with("not selected")));
    assert!(scores.iter().filter(|r| r[4] != "unscored").all(|r| r[13] == "ssl"));
}

#[test]
fn clustering_options_reach_the_model() {
    let dir = tempfile::tempdir().unwrap();
    let run = dir.path().join("run");
    // One option with a dedicated flag, one through --param; min_cluster_size stays "from the data".
    let out = outflow()
        .args(["detect", "--quiet", "--min-samples", "5", "--param", "leaf_size=40", "--out"])
        .arg(&run)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let summary: serde_json::Value = serde_json::from_slice(&std::fs::read(run.join("summary.json")).unwrap()).unwrap();
    let c = &summary["clustering"];
    assert_eq!(
        (c["kind"].as_str(), c["min_samples"].as_u64(), c["leaf_size"].as_u64()),
        (Some("hdbscan"), Some(5), Some(40))
    );
    assert!(c["min_cluster_size"].as_u64().unwrap() >= 10, "resolved from the data: {c}");
    assert!(summary.get("neighbor_recall").is_none(), "an exact fit has no recall");
    // Approximate neighbours (DBSCAN here): the recall in summary.json and in the command's output.
    let approx = dir.path().join("approx");
    let out = outflow()
        .args(["detect", "--algorithm", "dbscan", "--neighbors", "approximate", "--out"])
        .arg(&approx)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let summary: serde_json::Value =
        serde_json::from_slice(&std::fs::read(approx.join("summary.json")).unwrap()).unwrap();
    let recall = summary["neighbor_recall"].as_f64().expect("recall reported");
    assert!(recall > 0.5 && recall <= 1.0, "{recall}");
    assert_eq!(summary["clustering"]["neighbors"], "approximate");
    assert!(String::from_utf8_lossy(&out.stdout).contains("neighbour recall"));

    for (args, message) in [
        (vec!["--param", "bogus=1"], "--param bogus does not apply to --algorithm hdbscan"),
        (vec!["--param", "leaf_size"], "expected NAME=VALUE"),
        (vec!["--min-cluster-size", "1"], "min_cluster_size"),
        (vec!["--algorithm", "kmeans"], "--algorithm kmeans needs --k"),
    ] {
        let out =
            outflow().args(["detect", "--quiet", "--out"]).arg(dir.path().join("bad")).args(&args).output().unwrap();
        assert!(!out.status.success(), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(message), "{args:?}: {err}");
    }
}

#[test]
fn every_level_ranks_the_planted_behaviours_first_and_score_reproduces_pairs() {
    let dir = tempfile::tempdir().unwrap();
    let run = dir.path().join("run");
    let out = outflow().args(["detect", "--quiet", "--level", "all", "--out"]).arg(&run).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let summary: serde_json::Value = serde_json::from_slice(&std::fs::read(run.join("summary.json")).unwrap()).unwrap();
    let levels = summary["levels"].as_array().unwrap();
    assert_eq!(levels.len(), 2);
    assert_eq!(levels[0]["level"], "host");
    let log = sample();
    assert_eq!(levels[0]["flows_aggregated"], log.conns.len());
    // The sample's labels, read after the fit.
    let planted = log.conns.iter().filter(|c| c.behaviour.is_some()).count();
    let labels = &summary["labels"];
    assert_eq!((labels["column"].as_str(), labels["positives"].as_u64()), (Some("label"), Some(planted as u64)));
    // The top of the alerts is the planted behaviours: the first fifteen are attackers' hosts in the
    // windows of their attack, and every behaviour has a host among them (a persistent behaviour, ranked
    // against the other hosts' windows, fills several places with its windows).
    let mut alerts = csv::Reader::from_path(run.join("alerts.csv")).unwrap();
    let header = alerts.headers().unwrap().clone();
    assert_eq!(header.iter().collect::<Vec<_>>()[..5], ["rank", "level", "severity", "outlier_score", "src"]);
    let top: Vec<csv::StringRecord> = alerts.records().take(40).map(Result::unwrap).collect();
    assert!(top[..15].iter().all(|r| &r[1] == "host" && &r[2] == "severe"), "{top:?}");
    let mut hosts = csv::Reader::from_path(run.join("hosts.csv")).unwrap();
    let hh = hosts.headers().unwrap().clone();
    let label = hh.iter().position(|c| c == "detailed-label").unwrap();
    let attack: std::collections::HashMap<(String, String), String> = hosts
        .records()
        .map(Result::unwrap)
        .filter(|r| r[label].chars().any(|c| c.is_ascii_lowercase()))
        .map(|r| ((r[0].to_owned(), r[1].to_owned()), r[label].to_owned()))
        .collect();
    for r in &top[..15] {
        assert!(attack.contains_key(&(r[4].to_owned(), r[6].to_owned())), "alert {} is not an attack: {r:?}", &r[0]);
    }
    for (b, host, _) in &log.planted {
        assert!(
            top[..15].iter().any(|r| &r[1] == "host" && &r[4] == host),
            "{} on {host} not among the first 15",
            b.name()
        );
    }
    let flows: usize = top[0][8].parse().unwrap();
    assert_eq!(top[0][12].split(' ').count(), flows);
    // Flows carry their hosts' and pair's scores.
    let mut scores = csv::Reader::from_path(run.join("scores.csv")).unwrap();
    let h = scores.headers().unwrap().clone();
    assert_eq!(h.iter().skip(6).take(3).collect::<Vec<_>>(), ["src_host_score", "dst_host_score", "pair_score"]);
    // The saved pair model scores the same log to the same pairs with the same severities.
    let severities = |text: &str| {
        let mut r = csv::Reader::from_reader(text.as_bytes());
        let mut v: Vec<(String, String, String, String)> = r
            .records()
            .map(|x| x.unwrap())
            .map(|x| (x[0].to_owned(), x[1].to_owned(), x[2].to_owned(), x[6].to_owned()))
            .collect();
        v.sort();
        v
    };
    let pairs = std::fs::read_to_string(run.join("pairs.csv")).unwrap();
    let model = levels[1]["model_file"].as_str().unwrap();
    let sample = sample_file(dir.path());
    let again = outflow().args(["score", "--batch-rows", "777"]).arg(run.join(model)).arg(sample).output().unwrap();
    assert!(again.status.success(), "{}", String::from_utf8_lossy(&again.stderr));
    let (a, b) = (severities(&pairs), severities(&String::from_utf8(again.stdout).unwrap()));
    assert!(a.len() > 1000, "{} pairs", a.len());
    assert!(a == b, "severities differ");
}

/// The built-in sample as an nProbe / NetFlow export names it (the NF-* flow sets' columns): times in
/// milliseconds, `IN_BYTES` from source to destination, no service or state column.
#[test]
fn host_and_pair_levels_read_netflow_exports() {
    let dir = tempfile::tempdir().unwrap();
    let log = sample();
    let mut text = String::from(
        "IPV4_SRC_ADDR,L4_SRC_PORT,IPV4_DST_ADDR,L4_DST_PORT,PROTOCOL,IN_BYTES,OUT_BYTES,IN_PKTS,OUT_PKTS,\
         FLOW_START_MILLISECONDS,Label,Attack\n",
    );
    for c in &log.conns {
        let proto = match c.proto.as_str() {
            "tcp" => 6,
            "udp" => 17,
            _ => 1,
        };
        let attack = c.behaviour.map_or("Benign", |b| b.name());
        text.push_str(&format!(
            "{},{},{},{},{proto},{},{},{},{},{},{},{attack}\n",
            c.orig_h,
            c.orig_p,
            c.resp_h,
            c.resp_p,
            c.orig_bytes.unwrap_or(0),
            c.resp_bytes.unwrap_or(0),
            c.orig_pkts,
            c.resp_pkts,
            (c.ts * 1000.0).round() as i64,
            u8::from(c.behaviour.is_some()),
        ));
    }
    let path = dir.path().join("netflow.csv");
    std::fs::write(&path, text).unwrap();
    let run = dir.path().join("run");
    let out = outflow().args(["detect", "--quiet", "--level", "all", "--out"]).arg(&run).arg(&path).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let summary: serde_json::Value = serde_json::from_slice(&std::fs::read(run.join("summary.json")).unwrap()).unwrap();
    let levels = summary["levels"].as_array().unwrap();
    assert_eq!(levels[0]["flows_aggregated"], log.conns.len());
    assert_eq!(levels[0]["flows_left_out"], 0, "every flow has its hosts and a time");
    // Hours, not milliseconds read as seconds (an hour's window would then hold 3.6 s of traffic: about
    // two host rows per flow).
    let hosts = levels[0]["rows"].as_u64().unwrap();
    assert!(hosts * 4 < log.conns.len() as u64, "{hosts} host rows");
    // Each host row's label is 0, 1 or both joined: read as flags, with attacks on both sides.
    let labels = &levels[0]["labels"];
    assert_eq!(labels["column"], "Label", "{labels}");
    assert!(labels["positives"].as_u64().unwrap() < hosts);
    let alerts: Vec<csv::StringRecord> =
        csv::Reader::from_path(run.join("alerts.csv")).unwrap().records().map(Result::unwrap).collect();
    // A flow alert's window is its start in seconds, as the host and pair rows' (not the log's
    // milliseconds).
    let flow = alerts.iter().find(|r| &r[1] == "flow").expect("flow alerts");
    let row: usize = flow[12].parse().unwrap();
    let start: f64 = flow[6].parse().unwrap();
    assert!((start - log.conns[row].ts).abs() < 1e-3, "{flow:?} against {}", log.conns[row].ts);
    // To the microsecond, without a float residue.
    assert!(alerts.iter().filter(|r| &r[1] == "flow").all(|r| r[7].split('.').nth(1).is_none_or(|d| d.len() <= 6)));
    let top = &alerts[..15];
    for (b, host, _) in &log.planted {
        assert!(
            top.iter().any(|r| &r[1] == "host" && &r[4] == host),
            "{} on {host} not among the first 15: {top:?}",
            b.name()
        );
    }
}

/// A label column of a name no family knows, and a column derived from it: `--label-column` carries the
/// one (evaluated at every level, never a feature), `--drop-column` keeps the other out of the features.
#[test]
fn named_label_and_dropped_columns_stay_out_of_the_features() {
    let dir = tempfile::tempdir().unwrap();
    let log = sample();
    let mut text =
        String::from("src_ip,dest_ip,dest_port,bytes_out,bytes_in,duration,time_start,verdict,verdict_code\n");
    for c in &log.conns {
        let verdict = c.behaviour.map_or("normal", |b| b.name());
        let code = c.behaviour.map_or(0, |b| b.name().len());
        text.push_str(&format!(
            "{},{},{},{},{},{},{},{verdict},{code}\n",
            c.orig_h,
            c.resp_h,
            c.resp_p,
            c.orig_bytes.unwrap_or(0),
            c.resp_bytes.unwrap_or(0),
            c.duration.unwrap_or(0.0),
            c.ts,
        ));
    }
    let path = dir.path().join("flows.csv");
    std::fs::write(&path, text).unwrap();
    let run = dir.path().join("run");
    let out = outflow()
        .args(["detect", "--quiet", "--level", "all", "--label-column", "Verdict", "--drop-column", "*_code", "--out"])
        .arg(&run)
        .arg(&path)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let summary: serde_json::Value = serde_json::from_slice(&std::fs::read(run.join("summary.json")).unwrap()).unwrap();
    let kept: Vec<&str> = summary["features_kept"].as_array().unwrap().iter().map(|f| f.as_str().unwrap()).collect();
    assert!(kept.iter().all(|f| !f.starts_with("verdict")), "{kept:?}");
    let planted = log.conns.iter().filter(|c| c.behaviour.is_some()).count() as u64;
    assert_eq!(summary["labels"]["column"], "verdict", "{}", summary["labels"]);
    assert_eq!(summary["labels"]["positives"].as_u64(), Some(planted));
    for level in summary["levels"].as_array().unwrap() {
        assert_eq!(level["labels"]["column"], "verdict", "{level}");
        assert!(level["labels"]["positives"].as_u64().unwrap() > 0, "{level}");
    }
    // Without the options the two columns are features, and no label is evaluated.
    let plain = dir.path().join("plain");
    let out = outflow().args(["detect", "--quiet", "--out"]).arg(&plain).arg(&path).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let summary: serde_json::Value =
        serde_json::from_slice(&std::fs::read(plain.join("summary.json")).unwrap()).unwrap();
    let kept: Vec<&str> = summary["features_kept"].as_array().unwrap().iter().map(|f| f.as_str().unwrap()).collect();
    assert!(kept.iter().any(|f| f.starts_with("verdict")), "{kept:?}");
    assert!(summary["labels"].is_null(), "{}", summary["labels"]);
}

#[test]
fn levels_fail_clearly_on_logs_without_hosts_and_on_bad_windows() {
    let dir = tempfile::tempdir().unwrap();
    let kdd = dir.path().join("kdd.txt");
    std::fs::write(
        &kdd,
        "0,tcp,http,SF,181,5450,0,0,0,0,0,1,0,0,0,0,0,0,0,0,0,0,8,8,0,0,0,0,1,0,0,9,9,1,0,0.11,0,0,0,0,0,normal.\n",
    )
    .unwrap();
    let out =
        outflow().args(["detect", "--level", "host", "--out"]).arg(dir.path().join("r")).arg(&kdd).output().unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("source address") && err.contains("flow level"), "{err}");
    for (flag, value, says) in [
        ("--window", "15", "needs a unit"),
        ("--internal", "10.0.0.0/40", "prefix"),
        ("--level", "hosts,planet", "planet"),
        ("--internal", "10.0.0.0/8", "add --level host, pair or all"),
    ] {
        let out = outflow().args(["detect", flag, value, "--out"]).arg(dir.path().join("w")).output().unwrap();
        assert!(!out.status.success());
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(says), "{flag} {value}: {err}");
    }
    assert!(!dir.path().join("w").exists(), "a failed run leaves nothing behind");
}

#[test]
fn host_and_pair_runs_stream_the_log_and_match_the_in_memory_run() {
    let dir = tempfile::tempdir().unwrap();
    let run = |args: &[&str], name: &str| {
        let out = outflow().args(["detect", "--quiet"]).args(args).arg("--out").arg(dir.path().join(name)).output();
        let out = out.unwrap();
        assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
        dir.path().join(name)
    };
    let whole = run(&["--level", "all"], "all");
    let streamed = run(&["--level", "pair,host", "--batch-rows", "1000"], "streamed");
    for table in ["pairs.csv", "hosts.csv"] {
        let a = std::fs::read_to_string(whole.join(table)).unwrap();
        let b = std::fs::read_to_string(streamed.join(table)).unwrap();
        assert!(a == b, "{table} differs between the streamed and the in-memory run");
    }
    let summary: serde_json::Value =
        serde_json::from_slice(&std::fs::read(streamed.join("summary.json")).unwrap()).unwrap();
    let n = sample().conns.len();
    assert_eq!(summary["rows_read"], n);
    assert_eq!(summary["levels"][0]["flows_aggregated"], n);
    let out = outflow().args(["detect", "--level", "host", "--batch-rows", "0"]).output().unwrap();
    assert!(!out.status.success());

    // Every level of a log longer than a batch: flows sampled (here every flow: the sample holds them
    // all) and scored batch by batch, hosts and pairs aggregated as the batches pass, the alerts
    // gathered batch by batch — the same files as in memory.
    let batched = run(&["--level", "all", "--batch-rows", "1000"], "all-batched");
    let read = |run: &Path, file: &str| std::fs::read_to_string(run.join(file)).unwrap();
    let files = ["scores.csv", "anomalies.csv", "hosts.csv", "pairs.csv", "alerts.csv", "clusters.json", "sample.csv"];
    for file in files {
        assert!(read(&whole, file) == read(&batched, file), "{file} differs between one batch and many");
    }
    assert!(read(&batched, "alerts.csv").lines().any(|l| l.contains(",host,")), "host alerts");
    let summary = |run: &Path| serde_json::from_str::<serde_json::Value>(&read(run, "summary.json")).unwrap();
    for key in ["rows_read", "severity_counts", "labels", "levels"] {
        let strip = |mut v: serde_json::Value| {
            for l in v.as_array_mut().into_iter().flatten() {
                l.as_object_mut().unwrap().remove("model_file");
            }
            v
        };
        assert_eq!(strip(summary(&whole)[key].clone()), strip(summary(&batched)[key].clone()), "{key}");
    }
    // With a selection: the unselected flows are linked to their hosts and pairs as in memory, and
    // `sample.csv` numbers the input records as `scores.csv` does.
    let select = ["--level", "all", "--service", "dns", "--service", "ssl"];
    let (a, b) = (run(&select, "sel"), run(&[&select[..], &["--batch-rows", "1000"]].concat(), "sel-batched"));
    for file in files {
        assert!(read(&a, file) == read(&b, file), "{file} differs with a selection");
    }
}

/// A Zeek ASCII log as Zeek writes it with `LogAscii::use_json=T`: unset fields left out.
fn zeek_to_json(log: &Path, out: &Path) {
    let text = std::fs::read_to_string(log).unwrap();
    let (mut fields, mut types) = (Vec::new(), Vec::new());
    let mut json = String::new();
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("#fields\t") {
            fields = rest.split('\t').map(str::to_owned).collect();
        } else if let Some(rest) = line.strip_prefix("#types\t") {
            types = rest.split('\t').map(str::to_owned).collect();
        } else if !line.starts_with('#') {
            let mut obj = serde_json::Map::new();
            for ((name, ty), v) in fields.iter().zip(&types).zip(line.split('\t')) {
                let value = match (ty.as_str(), v) {
                    (_, "-") => continue,
                    ("time" | "interval" | "double", v) => serde_json::json!(v.parse::<f64>().unwrap()),
                    ("count" | "port" | "int", v) => serde_json::json!(v.parse::<i64>().unwrap()),
                    ("bool", v) => serde_json::json!(v == "T"),
                    (t, "(empty)") if t.starts_with("set[") || t.starts_with("vector[") => serde_json::json!([]),
                    (t, v) if t.starts_with("set[") || t.starts_with("vector[") => {
                        serde_json::json!(v.split(',').collect::<Vec<_>>())
                    }
                    (_, v) => serde_json::json!(v),
                };
                obj.insert(name.clone(), value);
            }
            json += &serde_json::Value::Object(obj).to_string();
            json.push('\n');
        }
    }
    std::fs::write(out, json).unwrap();
}

#[test]
fn csv_json_and_kdd_logs_longer_than_a_batch_run_as_when_read_whole() {
    let dir = tempfile::tempdir().unwrap();
    // The simulated sample as a CSV and as Zeek JSON (their columns typed over every row, then read
    // batch by batch) and a KDD Cup 99 file (fixed types).
    let log = sample_file(dir.path());
    let zeek = outflow::io::read_table(&log, &outflow::io::ReadOptions::default()).unwrap();
    let csv = dir.path().join("sample.csv");
    outflow::io::write_csv(&zeek, std::fs::File::create(&csv).unwrap()).unwrap();
    let json = dir.path().join("sample.json.log");
    zeek_to_json(&log, &json);
    let kdd = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../outflow-io/tests/data/kddcup-10pct-head200.gz");
    for (log, batch) in [(&csv, "1000"), (&json, "1000"), (&kdd, "60")] {
        let run = |args: &[&str], name: &str| {
            let out = dir.path().join(name);
            let o = outflow().args(["detect", "--quiet"]).args(args).arg("--out").arg(&out).arg(log).output().unwrap();
            assert!(o.status.success(), "{log:?} {args:?}: {}", String::from_utf8_lossy(&o.stderr));
            out
        };
        let (whole, batched) = (run(&[], "whole"), run(&["--batch-rows", batch], "batched"));
        let read = |run: &Path, file: &str| std::fs::read_to_string(run.join(file)).unwrap();
        assert!(read(&whole, "scores.csv").lines().count() > batch.parse::<usize>().unwrap() + 1, "{log:?}");
        for file in ["scores.csv", "anomalies.csv", "clusters.json", "sample.csv"] {
            assert!(read(&whole, file) == read(&batched, file), "{log:?}: {file} differs between one batch and many");
        }
        std::fs::remove_dir_all(whole).unwrap();
        std::fs::remove_dir_all(batched).unwrap();
    }
}

#[test]
fn flow_runs_longer_than_a_batch_fit_on_a_sample_and_write_every_flow() {
    let dir = tempfile::tempdir().unwrap();
    let log = sample_file(dir.path());
    let run = |args: &[&str], name: &str| {
        let out = dir.path().join(name);
        let o = outflow().args(["detect", "--quiet"]).args(args).arg("--out").arg(&out).arg(&log).output().unwrap();
        assert!(o.status.success(), "{args:?}: {}", String::from_utf8_lossy(&o.stderr));
        out
    };
    let read = |run: &Path, file: &str| std::fs::read_to_string(run.join(file)).unwrap();
    let summary = |run: &Path| serde_json::from_str::<serde_json::Value>(&read(run, "summary.json")).unwrap();
    // A sample that holds every flow: the same run as in memory, file for file.
    let whole = run(&[], "whole");
    let batched = run(&["--batch-rows", "1000"], "batched");
    for file in ["scores.csv", "anomalies.csv", "clusters.json", "sample.csv"] {
        assert!(read(&whole, file) == read(&batched, file), "{file} differs between one batch and many");
    }
    for key in ["rows_read", "rows_kept", "severity_counts", "labels", "thresholds", "clusters"] {
        assert_eq!(summary(&whole)[key], summary(&batched)[key], "{key}");
    }

    // A smaller sample and a selection: every flow written in order, the unselected unscored.
    let args = ["--max-score-rows", "5000", "--max-fit-rows", "3000", "--service", "dns", "--service", "ssl"];
    let sampled = run(&[&args[..], &["--batch-rows", "1000"]].concat(), "sampled");
    let again = run(&[&args[..], &["--batch-rows", "1700"]].concat(), "again");
    assert!(read(&sampled, "scores.csv") == read(&again, "scores.csv"), "the batch size changed the sample");
    let s = summary(&sampled);
    let n = sample().conns.len();
    assert_eq!((s["rows_read"].as_u64(), s["rows_fitted_scorers"].as_u64()), (Some(n as u64), Some(5000)));
    let scores = csv_rows(&sampled.join("scores.csv"));
    assert_eq!(scores.len(), n);
    let mut counts = std::collections::BTreeMap::<String, u64>::new();
    for (i, r) in scores.iter().enumerate() {
        assert_eq!(r[0], i.to_string());
        *counts.entry(r[4].clone()).or_default() += 1;
        if r[4] == "unscored" {
            assert!(r[5].starts_with("not selected"), "{r:?}");
        }
    }
    for (severity, count) in &counts {
        assert_eq!(s["severity_counts"][severity].as_u64(), Some(*count), "{severity}");
    }
    assert_eq!(s["rows_selected"].as_u64(), Some(n as u64 - counts["unscored"]));
    // anomalies.csv: the moderate and severe flows, highest score first, then by row.
    let anomalies = csv_rows(&sampled.join("anomalies.csv"));
    assert_eq!(anomalies.len() as u64, counts["moderate"] + counts["severe"]);
    let keys: Vec<(f64, usize)> =
        anomalies.iter().map(|r| (-r[1].parse::<f64>().unwrap(), r[0].parse().unwrap())).collect();
    assert!(keys.windows(2).all(|w| w[0] <= w[1]), "anomalies out of order");
    for r in &anomalies {
        let row: usize = r[0].parse().unwrap();
        assert_eq!((&r[1], &r[2]), (&scores[row][3], &scores[row][4]), "row {row}");
    }
    // The sample's flows keep their fitted results; the clusters count the whole log.
    for r in csv_rows(&sampled.join("sample.csv")) {
        let row: usize = r[0].parse().unwrap();
        assert_eq!(&r[1..5], &scores[row][1..5], "sample row {row}");
    }
    let clusters: serde_json::Value = serde_json::from_str(&read(&sampled, "clusters.json")).unwrap();
    let sizes: u64 = clusters.as_array().unwrap().iter().map(|c| c["size"].as_u64().unwrap()).sum();
    assert_eq!(sizes, n as u64 - counts["unscored"]);
    assert!(std::fs::read_dir(&sampled).unwrap().all(|e| !e.unwrap().file_name().to_string_lossy().ends_with(".tmp")));

    // `score` reads in batches too: the same lines as one batch, to a file or standard output.
    let model = sampled.join(s["model_file"].as_str().unwrap());
    let score = |args: &[&str]| {
        let o = outflow().arg("score").arg(&model).arg(&log).args(args).output().unwrap();
        assert!(o.status.success(), "{args:?}: {}", String::from_utf8_lossy(&o.stderr));
        o.stdout
    };
    let one = score(&[]);
    assert_eq!(score(&["--batch-rows", "999"]), one);
    let file = dir.path().join("scores.csv");
    score(&["--batch-rows", "999", "-o", file.to_str().unwrap()]);
    assert_eq!(std::fs::read(&file).unwrap(), one);
    assert_eq!(String::from_utf8(one).unwrap().lines().count(), n + 1);
}

#[test]
fn values_too_large_to_square_are_unscored_or_refused_never_a_panic() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("huge.csv");
    let mut text = String::from("duration,orig_bytes,resp_bytes\n");
    for i in 0..200 {
        text.push_str(&format!("{}.5,{},{}\n", i % 7, i * 13 % 1000, i * 31 % 5000));
    }
    text.push_str("1e200,300,1200\n");
    std::fs::write(&csv, text).unwrap();
    let run = dir.path().join("run");
    let out = outflow().args(["detect", "--quiet", "--out"]).arg(&run).arg(&csv).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let scores = std::fs::read_to_string(run.join("scores.csv")).unwrap();
    let last = scores.lines().last().unwrap();
    assert!(last.starts_with("200,") && last.contains("unscored") && last.contains("1e200"), "{last}");
    let out = outflow().args(["cluster", "--output"]).arg(dir.path().join("c.csv")).arg(&csv).output().unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("value 1e200 at row 200") && !err.contains("panicked"), "{err}");
}

#[test]
fn two_runs_into_one_directory_never_mix() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("r");
    let spawn = || {
        outflow()
            .args(["detect", "--quiet", "--out"])
            .arg(&out)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap()
    };
    let (a, b) = (spawn(), spawn());
    let results = [a.wait_with_output().unwrap(), b.wait_with_output().unwrap()];
    let ok = results.iter().filter(|r| r.status.success()).count();
    assert_eq!(ok, 1, "{:?}", results.iter().map(|r| String::from_utf8_lossy(&r.stderr)).collect::<Vec<_>>());
    let loser = results.iter().find(|r| !r.status.success()).unwrap();
    let err = String::from_utf8_lossy(&loser.stderr);
    assert!(err.contains("another run is writing") || err.contains("is not empty"), "{err}");
    assert!(out.join("summary.json").exists() && !out.join(".outflow.lock").exists());
}

#[test]
fn option_and_file_errors_are_stated_once_and_never_panic() {
    let out = outflow().args(["detect", "/no/such/conn.log"]).output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert_eq!(err.matches("No such file").count(), 1, "{err}");
    for args in [vec!["detect", "--threads", "100000"], vec!["serve", "no-model.json", "--timeout", "inf"]] {
        let out = outflow().args(&args).output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success() && !err.contains("panicked"), "{args:?}: {err}");
        assert!(err.contains(args[2]), "{args:?}: {err}");
    }
    // Each dropped feature is listed once.
    let dir = tempfile::tempdir().unwrap();
    let run = dir.path().join("run");
    assert!(outflow().args(["detect", "--quiet", "--out"]).arg(&run).status().unwrap().success());
    let summary: serde_json::Value = serde_json::from_slice(&std::fs::read(run.join("summary.json")).unwrap()).unwrap();
    let names: Vec<&str> =
        summary["features_dropped"].as_array().unwrap().iter().map(|d| d["name"].as_str().unwrap()).collect();
    let unique: std::collections::HashSet<&&str> = names.iter().collect();
    assert_eq!(unique.len(), names.len(), "{names:?}");
}

#[cfg(unix)]
#[test]
fn a_stopped_run_leaves_no_directory_that_looks_complete() {
    use std::process::Stdio;
    let dir = tempfile::tempdir().unwrap();
    // A log big enough that the run is still reading or fitting when the signal comes.
    let log = dir.path().join("big.csv");
    let mut text = String::from("duration,orig_bytes,resp_bytes,orig_pkts\n");
    for i in 0..300_000u64 {
        text += &format!("{}.{},{},{},{}\n", i % 97, i % 10, (i * 7919) % 100_003, (i * 104_729) % 50_021, i % 13 + 1);
    }
    std::fs::write(&log, text).unwrap();
    let stop = |out: &Path, force: bool| {
        let mut cmd = outflow();
        cmd.args(["detect", log.to_str().unwrap(), "--out", out.to_str().unwrap(), "--quiet"]);
        if force {
            cmd.arg("--force");
        }
        let mut child = cmd.stdout(Stdio::null()).stderr(Stdio::piped()).spawn().unwrap();
        // The claim (its lock file) comes before any work.
        let lock = out.join(".outflow.lock");
        let t = std::time::Instant::now();
        while !lock.exists() {
            assert!(t.elapsed().as_secs() < 60, "the run never claimed {}", out.display());
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
        let killed = Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
        assert!(killed.success());
        let status = child.wait().unwrap();
        let mut err = String::new();
        std::io::Read::read_to_string(child.stderr.as_mut().unwrap(), &mut err).unwrap();
        assert_eq!(status.code(), Some(143), "{err}");
        assert!(err.contains("stopped by SIGTERM"), "{err}");
    };
    // A directory the run created goes.
    let fresh = dir.path().join("fresh");
    stop(&fresh, false);
    assert!(!fresh.exists());
    // A directory given with --force keeps what was there, says the run is incomplete, and holds no
    // lock or temporary file; the report refuses it.
    let given = dir.path().join("given");
    std::fs::create_dir(&given).unwrap();
    std::fs::write(given.join("notes.txt"), "mine").unwrap();
    stop(&given, true);
    let mut names: Vec<String> =
        std::fs::read_dir(&given).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    names.sort();
    assert!(names.contains(&"INCOMPLETE".to_string()) && names.contains(&"notes.txt".to_string()), "{names:?}");
    assert!(!names.iter().any(|n| n.starts_with('.') || n == "summary.json"), "{names:?}");
    let (run, flows) = (given.to_str().unwrap(), log.to_str().unwrap());
    for args in [vec!["report", run], vec!["score", run, flows]] {
        let out = outflow().args(&args).output().unwrap();
        assert!(!out.status.success(), "{args:?}");
        assert!(String::from_utf8_lossy(&out.stderr).contains("stopped before it finished"), "{args:?}");
    }
    // A run that then finishes there removes the mark.
    let out = outflow().args(["detect", "--out", given.to_str().unwrap(), "--force", "--quiet"]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(!given.join("INCOMPLETE").exists());
}

#[test]
fn a_key_in_the_environment_signs_models_and_score_refuses_others() {
    let dir = tempfile::tempdir().unwrap();
    let key = "correct horse battery staple, twice";
    let log = dir.path().join("log.csv");
    let mut text = String::from("duration,orig_bytes,resp_bytes\n");
    for i in 0..300 {
        text.push_str(&format!("{}.5,{},{}\n", i % 7, i * 13 % 1000, i * 31 % 5000));
    }
    std::fs::write(&log, text).unwrap();
    let detect = |name: &str, key: Option<&str>| {
        let mut c = outflow();
        c.args(["detect", "--quiet", "--out"]).arg(dir.path().join(name)).arg(&log);
        match key {
            Some(k) => c.env("OUTFLOW_MODEL_KEY", k),
            None => c.env_remove("OUTFLOW_MODEL_KEY"),
        };
        let out = c.output().unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let summary: serde_json::Value =
            serde_json::from_slice(&std::fs::read(dir.path().join(name).join("summary.json")).unwrap()).unwrap();
        dir.path().join(name).join(summary["model_file"].as_str().unwrap())
    };
    let signed = detect("signed", Some(key));
    let unsigned = detect("unsigned", None);
    let header = std::fs::read_to_string(&signed).unwrap();
    assert!(header.lines().next().unwrap().contains("\"signature\":\"hmac-sha256:"));
    let score = |model: &Path, key: Option<&str>| {
        let mut c = outflow();
        c.arg("score").arg(model).arg(&log);
        match key {
            Some(k) => c.env("OUTFLOW_MODEL_KEY", k),
            None => c.env_remove("OUTFLOW_MODEL_KEY"),
        };
        c.output().unwrap()
    };
    assert!(score(&signed, Some(key)).status.success());
    assert!(score(&signed, None).status.success(), "without a key the signature is not checked");
    assert!(score(&unsigned, None).status.success());
    for (model, k, says) in [
        (&unsigned, key, "not signed"),
        (&signed, "another key of enough bytes", "another key"),
        (&signed, "short", "at least 16 bytes"),
    ] {
        let out = score(model, Some(k));
        assert!(!out.status.success());
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(says) && !err.contains("panicked"), "{err}");
    }
    // Re-signing needs the key: an edit of the signed header (a forged creation time) is refused.
    let forged = dir.path().join("forged.json");
    std::fs::write(&forged, header.replacen("\"created\":\"", "\"created\":\"1", 1)).unwrap();
    let out = score(&forged, Some(key));
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("edited after signing"));
}

#[test]
fn an_embedded_clustering_is_saved_and_score_embeds_new_flows_the_same_way() {
    let dir = tempfile::tempdir().unwrap();
    let run = dir.path().join("run");
    // UMAP fitted on 3,000 flows; the other flows are embedded by the model's transform, as `score` does.
    let out = outflow()
        .args(["detect", "--quiet", "--max-fit-rows", "3000", "--embed", "umap:n_components=4,min_dist=0", "--out"])
        .arg(&run)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let summary: serde_json::Value = serde_json::from_slice(&std::fs::read(run.join("summary.json")).unwrap()).unwrap();
    let e = &summary["embedding"];
    assert_eq!(e["params"]["n_components"], 4);
    assert_eq!(e["params"]["seed"], 42, "the detector's seed");
    assert!(e["trustworthiness"].as_f64().unwrap() > 0.8, "{e}");
    let model = run.join(summary["model_file"].as_str().unwrap());
    let header: serde_json::Value =
        serde_json::from_str(std::fs::read_to_string(&model).unwrap().lines().next().unwrap()).unwrap();
    assert_eq!(header["format_version"], 3, "models with an embedding are format 3");

    let sample = sample_file(dir.path());
    let rescored = dir.path().join("again.csv");
    let out = outflow().arg("score").arg(&model).arg(&sample).arg("-o").arg(&rescored).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let (first, again) = (csv_rows(&run.join("scores.csv")), csv_rows(&rescored));
    assert_eq!(first.len(), again.len());
    let same = first.iter().zip(&again).filter(|(a, b)| a[1] == b[1]).count();
    // Only the 3,000 fitted flows may move: their clusters came from the fit, not from the transform.
    assert!(first.len() - same <= 3000, "{} of {} flows changed cluster", first.len() - same, first.len());
    for (a, b) in first.iter().zip(&again) {
        assert_eq!(a[4], b[4], "severity of row {}", a[0]);
    }

    // An embedding t-SNE cannot apply to new flows, and unknown keys, are refused before reading.
    for (spec, needle) in [("tsne", "transform"), ("umap:k=3", "not a UMAP parameter"), ("umap:seed=1", "--seed")] {
        let out =
            outflow().args(["detect", "--quiet", "--embed", spec, "--out"]).arg(dir.path().join("x")).output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success() && err.contains(needle), "{spec}: {err}");
    }
}

/// A run written with --force into a directory of an earlier run names the files it did not write (they
/// are kept: the user did not name them).
#[test]
fn a_forced_run_names_the_files_it_did_not_write() {
    let dir = tempfile::tempdir().unwrap();
    let run = dir.path().join("run");
    std::fs::create_dir(&run).unwrap();
    let old = run.join("alerts.csv");
    std::fs::write(&old, "rank,level\n").unwrap();
    let an_hour_ago = std::time::SystemTime::now() - std::time::Duration::from_secs(3600);
    std::fs::File::options().write(true).open(&old).unwrap().set_modified(an_hour_ago).unwrap();
    let out = outflow().args(["detect", "--quiet", "--force", "--out"]).arg(&run).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("also holds 1 file(s) this run did not write") && err.contains("alerts.csv"), "{err}");
    assert!(old.exists());
}
