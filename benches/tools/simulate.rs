//! Writes a simulated, labeled Zeek conn log (see `outflow_benches::simulate`).
//!
//! `cargo run --release -p outflow-benches --bin simulate -- OUT.conn.log [SEED] [HOURS] CAPTURE...`
//! e.g. `-- sim.conn.log 1 24 ../shared/data/stratosphere/008-mixed-conn.log.labeled`.

use outflow::{ReadOptions, read_table};
use outflow_benches::simulate::{SimParams, bench_params, simulate};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.len() < 4 {
        eprintln!("usage: simulate OUT.conn.log SEED HOURS CAPTURE...");
        std::process::exit(2);
    }
    let seed: u64 = args[1].parse().expect("SEED: a whole number");
    let hours: f64 = args[2].parse().expect("HOURS: a number");
    let captures: Vec<_> = args[3..]
        .iter()
        .map(|p| read_table(p, &ReadOptions::default()).unwrap_or_else(|e| panic!("{p}: {e}")))
        .collect();
    let sim = simulate(&captures, &SimParams { hours, ..bench_params(seed) });
    if std::path::Path::new(&args[0]).exists() {
        eprintln!("{} exists; not replaced", args[0]);
        std::process::exit(1);
    }
    std::fs::write(&args[0], sim.to_zeek()).expect("write the log");
    for (b, host, peer) in &sim.planted {
        println!("{}\t{host}\t{peer}", b.name());
    }
}
