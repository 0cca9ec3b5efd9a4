//! A model file as `score` and `serve` load it; a model that loads scores flows of the shipped sample.
//! Edits the checksum catches end here: `model_body` re-hashes its input to reach the body checks.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use outflow::io::{Input, read_input};
use outflow::{Detector, ReadOptions, Table};

const SAMPLE: &[u8] = include_bytes!("../../examples/data/ctu-mixed-008.conn.log.labeled");

fn flows() -> &'static Table {
    static FLOWS: OnceLock<Table> = OnceLock::new();
    FLOWS.get_or_init(|| {
        let (t, _) = read_input(&Input::bytes("sample", SAMPLE.to_vec()), &ReadOptions::default()).unwrap();
        t.take_rows(&(0..200).collect::<Vec<_>>())
    })
}

fuzz_target!(|data: &[u8]| {
    if let Ok(detector) = Detector::from_bytes(data) {
        let _ = detector.score(flows());
    }
});
