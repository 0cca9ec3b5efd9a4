//! The simulator is deterministic for a seed and plants every behaviour on the inside hosts.

use outflow::io::{Input, ReadOptions, read_input};
use outflow_benches::simulate::{Behaviour, SimParams, bench_params, simulate};

fn background() -> outflow::io::Table {
    let mut log = String::from(
        "#separator \\x09\n#fields\tts\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\tservice\tduration\t\
         orig_bytes\tresp_bytes\tconn_state\torig_pkts\tresp_pkts\tlabel\n\
         #types\ttime\taddr\tport\taddr\tport\tenum\tstring\tinterval\tcount\tcount\tstring\tcount\tcount\tstring\n",
    );
    for i in 0..200 {
        let label = if i % 50 == 7 { "Malicious" } else { "Benign" };
        log.push_str(&format!(
            "{}.0\t192.168.1.{}\t{}\t93.184.216.{}\t443\ttcp\tssl\t0.5\t{}\t{}\tSF\t5\t6\t{label}\n",
            1000 + i * 37,
            i % 3 + 2,
            40000 + i,
            i % 5,
            300 + i,
            5000 + 7 * i
        ));
    }
    read_input(&Input::bytes("bg.log", log), &ReadOptions::default()).unwrap().0
}

#[test]
fn deterministic_for_a_seed_and_every_behaviour_is_planted() {
    let bg = [background()];
    let p = SimParams { hours: 3.0, ..bench_params(7) };
    let a = simulate(&bg, &p);
    let b = simulate(&bg, &p);
    assert_eq!(a.to_zeek(), b.to_zeek());
    let c = simulate(&bg, &SimParams { seed: 8, ..p.clone() });
    assert_ne!(a.to_zeek(), c.to_zeek());

    let end = p.start + 3.0 * 3600.0;
    assert!(a.conns.iter().all(|c| c.ts >= p.start && c.ts < end));
    assert!(a.conns.windows(2).all(|w| w[0].ts <= w[1].ts));
    // Background: benign flows only, their inside originators mapped to the simulated hosts.
    let background: Vec<_> = a.conns.iter().filter(|c| c.behaviour.is_none()).collect();
    assert!(background.len() > 200, "the capture is repeated over the timeline");
    assert!(background.iter().all(|c| c.orig_h.starts_with("10.0.0.") && c.resp_h.starts_with("93.184.216.")));
    for beh in Behaviour::ALL {
        let n = a.conns.iter().filter(|c| c.behaviour == Some(beh)).count();
        assert!(n >= 1, "{} planted", beh.name());
        let (_, host, _) = a.planted.iter().find(|(b, _, _)| *b == beh).unwrap();
        assert!(a.conns.iter().filter(|c| c.behaviour == Some(beh)).all(|c| &c.orig_h == host));
    }
    let hosts: std::collections::HashSet<_> = a.planted.iter().map(|(_, h, _)| h).collect();
    assert_eq!(hosts.len(), Behaviour::ALL.len(), "one host per behaviour");

    // The log reads back with its labels.
    let (t, _) = read_input(&Input::bytes("sim.log", a.to_zeek()), &ReadOptions::default()).unwrap();
    assert_eq!(t.n_rows(), a.conns.len());
    let labels = t.column("detailed-label").unwrap();
    let beacons = (0..t.n_rows()).filter(|&i| labels.value(i).to_string() == "beacon").count();
    assert!((170..=200).contains(&beacons), "one beacon a minute for three hours: {beacons}");
}
