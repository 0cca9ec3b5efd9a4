//! Times the aggregation of a generated flow table (the side-by-side script's Outflow half).
//!
//! `cargo run --release -p outflow-benches --bin aggregate_tool -- ROWS [HOSTS] [CSV_OUT]`: generates
//! ROWS flows (`outflow_benches::flow_table`), aggregates hosts and pairs per hour and prints the seconds
//! and the peak resident memory; with CSV_OUT also writes the flows as CSV (for the pandas peer) and
//! times reading that CSV and aggregating it.

use std::time::Instant;

use outflow::aggregate::{AggregateParams, Aggregator, Level};
use outflow::io::{ReadOptions, read_table, write_csv};
use outflow_benches::flow_table;

fn peak_rss_mb() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|kb| kb.parse::<f64>().ok())
        .map_or(f64::NAN, |kb| kb / 1024.0)
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let rows: usize = args.first().map_or(10_000_000, |s| s.parse().expect("ROWS"));
    let hosts: usize = args.get(1).map_or(5_000, |s| s.parse().expect("HOSTS"));
    let t = Instant::now();
    let flows = flow_table(rows, hosts, 3);
    eprintln!("generated {rows} flows in {:.2}s (peak {:.0} MB)", t.elapsed().as_secs_f64(), peak_rss_mb());
    let run = |flows: &outflow::io::Table| {
        let t = Instant::now();
        let mut agg = Aggregator::new(AggregateParams::default(), &[Level::Host, Level::Pair]).unwrap();
        agg.push(flows).unwrap();
        let pushed = t.elapsed().as_secs_f64();
        let out = agg.finish().unwrap();
        eprintln!("push {pushed:.3} s, finish {:.3} s", t.elapsed().as_secs_f64() - pushed);
        (t.elapsed().as_secs_f64(), out.hosts.unwrap().len(), out.pairs.unwrap().len())
    };
    let (secs, h, p) = run(&flows);
    println!("aggregate {rows} flows: {secs:.3} s ({h} host rows, {p} pair rows), peak {:.0} MB", peak_rss_mb());
    if let Some(path) = args.get(2) {
        let file = std::fs::File::create(path).expect("CSV_OUT");
        write_csv(&flows, std::io::BufWriter::new(file)).expect("write CSV");
        drop(flows);
        let t = Instant::now();
        let again = read_table(path, &ReadOptions::default()).expect("read CSV");
        let read = t.elapsed().as_secs_f64();
        let (secs, _, _) = run(&again);
        println!("read CSV {read:.3} s + aggregate {secs:.3} s = {:.3} s", read + secs);
    }
}
