//! A model body edited and re-hashed, as a deliberate edit would be: the input is the body line, given
//! a true header (length and SHA-256) before the loader checks it. A body that passes the checks gets
//! the metadata it describes and must then load and score flows of the shipped sample without a panic,
//! a hang or a huge allocation.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use outflow::io::{Input, read_input};
use outflow::{ArtifactError, Detector, DetectorParams, ReadOptions, Table};
use serde_json::Value;

const SAMPLE: &[u8] = include_bytes!("../../examples/data/ctu-mixed-008.conn.log.labeled");

/// Flows of the sample, and the header of a model fitted on them.
fn fixture() -> &'static (Table, Value) {
    static FIXTURE: OnceLock<(Table, Value)> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let (t, _) = read_input(&Input::bytes("sample", SAMPLE.to_vec()), &ReadOptions::default()).unwrap();
        let t = t.take_rows(&(0..300).collect::<Vec<_>>());
        let file = DetectorParams::default().fit(&t).unwrap().detector.to_bytes();
        let nl = file.iter().position(|&b| b == b'\n').unwrap();
        (t, serde_json::from_slice(&file[..nl]).unwrap())
    })
}

fn with_header(mut header: Value, body: &[u8]) -> Vec<u8> {
    header["body_bytes"] = body.len().into();
    header["body_sha256"] = sha256_hex(body).into();
    let mut file = serde_json::to_vec(&header).unwrap();
    file.push(b'\n');
    file.extend_from_slice(body);
    file
}

fuzz_target!(|data: &[u8]| {
    let (flows, header) = fixture();
    let detector = match Detector::from_bytes(&with_header(header.clone(), data)) {
        Ok(d) => d,
        // The body passed every check; only the header's metadata is another model's.
        Err(ArtifactError::Header(_)) => {
            let checked: Detector = serde_json::from_slice(data).expect("the loader parsed it");
            let mut header = header.clone();
            header["metadata"] = serde_json::to_value(checked.metadata()).unwrap();
            Detector::from_bytes(&with_header(header, data)).expect("a checked body with its own metadata loads")
        }
        Err(_) => return,
    };
    let _ = detector.score(flows);
});

fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}
