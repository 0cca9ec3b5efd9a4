//! Properties of the follower and the batcher: every line is handed out once and in order whatever
//! the writer does (appends cut anywhere, renames, truncations); a log parsed in batches of any sizes is
//! the log parsed whole, bad lines left out with their own line numbers.

use std::io::Write;
use std::path::Path;

use outflow::io::{Input, Schema, read_zeek};
use outflow_watch::batch::{Added, Batcher};
use outflow_watch::follow::{FollowState, Follower, Source, Start};
use proptest::prelude::*;

const HEADER: &str = "#separator \\x09\n#fields\tts\tuid\torig_bytes\n#types\ttime\tstring\tcount\n";

fn record(i: usize) -> String {
    format!("{}.5\tC{i}\t{}", 1_700_000_000 + i, i * 7)
}

#[derive(Debug, Clone)]
enum Op {
    /// Append these many lines, the last one cut at this many bytes (then finished by the next append).
    Append(usize, Option<usize>),
    /// Append without reading in between.
    AppendUnread(usize),
    /// Rename the file away and start a new one with a header.
    Rotate,
    /// Cut the file to nothing and write a header (the lines before were all read).
    Truncate,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (1usize..20, proptest::option::of(0usize..12)).prop_map(|(n, cut)| Op::Append(n, cut)),
        2 => (1usize..10).prop_map(Op::AppendUnread),
        1 => Just(Op::Rotate),
        1 => Just(Op::Truncate),
    ]
}

fn append(path: &Path, text: &str) {
    std::fs::OpenOptions::new().create(true).append(true).open(path).unwrap().write_all(text.as_bytes()).unwrap();
}

/// `n` new records as text, noted in `expected`.
fn records(n: usize, next: &mut usize, expected: &mut Vec<String>) -> String {
    let mut text = String::new();
    for _ in 0..n {
        let r = record(*next);
        *next += 1;
        expected.push(r.clone());
        text.push_str(&r);
        text.push('\n');
    }
    text
}

fn drain(f: &mut Follower, out: &mut Vec<String>) {
    // A rotation or truncation is noticed at the end of what was written: a few calls may return nothing
    // while the follower switches files.
    for _ in 0..4 {
        while let Some(line) = f.next_line().unwrap() {
            out.push(String::from_utf8(line.bytes).unwrap());
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn every_line_once_and_in_order(ops in proptest::collection::vec(op(), 1..24)) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("conn.log");
        std::fs::write(&path, HEADER).unwrap();
        let mut f = Follower::new(Source::File(path.clone()), FollowState::default(), Start::Beginning).unwrap();
        let mut expected: Vec<String> = HEADER.lines().map(str::to_owned).collect();
        let mut got = Vec::new();
        let mut next = 0usize;
        let mut partial: Option<String> = None;
        let mut rotations = 0;
        for op in ops {
            match op {
                Op::Append(n, cut) => {
                    let mut text = partial.take().unwrap_or_default();
                    text.push_str(&records(n, &mut next, &mut expected));
                    // The last line written only in part: its rest comes with the next write.
                    if let Some(c) = cut {
                        let r = record(next);
                        next += 1;
                        expected.push(r.clone());
                        let c = c.min(r.len());
                        text.push_str(&r[..c]);
                        partial = Some(r[c..].to_owned() + "\n");
                    }
                    append(&path, &text);
                    drain(&mut f, &mut got);
                }
                Op::AppendUnread(n) => {
                    let mut text = partial.take().unwrap_or_default();
                    text.push_str(&records(n, &mut next, &mut expected));
                    append(&path, &text);
                }
                Op::Rotate => {
                    if let Some(rest) = partial.take() {
                        append(&path, &rest);
                    }
                    rotations += 1;
                    std::fs::rename(&path, dir.path().join(format!("conn.{rotations}.log"))).unwrap();
                    // The new file's first record makes its start unlike any other's.
                    let r = record(next);
                    next += 1;
                    std::fs::write(&path, format!("{HEADER}{r}\n")).unwrap();
                    expected.extend(HEADER.lines().map(str::to_owned));
                    expected.push(r);
                    drain(&mut f, &mut got);
                }
                Op::Truncate => {
                    if let Some(rest) = partial.take() {
                        append(&path, &rest);
                    }
                    drain(&mut f, &mut got);
                    let len = std::fs::metadata(&path).unwrap().len();
                    if len > HEADER.len() as u64 {
                        std::fs::OpenOptions::new().write(true).open(&path).unwrap().set_len(0).unwrap();
                        append(&path, HEADER);
                        expected.extend(HEADER.lines().map(str::to_owned));
                        drain(&mut f, &mut got);
                    }
                }
            }
        }
        if let Some(rest) = partial.take() {
            append(&path, &rest);
        }
        drain(&mut f, &mut got);
        prop_assert_eq!(got, expected);
    }

    #[test]
    fn batches_of_any_size_parse_as_the_whole_log(
        n in 1usize..120,
        cuts in proptest::collection::vec(1usize..40, 1..10),
        bad in proptest::collection::vec(0usize..120, 0..4),
    ) {
        let mut lines: Vec<String> = HEADER.lines().map(str::to_owned).collect();
        let mut good = HEADER.to_owned();
        let mut bad_lines = Vec::new();
        for i in 0..n {
            if bad.contains(&i) {
                lines.push(format!("{}\tCbad\tnot-a-count", 1_700_000_000 + i));
                bad_lines.push(lines.len() as u64);
            }
            lines.push(record(i));
            good.push_str(&record(i));
            good.push('\n');
        }
        let whole = read_zeek(&Input::bytes("whole", good)).unwrap();
        let mut b = Batcher::new();
        let schema = Schema::default();
        let mut uids = Vec::new();
        let mut reported = Vec::new();
        let mut cut = cuts.iter().cycle();
        let mut until = *cut.next().unwrap();
        let name: std::sync::Arc<str> = std::sync::Arc::from("conn.log");
        for (i, text) in lines.iter().enumerate() {
            let line = outflow_watch::follow::Line {
                bytes: text.as_bytes().to_vec(),
                file: name.clone(),
                number: i as u64 + 1,
                new_file: i == 0,
            };
            let added = b.push(line);
            if added == Added::HeaderChange || b.len() >= until {
                until = *cut.next().unwrap();
                let (parsed, malformed) = b.take(&schema);
                reported.extend(malformed.iter().map(|m| m.at.line));
                if let Some(p) = parsed {
                    let c = p.table.column("uid").unwrap();
                    uids.extend((0..p.table.n_rows()).map(|r| c.str_at(r).unwrap().to_owned()));
                    for (r, o) in p.origins.iter().enumerate() {
                        prop_assert_eq!(&lines[o.line as usize - 1].split('\t').nth(1).unwrap(), &c.str_at(r).unwrap());
                    }
                }
            }
        }
        let (parsed, malformed) = b.take(&schema);
        reported.extend(malformed.iter().map(|m| m.at.line));
        if let Some(p) = parsed {
            let c = p.table.column("uid").unwrap();
            uids.extend((0..p.table.n_rows()).map(|r| c.str_at(r).unwrap().to_owned()));
        }
        let c = whole.column("uid").unwrap();
        let want: Vec<String> = (0..whole.n_rows()).map(|r| c.str_at(r).unwrap().to_owned()).collect();
        prop_assert_eq!(uids, want);
        reported.sort();
        prop_assert_eq!(reported, bad_lines);
    }
}

#[test]
fn a_restart_resumes_after_the_last_line_handed_out() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("conn.log");
    let mut text = HEADER.to_owned();
    for i in 0..10 {
        text.push_str(&record(i));
        text.push('\n');
    }
    std::fs::write(&path, &text).unwrap();
    let mut f = Follower::new(Source::File(path.clone()), FollowState::default(), Start::Beginning).unwrap();
    for _ in 0..8 {
        f.next_line().unwrap().unwrap();
    }
    let state = f.state();
    // Rotated while stopped: the rest of the old file is found next to it, then the new file is read.
    std::fs::rename(&path, dir.path().join("conn.log.1")).unwrap();
    std::fs::write(&path, format!("{HEADER}{}\n", record(99))).unwrap();
    let mut g = Follower::new(Source::File(path.clone()), state, Start::Beginning).unwrap();
    let mut rest = Vec::new();
    drain(&mut g, &mut rest);
    let mut want: Vec<String> = (5..10).map(record).collect();
    want.extend(HEADER.lines().map(str::to_owned));
    want.push(record(99));
    assert_eq!(rest, want);
    assert!(g.take_notices().iter().any(|n| n.contains("conn.log.1")));
}

#[test]
fn from_the_end_reads_only_new_lines_and_a_dir_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("conn.log");
    // The last line is still being written: it is read whole once finished.
    std::fs::write(&path, format!("{HEADER}{}\n{}", record(0), &record(1)[..5])).unwrap();
    let mut f = Follower::new(Source::File(path.clone()), FollowState::default(), Start::End).unwrap();
    let mut got = Vec::new();
    drain(&mut f, &mut got);
    // Only the header, which the lines after it need.
    assert_eq!(got, HEADER.lines().map(str::to_owned).collect::<Vec<_>>());
    got.clear();
    append(&path, &format!("{}\n{}\n", &record(1)[5..], record(2)));
    drain(&mut f, &mut got);
    assert_eq!(got, vec![record(1), record(2)]);

    // A directory: rotated files by name (dated directories first), then current/.
    let logs = dir.path().join("logs");
    for (sub, name, i) in
        [("2024-03-05", "conn.00:00:00-01:00:00.log", 3), ("2024-03-04", "conn.23:00:00-00:00:00.log", 4)]
    {
        std::fs::create_dir_all(logs.join(sub)).unwrap();
        let rotated = logs.join(sub).join(name);
        std::fs::write(&rotated, format!("{HEADER}{}\n", record(i))).unwrap();
        // Rotated an hour ago: a file written a moment ago may still be being copied in.
        let an_hour_ago = std::time::SystemTime::now() - std::time::Duration::from_secs(3600);
        std::fs::File::options().write(true).open(&rotated).unwrap().set_modified(an_hour_ago).unwrap();
    }
    std::fs::create_dir_all(logs.join("current")).unwrap();
    std::fs::write(logs.join("current").join("conn.log"), format!("{HEADER}{}\n", record(5))).unwrap();
    std::fs::write(logs.join("current").join("dns.log"), "not a conn log\n").unwrap();
    let source = Source::Dir { dir: logs.clone(), log: "conn".into() };
    let mut d = Follower::new(source, FollowState::default(), Start::Beginning).unwrap();
    let mut got = Vec::new();
    drain(&mut d, &mut got);
    let records: Vec<String> = got.into_iter().filter(|l| !l.starts_with('#')).collect();
    assert_eq!(records, vec![record(4), record(3), record(5)]);
}

/// A byte-order mark before a log's first line is not data (it made the header a record).
#[test]
fn a_byte_order_mark_before_the_header_is_skipped() {
    let mut b = Batcher::new();
    let name: std::sync::Arc<str> = std::sync::Arc::from("conn.log");
    let text = format!("\u{feff}{HEADER}{}\n{}\n", record(0), record(1));
    for (i, line) in text.lines().enumerate() {
        b.push(outflow_watch::follow::Line {
            bytes: line.as_bytes().to_vec(),
            file: name.clone(),
            number: i as u64 + 1,
            new_file: i == 0,
        });
    }
    let (parsed, malformed) = b.take(&Schema::default());
    assert!(malformed.is_empty(), "{:?}", malformed.iter().map(|m| &m.message).collect::<Vec<_>>());
    assert_eq!(parsed.unwrap().table.n_rows(), 2);
}
