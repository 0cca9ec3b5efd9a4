//! CSV reading throughput (bytes per second of input), single thread.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use outflow::io::{CsvOptions, Input, read_csv};
use outflow_benches::flow_like_csv;

fn csv_read(c: &mut Criterion) {
    let data = flow_like_csv(200_000, 20, 7);
    let mut g = c.benchmark_group("csv");
    g.throughput(Throughput::Bytes(data.len() as u64));
    g.sample_size(10);
    let input = Input::bytes("bench.csv", data);
    let opts = CsvOptions { delimiter: Some(b','), ..Default::default() };
    g.bench_function("read_csv_200k_x_20", |b| b.iter(|| read_csv(std::hint::black_box(&input), &opts).unwrap()));
    g.finish();
}

criterion_group!(benches, csv_read);
criterion_main!(benches);
