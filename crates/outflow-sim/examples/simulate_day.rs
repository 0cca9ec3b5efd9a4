//! Simulates a day and writes it as a Zeek conn log: `cargo run -p outflow-sim --example simulate_day
//! -- [SEED] [OUT.conn.log]` (standard output without a path). Prints what was planted where.

use outflow_sim::{SimParams, try_simulate};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let seed = args.next().map(|s| s.parse()).transpose()?.unwrap_or(1);
    let log = try_simulate(&SimParams { seed, ..SimParams::default() })?;
    for (behaviour, host, peer) in &log.planted {
        let flows = log.conns.iter().filter(|c| c.behaviour == Some(*behaviour)).count();
        eprintln!("{:<16} on {host:<10} → {peer:<16} {flows} flows", behaviour.name());
    }
    eprintln!("{} flows in all", log.conns.len());
    match args.next() {
        Some(path) => std::fs::write(path, log.to_zeek())?,
        None => print!("{}", log.to_zeek()),
    }
    Ok(())
}
