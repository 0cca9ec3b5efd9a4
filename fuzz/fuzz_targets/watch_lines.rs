//! The watch's line batcher on any bytes: split into lines, fed in batches cut at arbitrary places
//! (the first byte sets the batch size), with a header restored from a checkpoint, then the checkpoint
//! parser on the same bytes. Every record handed out must come from a line fed; errors are fine, a panic
//! or a hang is a finding.
#![no_main]

use std::sync::Arc;

use libfuzzer_sys::fuzz_target;
use outflow::io::Schema;
use outflow_watch::batch::Batcher;
use outflow_watch::follow::Line;

fuzz_target!(|data: &[u8]| {
    let Some((&first, rest)) = data.split_first() else { return };
    let every = usize::from(first % 16) + 1;
    let file: Arc<str> = Arc::from("fuzz.log");
    let schema = Schema::default();
    let mut b = Batcher::new();
    if first & 0x80 != 0 {
        b.restore_header(b"#separator \\x09\n#fields\tts\tuid\torig_bytes\n#types\ttime\tstring\tcount\n");
    }
    let lines: Vec<&[u8]> = rest.split(|c| *c == b'\n').collect();
    for (i, bytes) in lines.iter().enumerate() {
        let line = Line { bytes: bytes.to_vec(), file: file.clone(), number: i as u64 + 1, new_file: i == 0 };
        let added = b.push(line);
        if added == outflow_watch::batch::Added::HeaderChange || (i + 1) % every == 0 {
            check(b.take(&schema), lines.len());
        }
    }
    check(b.take(&schema), lines.len());
    let _ = serde_json::from_slice::<outflow_watch::Checkpoint>(data);
});

fn check((parsed, bad): (Option<outflow_watch::batch::Parsed>, Vec<outflow_watch::batch::Malformed>), n: usize) {
    if let Some(p) = parsed {
        assert_eq!(p.table.n_rows(), p.origins.len());
        assert!(p.origins.iter().all(|o| o.line >= 1 && o.line as usize <= n));
    }
    assert!(bad.iter().all(|m| m.at.line >= 1 && m.at.line as usize <= n));
}
