//! Aggregation of flows into host and pair rows (one-hour windows), both levels in one pass.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use outflow::aggregate::{AggregateParams, Aggregator, Level};
use outflow_benches::flow_table;

fn aggregate(c: &mut Criterion) {
    let flows = flow_table(1_000_000, 2_000, 3);
    let mut g = c.benchmark_group("aggregate");
    g.throughput(Throughput::Elements(flows.n_rows() as u64));
    g.sample_size(10);
    g.bench_function("hosts_and_pairs_1m_flows_1h", |b| {
        b.iter(|| {
            let mut agg = Aggregator::new(AggregateParams::default(), &[Level::Host, Level::Pair]).unwrap();
            agg.push(std::hint::black_box(&flows)).unwrap();
            agg.finish().unwrap()
        })
    });
    g.finish();
}

criterion_group!(benches, aggregate);
criterion_main!(benches);
