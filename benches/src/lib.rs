//! Data generators shared by the criterion benches and the side-by-side scripts, and the simulator of
//! planted behaviours ([`simulate`]).

pub mod simulate;

/// A deterministic numeric CSV that looks like a flow export: `cols` columns mixing counts, rates with
/// several decimals and occasional empty (null) fields. About `rows * cols * 8` bytes.
pub fn flow_like_csv(rows: usize, cols: usize, seed: u64) -> Vec<u8> {
    let mut s = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
    let mut next = || {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        s
    };
    let mut out = Vec::with_capacity(rows * cols * 9);
    for j in 0..cols {
        if j > 0 {
            out.push(b',');
        }
        out.extend_from_slice(format!("feature_{j}").as_bytes());
    }
    out.push(b'\n');
    for _ in 0..rows {
        for j in 0..cols {
            if j > 0 {
                out.push(b',');
            }
            let r = next();
            match j % 4 {
                0 => out.extend_from_slice((r % 100_000).to_string().as_bytes()),
                1 => out.extend_from_slice(format!("{:.3}", (r % 1_000_000) as f64 / 7.0).as_bytes()),
                2 if r % 50 == 0 => {}
                2 => out.extend_from_slice((r % 1500).to_string().as_bytes()),
                _ => out.extend_from_slice(format!("{:.6}", (r % 1000) as f64 / 1000.0).as_bytes()),
            }
        }
        out.push(b'\n');
    }
    out
}

/// A deterministic, row-major `rows × cols` flow-like matrix: heavy-tailed byte and packet counts,
/// signed rates, durations and 0/1 flags driven by 8 shared latent factors (so many column pairs
/// correlate), and one constant column (index 13, like CICFlowMeter's URG flag counters) when `cols > 13`.
pub fn flow_matrix(rows: usize, cols: usize, seed: u64) -> Vec<f64> {
    let mut s = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
    let mut normal = move || {
        // Sum of four uniforms, centred: a cheap bell shape.
        let mut acc = 0.0;
        for _ in 0..4 {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            acc += (s >> 11) as f64 / (1u64 << 53) as f64;
        }
        (acc - 2.0) * 1.7320508075688772
    };
    let mut out = Vec::with_capacity(rows * cols);
    let mut f = [0.0f64; 8];
    for _ in 0..rows {
        f.iter_mut().for_each(|v| *v = normal());
        for j in 0..cols {
            let (a, b, e) = (f[j % 8], f[(3 * j + 1) % 8], normal());
            out.push(match j % 5 {
                _ if j == 13 => 0.0,
                0 => (1.0 + a.abs() + 0.3 * e).exp().round(),
                1 => (4.0 + 1.5 * a + 0.5 * e).exp().round(),
                2 => ((a + 0.5 * b + 0.2 * e) * 1000.0).round() / 1000.0,
                3 => f64::from(u8::from(a + 0.3 * e > 1.0)),
                _ => (b + 0.4 * e).exp(),
            });
        }
    }
    out
}

/// A deterministic, row-major `rows × cols` matrix of `centres` Gaussian-ish blobs (like scikit-learn's
/// `make_blobs`: centres uniform in [−10, 10] per feature, spread `std`), rows cycling over the blobs.
pub fn blobs_matrix(rows: usize, cols: usize, centres: usize, std: f64, seed: u64) -> Vec<f64> {
    let mut s = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15).wrapping_add(0x2545_F491_4F6C_DD1D);
    let mut uniform = move || {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        (s >> 11) as f64 / (1u64 << 53) as f64
    };
    let c: Vec<f64> = (0..centres * cols).map(|_| uniform() * 20.0 - 10.0).collect();
    let mut out = Vec::with_capacity(rows * cols);
    for i in 0..rows {
        let b = i % centres.max(1);
        for j in 0..cols {
            // Sum of four uniforms, centred and scaled to unit variance.
            let e = ((0..4).map(|_| uniform()).sum::<f64>() - 2.0) * 1.7320508075688772;
            out.push(c[b * cols + j] + std * e);
        }
    }
    out
}

/// A deterministic Zeek-like flow table of `rows` connections over one day: `hosts` inside originators,
/// each talking to 30 responders of `hosts * 20` (so pairs are far fewer than flows, as in real traffic), with times, durations, bytes, packets, services and
/// connection states (a tenth unanswered). Columns are built directly (categorical codes), so a table
/// of ten million flows takes seconds to make.
pub fn flow_table(rows: usize, hosts: usize, seed: u64) -> outflow::io::Table {
    use outflow::io::{Categorical, Column, ColumnData};
    let mut s = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407) | 1;
    let mut next = move || {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        s
    };
    let peers = hosts * 20;
    let src_levels: Vec<String> =
        (0..hosts).map(|i| format!("10.{}.{}.{}", i >> 16, (i >> 8) & 255, i & 255)).collect();
    let dst_levels: Vec<String> =
        (0..peers).map(|i| format!("{}.{}.{}.{}", 20 + (i >> 16) % 180, (i >> 8) & 255, i & 255, 7)).collect();
    let services: Vec<String> = ["-", "dns", "ssl", "http", "ssh"].map(String::from).to_vec();
    let states: Vec<String> = ["SF", "S0", "REJ", "RSTO"].map(String::from).to_vec();
    let (mut src, mut dst, mut svc, mut st) = (vec![0u32; rows], vec![0u32; rows], vec![0u32; rows], vec![0u32; rows]);
    let (mut ts, mut dur, mut ob, mut rb, mut op, mut rp, mut port) = (
        vec![0.0; rows],
        vec![0.0; rows],
        vec![0.0; rows],
        vec![0.0; rows],
        vec![0.0; rows],
        vec![0.0; rows],
        vec![0.0; rows],
    );
    for i in 0..rows {
        let r = next();
        src[i] = (r % hosts as u64) as u32;
        dst[i] = ((src[i] as u64 * 7919 + (r >> 20) % 30) % peers as u64) as u32;
        svc[i] = ((r >> 40) % 5) as u32;
        let failed = (r >> 44) % 10 == 0;
        st[i] = if failed { 1 + ((r >> 48) % 3) as u32 } else { 0 };
        let r2 = next();
        ts[i] = 1_709_510_400.0 + (r2 % 86_400_000) as f64 / 1000.0;
        dur[i] = if failed { 0.0 } else { ((r2 >> 27) % 100_000) as f64 / 1000.0 };
        ob[i] = if failed { 0.0 } else { ((r2 >> 17) % 20_000) as f64 };
        rb[i] = if failed { 0.0 } else { ((r2 >> 33) % 200_000) as f64 };
        op[i] = 1.0 + (ob[i] / 1400.0).floor();
        rp[i] = if failed { 0.0 } else { 1.0 + (rb[i] / 1400.0).floor() };
        port[i] = [53.0, 443.0, 80.0, 22.0][((r2 >> 50) % 4) as usize] + ((r2 >> 52) % 12) as f64 * 1000.0;
    }
    let cat = |name: &str, codes: Vec<u32>, levels: &[String]| {
        Column::new(name, ColumnData::Categorical(Categorical::new(codes, levels.to_vec()).expect("codes in range")))
    };
    let time = |name: &str, v: Vec<f64>| Column::new(name, ColumnData::Time(v));
    outflow::io::Table::new(vec![
        time("ts", ts),
        cat("id.orig_h", src, &src_levels),
        cat("id.resp_h", dst, &dst_levels),
        Column::new("id.resp_p", ColumnData::Int(port.iter().map(|&p| p as i64).collect())),
        cat("service", svc, &services),
        Column::new("duration", ColumnData::Interval(dur)),
        Column::from_f64("orig_bytes", ob),
        Column::from_f64("resp_bytes", rb),
        cat("conn_state", st, &states),
        Column::from_f64("orig_pkts", op),
        Column::from_f64("resp_pkts", rp),
    ])
    .expect("columns of one length")
}
