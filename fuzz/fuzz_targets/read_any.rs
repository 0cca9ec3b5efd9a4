//! Any input as `outflow detect` reads it (format detected, gzip included), then, when it reads, the
//! whole default pipeline on it: summary, detection preparation and the detector fit and scoring. Errors
//! are fine; a panic, a hang or a runaway allocation is a finding.
#![no_main]

use libfuzzer_sys::fuzz_target;
use outflow::io::{Input, read_input, summarize};
use outflow::{DetectorParams, ReadOptions};

fuzz_target!(|data: &[u8]| {
    let Ok((table, _)) = read_input(&Input::bytes("fuzz", data.to_vec()), &ReadOptions::default()) else {
        return;
    };
    let _ = summarize(&table);
    // The fit is quadratic at worst: keep the inputs it runs on small.
    if table.n_rows() <= 300 {
        let params = DetectorParams { max_fit_rows: 300, ..DetectorParams::default() };
        if let Ok(fit) = params.fit(&table) {
            let _ = fit.detector.score(&table);
        }
    }
});
