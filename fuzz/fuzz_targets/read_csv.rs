//! The Csv reader on any bytes (gzip included), and the column summary of what it reads. Errors are
//! fine; a panic, a hang or a runaway allocation is a finding.
#![no_main]

use libfuzzer_sys::fuzz_target;
use outflow::ReadOptions;
use outflow::io::{Format, Input, read_input, summarize};

fuzz_target!(|data: &[u8]| {
    let opts = ReadOptions { format: Format::Csv, ..ReadOptions::default() };
    if let Ok((table, _)) = read_input(&Input::bytes("fuzz", data.to_vec()), &opts) {
        let _ = summarize(&table);
    }
});
