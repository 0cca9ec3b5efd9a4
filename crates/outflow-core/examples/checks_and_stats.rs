//! The building blocks every Outflow crate shares: input checks with typed errors, statistics with
//! numpy's definitions, the mid-rank empirical CDF, the seeded row sampler and atomic file writes.
//!
//! `cargo run -p outflow-core --example checks_and_stats`

use ndarray::array;
use outflow_core::{Ecdf, InputError, WriteError, check_finite, check_matrix, sample_indices, stats, write_atomic};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // Checks: a clean matrix passes; a NaN is reported with its (0-based) row and column.
    let clean = array![[1.0, 2.0], [3.0, 4.0]];
    check_matrix(clean.view())?;
    let dirty = array![[1.0, 2.0], [3.0, f64::NAN]];
    match check_matrix(dirty.view()) {
        // Callers match on the variant, never on the message text.
        Err(e @ InputError::NonFinite { row, col, .. }) => println!("check_matrix: row {row}, col {col}: {e}"),
        other => println!("check_matrix: unexpected {other:?}"),
    }
    let empty = ndarray::Array2::<f64>::zeros((0, 3));
    println!("check_matrix(0×3): {}", check_matrix(empty.view()).unwrap_err());
    // check_finite alone accepts an empty matrix: only the values are checked.
    println!("check_finite(0×3): {:?}", check_finite(empty.view()));

    // Statistics: the same numbers numpy gives, to the last bit.
    let x = [10.0, 1.0, 3.0, 2.0, 4.0];
    println!("\nnp.percentile(x, 50) = {}", stats::percentile(&x, 50.0));
    println!("np.percentile(x, 95) = {}", stats::percentile(&x, 95.0));
    let mut scratch = x.to_vec(); // median reorders its input (linear-time selection)
    println!("np.median(x)         = {}", stats::median(&mut scratch));
    let sorted = [1.0, 2.0, 3.0, 4.0];
    println!("np.quantile([1,2,3,4], 0.95) = {:?}", stats::quantile_sorted(&sorted, 0.95));

    // Ecdf: where a new value falls among training values; ties count half.
    let ecdf = Ecdf::new(&[1.0, 2.0, 2.0, 3.0, 8.0]);
    println!("\nEcdf of {:?}", ecdf.values());
    for v in [0.0, 2.0, 5.0, 9.0] {
        println!("  rank({v}) = {:.2}", ecdf.rank(v));
    }

    // Seeded sampling: same seed, same rows, on every platform.
    let a = sample_indices(1_000_000, 8, 42);
    let b = sample_indices(1_000_000, 8, 42);
    println!("\nsample_indices(1e6, 8, seed 42) = {a:?} (repeatable: {})", a == b);
    println!("sample_indices(1e6, 8, seed 43) = {:?}", sample_indices(1_000_000, 8, 43));

    // Atomic writes: readers never see half a file, and nothing is replaced unless asked.
    let path = std::env::temp_dir().join(format!("outflow-core-example-{}.csv", std::process::id()));
    write_atomic(&path, b"a,b\n1,2\n", false)?;
    match write_atomic(&path, b"x", false) {
        Err(e @ WriteError::Exists(_)) => println!("\nsecond write refused: {e}"),
        other => println!("\nsecond write: unexpected {other:?}"),
    }
    write_atomic(&path, b"a,b\n3,4\n", true)?;
    println!("after overwrite: {:?}", std::fs::read_to_string(&path)?);
    std::fs::remove_file(&path)?;
    Ok(())
}
