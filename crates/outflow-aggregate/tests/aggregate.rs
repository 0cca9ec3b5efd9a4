//! Aggregates checked against a direct computation on small logs, invariance to row order and batching,
//! and the errors a user sees.

use outflow_aggregate::{AggregateError, AggregateParams, Aggregator, Contacts, Entities, Level, Window, aggregate};
use outflow_io::{Column, Input, ReadOptions, Table, read_input};
use proptest::prelude::*;

fn zeek(records: &[&str]) -> Table {
    let mut log = String::from(
        "#separator \\x09\n#fields\tts\tid.orig_h\tid.resp_h\tid.resp_p\tproto\tservice\tduration\torig_bytes\t\
         resp_bytes\tconn_state\torig_pkts\tresp_pkts\tlabel\n\
         #types\ttime\taddr\taddr\tport\tenum\tstring\tinterval\tcount\tcount\tstring\tcount\tcount\tstring\n",
    );
    for r in records {
        log.push_str(&r.replace(' ', "\t"));
        log.push('\n');
    }
    read_input(&Input::bytes("conn.log", log), &ReadOptions::default()).unwrap().0
}

/// A CSV log read as `outflow detect` reads it.
fn csv_log(name: &str, text: &str) -> Table {
    read_input(&Input::bytes(name, text), &ReadOptions::default()).unwrap().0
}

/// Three hosts over two hours: 10.0.0.1 talks to 8.8.8.8 (DNS, one failed) and to 10.0.0.2 (SSH).
fn small_log() -> Table {
    zeek(&[
        "100.0 10.0.0.1 8.8.8.8 53 udp dns 0.5 40 120 SF 1 1 benign",
        "160.0 10.0.0.1 8.8.8.8 53 udp dns - - - S0 1 0 benign",
        "220.0 10.0.0.1 8.8.8.8 53 udp dns 1.5 60 200 SF 1 1 evil",
        "300.0 10.0.0.1 10.0.0.2 22 tcp ssh 30.0 5000 7000 SF 40 35 benign",
        "4000.0 10.0.0.2 10.0.0.1 8080 tcp - 2.0 100 900000 SF 10 700 benign",
    ])
}

fn value(e: &Entities, column: &str, src: &str, dst: Option<&str>, ts: f64) -> f64 {
    let row = e.row_of(src, dst, ts).unwrap_or_else(|| panic!("no row for {src} {dst:?} at {ts}"));
    e.value(column, row).unwrap_or_else(|| panic!("no value {column}"))
}

#[test]
fn host_features_match_a_direct_computation() {
    let hosts = aggregate(&small_log(), &AggregateParams::default(), Level::Host).unwrap();
    // Hour 0: 10.0.0.1, 8.8.8.8, 10.0.0.2; hour 1: 10.0.0.2, 10.0.0.1.
    assert_eq!(hosts.len(), 5);
    let h = |c: &str| value(&hosts, c, "10.0.0.1", None, 0.0);
    assert_eq!(h("flows"), 4.0);
    assert_eq!((h("flows_out"), h("flows_in")), (4.0, 0.0));
    assert_eq!(h("bytes_out"), 40.0 + 60.0 + 5000.0);
    assert_eq!(h("bytes_in"), 120.0 + 200.0 + 7000.0);
    assert_eq!(h("packets_out"), 43.0);
    assert_eq!(h("upload_ratio"), 5100.0 / (5100.0 + 7320.0));
    assert_eq!((h("distinct_dsts"), h("distinct_srcs")), (2.0, 0.0));
    assert_eq!((h("distinct_dst_ports"), h("distinct_services")), (2.0, 2.0));
    assert_eq!(h("failed_out_fraction"), 0.25);
    assert_eq!(h("duration_total"), 32.0);
    assert_eq!(h("duration_max"), 30.0);
    assert_eq!(h("duration_mean"), 8.0);
    // 8.8.8.8 is outside the private ranges: DNS is the only traffic leaving the network.
    assert_eq!((h("external_bytes_out"), h("external_dsts")), (100.0, 1.0));
    // The responder's view of the same flows.
    let dns = |c: &str| value(&hosts, c, "8.8.8.8", None, 0.0);
    assert_eq!((dns("flows_in"), dns("distinct_srcs"), dns("distinct_ports_in")), (3.0, 1.0, 1.0));
    assert_eq!((dns("bytes_out"), dns("bytes_in")), (320.0, 100.0));
    assert!((dns("failed_in_fraction") - 1.0 / 3.0).abs() < 1e-15);
    // Windows are epoch-aligned hours, and labels are carried, most frequent first.
    let row = hosts.row_of("10.0.0.1", None, 10.0).unwrap();
    assert_eq!(hosts.value("window_start", row), Some(0.0));
    assert_eq!(hosts.value("window_end", row), Some(3600.0));
    assert_eq!(hosts.table().column("label").unwrap().str_at(row), Some("benign;evil"));
    // Baseline: 10.0.0.1 sent 5,100 bytes in hour 0 and 900,000 in hour 1 (as responder).
    let z0 = value(&hosts, "bytes_out_baseline_z", "10.0.0.1", None, 0.0);
    let z1 = value(&hosts, "bytes_out_baseline_z", "10.0.0.1", None, 3600.0);
    let (a, b) = ((5100f64).ln_1p(), (900_000f64).ln_1p());
    let expected = ((a - b) / 2.0) / (1.4826 * (b - a) / 2.0);
    assert!((z0 - expected).abs() < 1e-12 && (z1 + expected).abs() < 1e-12, "{z0} {z1}");
}

#[test]
fn pair_features_match_a_direct_computation() {
    let pairs = aggregate(&small_log(), &AggregateParams::default(), Level::Pair).unwrap();
    assert_eq!(pairs.len(), 3);
    let p = |c: &str| value(&pairs, c, "10.0.0.1", Some("8.8.8.8"), 0.0);
    assert_eq!(p("flows"), 3.0);
    assert_eq!((p("bytes_out"), p("bytes_in")), (100.0, 320.0));
    assert!((p("failed_fraction") - 1.0 / 3.0).abs() < 1e-15);
    assert_eq!(p("outbound_fraction"), 1.0);
    // Starts 100, 160, 220: intervals 60 and 60; sizes 40, 0, 60.
    assert_eq!((p("interval_median"), p("interval_mad"), p("interval_skew")), (60.0, 0.0, 0.0));
    assert_eq!((p("size_median"), p("size_mad")), (40.0, 20.0));
    assert_eq!(p("beacon_score"), 0.0, "three connections are too few for a beacon");
    assert_eq!(value(&pairs, "outbound_fraction", "10.0.0.1", Some("10.0.0.2"), 0.0), 0.0);
    // In hour 0, 10.0.0.1 contacted two hosts; 8.8.8.8 was contacted by one.
    assert_eq!((p("src_distinct_dsts"), p("dst_distinct_srcs")), (2.0, 1.0));
    let back = |c: &str| value(&pairs, c, "10.0.0.2", Some("10.0.0.1"), 4000.0);
    assert_eq!((back("src_distinct_dsts"), back("dst_distinct_srcs")), (1.0, 1.0));
    // The reverse direction is another pair.
    assert_eq!(value(&pairs, "bytes_out", "10.0.0.2", Some("10.0.0.1"), 4000.0), 100.0);
}

#[test]
fn first_contacts_and_long_dns_queries() {
    // Hour 1 comes first in the file: windows are compared by time, not by position.
    let log = zeek(&[
        "3700.0 10.0.0.5 10.0.1.1 22 tcp - - - - S0 1 0 benign",
        "3710.0 10.0.0.5 10.0.1.3 23 tcp - - - - REJ 1 1 benign",
        "3720.0 10.0.0.5 10.0.1.4 80 tcp http 1.0 300 9000 SF 5 8 benign",
        "3730.0 10.0.0.5 10.0.0.53 53 udp dns 0.1 230 90 SF 1 1 benign",
        "3740.0 10.0.0.5 10.0.0.53 53 udp dns 0.1 300 180 SF 2 2 benign",
        "100.0 10.0.0.5 10.0.1.1 22 tcp - - - - S0 1 0 benign",
        "110.0 10.0.0.5 10.0.1.2 22 tcp - - - - S0 1 0 benign",
        "120.0 10.0.0.5 10.0.0.53 53 udp dns 0.1 40 90 SF 1 1 benign",
    ]);
    let hosts = aggregate(&log, &AggregateParams::default(), Level::Host).unwrap();
    let h = |c: &str, ts: f64| value(&hosts, c, "10.0.0.5", None, ts);
    // Hour 0: two failed first contacts (the resolver answered); ports 22 and 53 are new.
    assert_eq!((h("new_failed_dsts", 0.0), h("new_dst_ports", 0.0), h("dns_long_bytes", 0.0)), (2.0, 2.0, 0.0));
    // Hour 1: 10.0.1.1 fails again but was tried before; 10.0.1.3 is new and failed, 10.0.1.4 new and
    // answered; ports 23 and 80 are new. DNS beyond 100 bytes a packet: 230 − 100 and 300 − 2 × 100.
    assert_eq!((h("new_failed_dsts", 3600.0), h("new_dst_ports", 3600.0)), (1.0, 2.0));
    assert_eq!(h("dns_long_bytes", 3600.0), 230.0);
    let pairs = aggregate(&log, &AggregateParams::default(), Level::Pair).unwrap();
    assert_eq!(value(&pairs, "dns_long_bytes", "10.0.0.5", Some("10.0.0.53"), 3600.0), 230.0);
    assert_eq!(value(&pairs, "dns_long_bytes", "10.0.0.5", Some("10.0.1.4"), 3600.0), 0.0);
    // Over the whole log every destination is a first contact.
    let all = AggregateParams { window: Window::All, ..AggregateParams::default() };
    let whole = aggregate(&log, &all, Level::Host).unwrap();
    let row = whole.row_of("10.0.0.5", None, 100.0).unwrap();
    assert_eq!(whole.value("new_failed_dsts", row), Some(3.0));
    assert_eq!(whole.value("new_dst_ports", row), Some(4.0));
}

#[test]
fn polled_targets_are_not_probes() {
    let log = zeek(&[
        // Polled: three failures on one port in the hour.
        "100.0 10.0.0.5 10.0.1.1 80 tcp - - - - S0 1 0 benign",
        "1300.0 10.0.0.5 10.0.1.1 80 tcp - - - - S0 1 0 benign",
        "2500.0 10.0.0.5 10.0.1.1 80 tcp - - - - S0 1 0 benign",
        // Probed: two ports, one failure each.
        "110.0 10.0.0.5 10.0.1.2 22 tcp - - - - S0 1 0 benign",
        "120.0 10.0.0.5 10.0.1.2 23 tcp - - - - REJ 1 1 benign",
        // Probed: one port tried twice.
        "130.0 10.0.0.5 10.0.1.3 22 tcp - - - - S0 1 0 benign",
        "140.0 10.0.0.5 10.0.1.3 22 tcp - - - - S0 1 0 benign",
    ]);
    let new_failed = |most: Option<u32>| {
        let params = AggregateParams { max_probe_attempts: most, ..AggregateParams::default() };
        value(&aggregate(&log, &params, Level::Host).unwrap(), "new_failed_dsts", "10.0.0.5", None, 0.0)
    };
    assert_eq!(AggregateParams::default().max_probe_attempts, Some(outflow_aggregate::MAX_PROBE_ATTEMPTS));
    assert_eq!(new_failed(Some(2)), 2.0);
    assert_eq!(new_failed(Some(3)), 3.0);
    assert_eq!(new_failed(Some(1)), 1.0);
    assert_eq!(new_failed(None), 3.0);
    let zero = AggregateParams { max_probe_attempts: Some(0), ..AggregateParams::default() };
    assert!(zero.validate().unwrap_err().to_string().contains("max_probe_attempts"));
}

#[test]
fn beacons_sharing_a_clock_are_counted_and_discounted_on_the_host() {
    // 10.0.0.9 polls three servers every 60 s (a monitoring clock); 10.0.0.5 calls one home every 300 s
    // and 10.0.0.7 every 66 s (within 10 % of 60 s, but another source).
    let mut records = Vec::new();
    for k in 0..12 {
        for (dst, offset) in [("10.0.1.1", 0.0), ("10.0.1.2", 1.0), ("10.0.1.3", 2.0)] {
            records.push(format!("{} 10.0.0.9 {dst} 161 udp snmp 0.1 80 200 SF 1 1 benign", 60.0 * k as f64 + offset));
        }
        records.push(format!("{} 10.0.0.7 10.0.1.1 443 tcp ssl 0.1 300 900 SF 3 3 benign", 66.0 * k as f64));
    }
    for k in 0..10 {
        records.push(format!("{} 10.0.0.5 203.0.113.9 443 tcp ssl 0.2 220 400 SF 4 4 evil", 300.0 * k as f64));
    }
    let refs: Vec<&str> = records.iter().map(String::as_str).collect();
    let log = zeek(&refs);
    let pairs = aggregate(&log, &AggregateParams::default(), Level::Pair).unwrap();
    let p = |src: &str, dst: &str, c: &str| value(&pairs, c, src, Some(dst), 0.0);
    for dst in ["10.0.1.1", "10.0.1.2", "10.0.1.3"] {
        assert!(p("10.0.0.9", dst, "beacon_score") > 0.5);
        assert_eq!(p("10.0.0.9", dst, "beacon_peers"), 3.0);
    }
    assert_eq!(p("10.0.0.7", "10.0.1.1", "beacon_peers"), 1.0);
    let home = p("10.0.0.5", "203.0.113.9", "beacon_score");
    assert!(home > 0.5);
    assert_eq!(p("10.0.0.5", "203.0.113.9", "beacon_peers"), 1.0);
    // Hosts take the highest beacon score of their pairs, each divided by its peers on the clock.
    let hosts = aggregate(&log, &AggregateParams::default(), Level::Host).unwrap();
    let poller = (1..=3).map(|i| p("10.0.0.9", &format!("10.0.1.{i}"), "beacon_score") / 3.0).fold(0.0, f64::max);
    assert_eq!(value(&hosts, "beacon_max", "10.0.0.9", None, 0.0), poller);
    assert_eq!(value(&hosts, "beacon_max", "10.0.0.5", None, 0.0), home);
}

#[test]
fn links_map_flows_to_their_rows() {
    let log = small_log();
    let hosts = aggregate(&log, &AggregateParams::default(), Level::Host).unwrap();
    let links = hosts.link(&log).unwrap();
    assert_eq!(links[4], [hosts.row_of("10.0.0.2", None, 4000.0), hosts.row_of("10.0.0.1", None, 4000.0)]);
    let pairs = aggregate(&log, &AggregateParams::default(), Level::Pair).unwrap();
    assert_eq!(pairs.link(&log).unwrap()[0], [pairs.row_of("10.0.0.1", Some("8.8.8.8"), 0.0), None]);
}

#[test]
fn internal_networks_and_whole_log_windows() {
    let params =
        AggregateParams { window: Window::All, internal: Some("10.0.0.1/32".parse().unwrap()), ..Default::default() };
    let hosts = aggregate(&small_log(), &params, Level::Host).unwrap();
    assert_eq!(hosts.len(), 3);
    // With only 10.0.0.1 inside, its SSH connection to 10.0.0.2 leaves the network too.
    assert_eq!(value(&hosts, "external_dsts", "10.0.0.1", None, 0.0), 2.0);
    let row = hosts.row_of("10.0.0.1", None, 0.0).unwrap();
    assert_eq!((hosts.value("window_start", row), hosts.value("window_end", row)), (Some(100.0), Some(4000.0)));
}

#[test]
fn cicflowmeter_columns_and_date_times() {
    let t = Table::new(vec![
        Column::from_str_opt("Src IP", [Some("192.168.10.5"), Some("192.168.10.5"), Some("192.168.10.9")]),
        Column::from_str_opt("Dst IP", [Some("52.1.1.1"), Some("52.1.1.1"), Some("192.168.10.5")]),
        Column::from_i64_opt("Dst Port", [Some(443), Some(443), Some(22)]),
        Column::from_str_opt("Timestamp", [Some("7/7/2017 8:59"), Some("07/07/2017 09:10:00"), Some("7/7/2017 9:59")]),
        Column::from_f64("Flow Duration", vec![2_000_000.0, 1_000_000.0, 500.0]),
        Column::from_f64("Total Fwd Packets", vec![10.0, 4.0, 1.0]),
        Column::from_f64("Total Backward Packets", vec![8.0, 0.0, 0.0]),
        Column::from_f64("Total Length of Fwd Packets", vec![1000.0, 50.0, 0.0]),
        Column::from_f64("Total Length of Bwd Packets", vec![9000.0, 0.0, 0.0]),
        Column::from_str_opt("Label", [Some("BENIGN"), Some("BENIGN"), Some("PortScan")]),
    ])
    .unwrap();
    let day = AggregateParams { window: "1d".parse().unwrap(), ..Default::default() };
    let pairs = aggregate(&t, &day, Level::Pair).unwrap();
    let ts = outflow_aggregate::parse_timestamp("2017-07-07 08:00:00").unwrap();
    let p = |c: &str| value(&pairs, c, "192.168.10.5", Some("52.1.1.1"), ts);
    assert_eq!((p("flows"), p("bytes_out"), p("bytes_in")), (2.0, 1050.0, 9000.0));
    assert_eq!(p("duration_total"), 3.0, "microseconds become seconds");
    assert_eq!(p("failed_fraction"), 0.5, "no backward packet: no reply");
    assert_eq!(p("interval_median"), 660.0);
    assert_eq!(pairs.label_names(), ["Label"]);
}

/// Argus (CTU-13's `binetflow`): `SrcAddr`, `Dport`, `StartTime` as year-first text with slashes,
/// `SrcBytes` and `DstBytes`, `Dur` in seconds.
#[test]
fn argus_columns_and_date_times() {
    let t = csv_log(
        "capture.binetflow",
        "StartTime,Dur,Proto,SrcAddr,Sport,Dir,DstAddr,Dport,State,TotPkts,SrcPkts,DstPkts,SrcBytes,DstBytes,Label\n\
             2011/08/10 09:46:53.047277,3.5,tcp,147.32.84.165,1027,->,60.190.223.75,888,S_RA,4,2,2,124,120,flow=From-Botnet\n\
             2011/08/10 09:47:03.100000,0.5,tcp,147.32.84.165,1028,->,60.190.223.75,888,S_RA,3,3,0,180,0,flow=From-Botnet\n\
             2011/08/10 11:00:00.000000,1.0,udp,147.32.84.229,53,<->,147.32.80.9,53,CON,2,1,1,70,90,flow=Background\n",
    );
    let pairs = aggregate(&t, &AggregateParams::default(), Level::Pair).unwrap();
    let hour = outflow_aggregate::parse_timestamp("2011-08-10 09:00:00").unwrap();
    let p = |c: &str| value(&pairs, c, "147.32.84.165", Some("60.190.223.75"), hour);
    assert_eq!((p("flows"), p("bytes_out"), p("bytes_in")), (2.0, 304.0, 120.0));
    assert_eq!((p("packets_out"), p("packets_in")), (5.0, 2.0));
    assert_eq!(p("duration_total"), 4.0);
    assert_eq!(p("failed_fraction"), 0.5, "no packet back: no reply");
    let hosts = aggregate(&t, &AggregateParams::default(), Level::Host).unwrap();
    assert_eq!(hosts.len(), 4, "two hosts in each of two hours");
    assert_eq!(hosts.label_names(), ["Label"]);

    // CTU-13's own columns: the responder's bytes only inside `TotBytes`, no packets per direction.
    let t = csv_log(
        "capture20110816.binetflow",
        "StartTime,Dur,Proto,SrcAddr,Sport,Dir,DstAddr,Dport,State,sTos,dTos,TotPkts,TotBytes,SrcBytes,Label\n\
             2011/08/16 10:01:46.97,3.1,tcp,147.32.84.165,1040,   ->,74.125.39.27,25,S_,0,,3,186,186,flow=From-Botnet-V47-TCP-Attempt-SPAM\n\
             2011/08/16 10:02:00.00,0.2,tcp,147.32.84.165,1041,   ->,74.125.39.27,25,SRPA_SPA,0,0,12,2400,700,flow=From-Botnet-V47-TCP-Established-SPAM\n",
    );
    let pairs = aggregate(&t, &AggregateParams::default(), Level::Pair).unwrap();
    let hour = outflow_aggregate::parse_timestamp("2011-08-16 10:00:00").unwrap();
    let p = |c: &str| value(&pairs, c, "147.32.84.165", Some("74.125.39.27"), hour);
    assert_eq!((p("bytes_out"), p("bytes_in")), (886.0, 1700.0), "the reply's bytes: total less the source's");
    assert_eq!(p("failed_fraction"), 0.5, "an attempt whose total is the source's own bytes got no reply");
}

/// Joy's export as LUFlow writes it: addresses as integers, times in microseconds; and nProbe's
/// NetFlow names, where `IN_BYTES` go from source to destination.
#[test]
fn flow_exports_in_other_units_and_words() {
    let joy = Table::new(vec![
        Column::from_i64_opt("src_ip", [Some(47331), Some(47331), Some(786)]),
        Column::from_i64_opt("dest_ip", [Some(786), Some(786), Some(47331)]),
        Column::from_i64_opt("dest_port", [Some(445), Some(445), Some(8080)]),
        Column::from_i64_opt(
            "time_start",
            [Some(1_594_168_228_968_772), Some(1_594_168_231_104_076), Some(1_594_171_900_000_000)],
        ),
        Column::from_f64("bytes_out", vec![191.0, 10.0, 5.0]),
        Column::from_f64("bytes_in", vec![270.0, 0.0, 7.0]),
        Column::from_f64("duration", vec![0.4, 0.1, 1.0]),
    ])
    .unwrap();
    let pairs = aggregate(&joy, &AggregateParams::default(), Level::Pair).unwrap();
    let hour = outflow_aggregate::parse_timestamp("2020-07-08 00:00:00").unwrap();
    let p = |c: &str| value(&pairs, c, "47331", Some("786"), hour);
    assert_eq!((p("flows"), p("bytes_out"), p("bytes_in")), (2.0, 201.0, 270.0));
    let start = pairs.value("window_start", pairs.row_of("47331", Some("786"), hour).unwrap()).unwrap();
    assert_eq!(start, hour, "microseconds read as seconds: the flows' hour");
    assert_eq!(pairs.len(), 2, "the reply an hour later is its own window");

    let nprobe = Table::new(vec![
        Column::from_str_opt("IPV4_SRC_ADDR", [Some("10.0.0.1"), Some("10.0.0.1")]),
        Column::from_str_opt("IPV4_DST_ADDR", [Some("10.0.0.9"), Some("10.0.0.9")]),
        Column::from_i64_opt("L4_DST_PORT", [Some(80), Some(443)]),
        Column::from_i64_opt("FLOW_START_MILLISECONDS", [Some(1_594_168_228_500), Some(1_594_168_229_500)]),
        Column::from_f64("IN_BYTES", vec![100.0, 200.0]),
        Column::from_f64("OUT_BYTES", vec![1000.0, 0.0]),
        Column::from_f64("IN_PKTS", vec![2.0, 1.0]),
        Column::from_f64("OUT_PKTS", vec![3.0, 0.0]),
    ])
    .unwrap();
    let pairs = aggregate(&nprobe, &AggregateParams::default(), Level::Pair).unwrap();
    let p = |c: &str| value(&pairs, c, "10.0.0.1", Some("10.0.0.9"), hour);
    assert_eq!((p("bytes_out"), p("bytes_in"), p("packets_out"), p("packets_in")), (300.0, 1000.0, 3.0, 3.0));
    assert_eq!((p("distinct_dst_ports"), p("failed_fraction")), (2.0, 0.5));
}

#[test]
fn missing_parts_are_clear_errors() {
    let kdd = csv_log(
        "kdd.txt",
        "0,tcp,http,SF,181,5450,0,0,0,0,0,1,0,0,0,0,0,0,0,0,0,0,8,8,0,0,0,0,1,0,0,9,9,1,0,0.11,0,0,0,0,0,normal.\n",
    );
    let e = aggregate(&kdd, &AggregateParams::default(), Level::Host).unwrap_err();
    assert!(matches!(e, AggregateError::MissingColumn { role: "source address", .. }), "{e}");
    assert!(e.to_string().contains("id.orig_h") && e.to_string().contains("KDD"), "{e}");

    let no_time = Table::new(vec![
        Column::from_str_opt("id.orig_h", [Some("10.0.0.1")]),
        Column::from_str_opt("id.resp_h", [Some("10.0.0.2")]),
    ])
    .unwrap();
    let e = aggregate(&no_time, &AggregateParams::default(), Level::Pair).unwrap_err();
    assert!(e.to_string().contains("timestamp") && e.to_string().contains("--window all"), "{e}");
    let all = AggregateParams { window: Window::All, ..Default::default() };
    let pairs = aggregate(&no_time, &all, Level::Pair).unwrap();
    assert_eq!(pairs.len(), 1);
    assert!(pairs.table().column("window_start").unwrap().is_null(0));

    let bad_time = Table::new(vec![
        Column::from_str_opt("Src IP", [Some("10.0.0.1"), Some("10.0.0.1")]),
        Column::from_str_opt("Dst IP", [Some("10.0.0.2"), Some("10.0.0.2")]),
        Column::from_str_opt("Timestamp", [Some("7/7/2017 8:59"), Some("soon")]),
    ])
    .unwrap();
    let e = aggregate(&bad_time, &AggregateParams::default(), Level::Host).unwrap_err();
    assert_eq!(e, AggregateError::Timestamp { column: "Timestamp".into(), record: 2, value: "soon".into() }, "{e}");
    assert!(Aggregator::new(AggregateParams::default(), &[Level::Flow]).is_err());
}

/// A random flow: addresses from a small pool, times spread over three hours (in any order).
fn flow() -> impl Strategy<Value = (u8, u8, u32, u16, u32, u32, u8)> {
    (0u8..6, 0u8..6, 0u32..10_800, 1u16..6, 0u32..5000, 0u32..5000, 0u8..3)
}

fn table_of(flows: &[(u8, u8, u32, u16, u32, u32, u8)]) -> Table {
    let records: Vec<String> = flows
        .iter()
        .map(|&(s, d, t, port, ob, rb, st)| {
            let state = ["SF", "S0", "REJ"][st as usize];
            format!("{t}.5 10.0.0.{s} 10.0.1.{d} {port} tcp - 1.0 {ob} {rb} {state} 1 1 x{}", st % 2)
        })
        .collect();
    zeek(&records.iter().map(String::as_str).collect::<Vec<_>>())
}

fn cells(e: &Entities) -> Vec<Vec<String>> {
    let t = e.table();
    (0..t.n_rows()).map(|i| t.columns().iter().map(|c| c.value(i).to_string()).collect()).collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    /// Row order and batch boundaries change no aggregate.
    #[test]
    fn order_and_batches_do_not_matter(
        flows in proptest::collection::vec(flow(), 1..60),
        seed in any::<u64>(),
        split in 0usize..60,
    ) {
        let mut shuffled = flows.clone();
        let mut state = seed | 1;
        for i in (1..shuffled.len()).rev() {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            shuffled.swap(i, (state % (i as u64 + 1)) as usize);
        }
        for level in [Level::Host, Level::Pair] {
            let params = AggregateParams::default();
            let a = aggregate(&table_of(&flows), &params, level).unwrap();
            let b = aggregate(&table_of(&shuffled), &params, level).unwrap();
            prop_assert_eq!(cells(&a), cells(&b));
            let cut = split.min(shuffled.len() - 1).max(1).min(shuffled.len());
            let mut agg = Aggregator::new(params.clone(), &[level]).unwrap();
            agg.push(&table_of(&shuffled[..cut])).unwrap();
            if cut < shuffled.len() {
                agg.push(&table_of(&shuffled[cut..])).unwrap();
            }
            let out = agg.finish().unwrap();
            let c = if level == Level::Host { out.hosts } else { out.pairs }.unwrap();
            prop_assert_eq!(cells(&a), cells(&c));
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(32))]

    /// Aggregating one hour at a time, each after the contacts of the hours before (as a live watch
    /// does), counts the same first contacts as aggregating the whole log at once.
    #[test]
    fn first_contacts_carried_between_windows(flows in proptest::collection::vec(flow(), 1..80)) {
        let params = AggregateParams::default();
        let whole = aggregate(&table_of(&flows), &params, Level::Host).unwrap();
        let mut earlier = Contacts::new();
        let mut seen = 0;
        for hour in 0..3u32 {
            let part: Vec<_> = flows.iter().copied().filter(|f| f.2 / 3600 == hour).collect();
            if part.is_empty() {
                continue;
            }
            let mut agg = Aggregator::new(params.clone(), &[Level::Host]).unwrap();
            agg.push(&table_of(&part)).unwrap();
            let contacts = agg.contacts();
            let hosts = agg.finish_after(&earlier).unwrap().hosts.unwrap();
            earlier.absorb(contacts);
            let t = hosts.table();
            for row in 0..hosts.len() {
                let src = t.column("src").unwrap().value(row).to_string();
                let start = hosts.value("window_start", row).unwrap();
                let there = whole.row_of(&src, None, start).unwrap();
                for c in ["new_failed_dsts", "new_dst_ports"] {
                    prop_assert_eq!(hosts.value(c, row), whole.value(c, there), "{} of {} at {}", c, src, start);
                }
                seen += 1;
            }
        }
        prop_assert_eq!(seen, whole.len());
        // Forgetting the contacts of every hour makes every contact new again.
        earlier.forget_before(3);
        prop_assert!(earlier.is_empty());
    }
}

/// Larger than one parallel chunk: the thread count and batch sizes change nothing.
#[test]
fn chunks_threads_and_batches_do_not_matter() {
    let n = 150_000usize;
    let mut s = 0x1234_5678_9abc_def0u64;
    let mut next = move || {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        s
    };
    let (mut src, mut dst, mut ts, mut ob, mut port) = (vec![], vec![], vec![], vec![], vec![]);
    for _ in 0..n {
        src.push(format!("10.0.0.{}", next() % 40));
        dst.push(format!("172.16.{}.{}", next() % 3, next() % 50));
        ts.push(Some((next() % 20_000) as f64 + 0.5));
        ob.push(Some((next() % 5_000) as f64));
        port.push(Some((next() % 30) as i64));
    }
    let table = Table::new(vec![
        Column::from_str_opt("id.orig_h", src.iter().map(|s| Some(s.as_str()))),
        Column::from_str_opt("id.resp_h", dst.iter().map(|s| Some(s.as_str()))),
        Column::from_time_opt("ts", ts),
        Column::from_f64_opt("orig_bytes", ob),
        Column::from_i64_opt("id.resp_p", port),
    ])
    .unwrap();
    // Hours: six windows, none larger than a thread's share; a day and the whole log: one window, cut
    // into shares.
    for window in [Window::Tumbling { seconds: 3600 }, Window::Tumbling { seconds: 86_400 }, Window::All] {
        let params = AggregateParams { max_beacon_points: 64, window, ..Default::default() };
        same_whatever_the_chunks(&table, &params, n);
    }
}

fn same_whatever_the_chunks(table: &Table, params: &AggregateParams, n: usize) {
    for level in [Level::Host, Level::Pair] {
        let all = aggregate(table, params, level).unwrap();
        let one = rayon::ThreadPoolBuilder::new().num_threads(1).build().unwrap();
        let single = one.install(|| aggregate(table, params, level).unwrap());
        let three = rayon::ThreadPoolBuilder::new().num_threads(3).build().unwrap();
        assert_eq!(cells(&all), cells(&three.install(|| aggregate(table, params, level).unwrap())));
        assert_eq!(cells(&all), cells(&single));
        let mut agg = Aggregator::new(params.clone(), &[level]).unwrap();
        for start in (0..n).step_by(40_000) {
            let rows: Vec<usize> = (start..(start + 40_000).min(n)).collect();
            agg.push(&table.take_rows(&rows)).unwrap();
        }
        let out = agg.finish().unwrap();
        let batched = if level == Level::Host { out.hosts } else { out.pairs }.unwrap();
        assert_eq!(cells(&all), cells(&batched));
    }
}
