//! The watch's parts by hand: a `Follower` hands out the whole lines of a log as they are written, a
//! `Batcher` parses them in micro-batches with the header in force, a `Detector` scores each batch, and
//! the anomalies become ECS alerts — what `outflow watch` does in a loop, with checkpoints and sinks.
//!
//! ```sh
//! cargo run --release -p outflow-watch --example follow_and_alert
//! ```

use std::io::Write;

use outflow::io::{Input, read_zeek};
use outflow::{DetectorParams, Severity};
use outflow_watch::alert::{FlowAlert, FlowColumns, ModelInfo, flow_alert};
use outflow_watch::batch::Batcher;
use outflow_watch::follow::{FollowState, Follower, Source, Start};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // Two hours of a simulated office network, its flow model fitted on the whole log.
    let day = outflow_sim::simulate(&outflow_sim::SimParams { hours: 2.0, ..Default::default() }).to_zeek();
    let detector = DetectorParams::default().fit(&read_zeek(&Input::bytes("day.log", day.clone()))?)?.detector;
    let model = ModelInfo { name: "example".into(), sha256: String::new() };

    // The "live" log: its header and the first half, then the rest appended while it is followed.
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("conn.log");
    let lines: Vec<&str> = day.lines().collect();
    let half = lines.len() / 2;
    std::fs::write(&path, lines[..half].join("\n") + "\n")?;
    let mut follower = Follower::new(Source::File(path.clone()), FollowState::default(), Start::Beginning)?;
    let mut batcher = Batcher::new();
    let (mut flows, mut alerts) = (0, Vec::new());
    // Scores the batch gathered so far; severe flows become alerts.
    let mut score = |batcher: &mut Batcher| -> Result<(), Box<dyn std::error::Error>> {
        let (parsed, bad) = batcher.take(detector.input_schema());
        assert!(bad.is_empty());
        let Some(p) = parsed else { return Ok(()) };
        flows += p.table.n_rows();
        let scored = detector.score_log(&p.table)?;
        let cols = FlowColumns::new(&p.table);
        for s in scored.scores.iter().filter(|s| s.severity == Severity::Severe) {
            let at = &p.origins[s.row];
            let a = FlowAlert {
                row: s.row,
                score: s.outlier_score.unwrap_or(0.0),
                severity: s.severity,
                cluster: s.cluster.unwrap_or(-1),
                reasons: "",
                file: &at.file,
                line: at.line,
            };
            alerts.push(flow_alert(&cols, &a, &model));
        }
        Ok(())
    };
    for round in 0..2 {
        if round == 1 {
            let mut f = std::fs::OpenOptions::new().append(true).open(&path)?;
            f.write_all((lines[half..].join("\n") + "\n").as_bytes())?;
        }
        // Every line written so far; a batch is scored at 1,000 flows and when the writer pauses.
        while let Some(line) = follower.next_line()? {
            batcher.push(line);
            if batcher.len() >= 1000 {
                score(&mut batcher)?;
            }
        }
        score(&mut batcher)?;
    }
    println!("{flows} flows followed, {} severe alerts; the first:", alerts.len());
    if let Some(a) = alerts.first() {
        println!("{}", serde_json::to_string_pretty(&a.document)?);
    }
    Ok(())
}
