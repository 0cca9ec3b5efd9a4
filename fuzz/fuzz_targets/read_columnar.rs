//! Any bytes read as Parquet and as Arrow IPC, then summarised: errors are fine; a panic that reaches
//! the target, a hang or a runaway allocation is a finding. The parquet and arrow-ipc decoders still
//! panic on some malformed input, which outflow-io catches and reports as an error; libFuzzer's panic
//! hook would abort on those caught panics, so this target installs a quiet hook: a panic that escapes
//! outflow-io still fails the run (libfuzzer-sys aborts when the target unwinds).
#![no_main]

use libfuzzer_sys::fuzz_target;
use outflow::ReadOptions;
use outflow::io::{Format, Input, read_input, summarize};

fuzz_target!(|data: &[u8]| {
    static QUIET: std::sync::Once = std::sync::Once::new();
    QUIET.call_once(|| std::panic::set_hook(Box::new(|_| {})));
    for format in [Format::Parquet, Format::Arrow] {
        let opts = ReadOptions { format, ..ReadOptions::default() };
        if let Ok((table, _)) = read_input(&Input::bytes("fuzz", data.to_vec()), &opts) {
            let _ = summarize(&table);
        }
    }
});
