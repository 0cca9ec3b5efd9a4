//! The alert file after a crash: whatever was written after the checkpointed length — in the file or in
//! files rotated since — is gone on reopening, so the alerts raised again are written once.

use outflow::Severity;
use outflow_watch::sink::{FileState, RotatingFile, Sink};
use outflow_watch::{Alert, AllowList};

fn alert(i: usize) -> Alert {
    Alert {
        id: format!("id-{i}"),
        severity: Severity::Moderate,
        addresses: vec!["10.0.0.1".into()],
        document: serde_json::json!({ "event": { "id": format!("id-{i}") }, "pad": "x".repeat(100) }),
    }
}

fn ids(path: &std::path::Path) -> Vec<String> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()["event"]["id"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn reopening_cuts_what_followed_the_checkpoint_even_across_rotations() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("alerts.ndjson");
    // 1 KiB files: every batch of eight alerts rotates the file before it is written.
    let (mut sink, _) = RotatingFile::open(&path, 1024, 5, None).unwrap();
    sink.send(1, &(0..8).map(alert).collect::<Vec<_>>()).unwrap();
    sink.send(2, &(8..10).map(alert).collect::<Vec<_>>()).unwrap();
    let checkpoint: FileState = sink.file_state().unwrap();
    let kept = ids(&path);
    // After the checkpoint: two more batches, the first rotating the file.
    sink.send(3, &(10..18).map(alert).collect::<Vec<_>>()).unwrap();
    sink.send(4, &(18..26).map(alert).collect::<Vec<_>>()).unwrap();
    assert!(dir.path().join("alerts.ndjson.2").exists());
    drop(sink);
    let (sink, notes) = RotatingFile::open(&path, 1024, 5, Some(&checkpoint)).unwrap();
    assert!(notes.iter().any(|n| n.contains("rotation undone")), "{notes:?}");
    assert_eq!(ids(&path), kept);
    assert_eq!(sink.file_state().unwrap(), checkpoint);
    // The file rotated before the checkpoint is kept, under the name the later rotation gave it.
    assert_eq!(ids(&dir.path().join("alerts.ndjson.2")), (0..8).map(|i| format!("id-{i}")).collect::<Vec<_>>());
    assert!(!dir.path().join("alerts.ndjson.1").exists());
}

#[test]
fn a_checkpointed_length_cuts_the_same_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("alerts.ndjson");
    let (mut sink, _) = RotatingFile::open(&path, 1 << 20, 5, None).unwrap();
    sink.send(1, &[alert(0), alert(1)]).unwrap();
    let checkpoint = sink.file_state().unwrap();
    sink.send(2, &[alert(2)]).unwrap();
    drop(sink);
    let (_, notes) = RotatingFile::open(&path, 1 << 20, 5, Some(&checkpoint)).unwrap();
    assert!(notes.iter().any(|n| n.contains("removed")), "{notes:?}");
    assert_eq!(ids(&path), vec!["id-0", "id-1"]);
    let none: [&str; 0] = [];
    assert!(AllowList::new(&[], &none).unwrap().is_empty());
}
