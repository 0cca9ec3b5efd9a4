//! Explain a labelling with a surrogate random forest: Gini importance, permutation importance and exact
//! TreeSHAP per class. The labels depend on 2 of 5 features, and all three measures rank those first.
//!
//! `cargo run -p outflow-explain --example explain_labels`

use ndarray::{Array2, Axis};
use outflow_explain::{FitSupervised, PermutationParams, RandomForestParams, permutation_importance};

const NAMES: [&str; 5] = ["noise_a", "bytes", "noise_b", "duration", "noise_c"];

/// `n` rows of 5 uniform features (xorshift64*, deterministic) and a label from `bytes` and `duration`
/// alone.
fn data(n: usize, mut state: u64) -> (Array2<f64>, Vec<i64>) {
    let mut uniform = move || {
        state ^= state >> 12;
        state ^= state << 25;
        state ^= state >> 27;
        (state.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 11) as f64 / (1u64 << 53) as f64
    };
    let x = Array2::from_shape_simple_fn((n, NAMES.len()), &mut uniform);
    let y = x.rows().into_iter().map(|r| label(r[1], r[3])).collect();
    (x, y)
}

/// The class of a flow: 0 for small transfers, else 1 (short) or 2 (long).
fn label(bytes: f64, duration: f64) -> i64 {
    if bytes < 0.4 {
        0
    } else if duration < 0.5 {
        1
    } else {
        2
    }
}

/// Whether the two largest values belong to `bytes` and `duration`.
fn informative_first(importance: &[f64]) -> bool {
    let mut order: Vec<usize> = (0..importance.len()).collect();
    order.sort_by(|&a, &b| importance[b].total_cmp(&importance[a]));
    order[..2].iter().all(|&j| j == 1 || j == 3)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let (x, y) = data(600, 1);
    let params = RandomForestParams { n_estimators: 50, max_depth: Some(6), seed: 7, ..Default::default() };
    let forest = params.fit(x.view(), &y)?;

    // Permutation importance on rows the forest has not seen, so it measures generalisation.
    let (x_test, y_test) = data(300, 2);
    println!(
        "training accuracy {:.3}, held-out accuracy {:.3}",
        forest.accuracy(x.view(), &y)?,
        forest.accuracy(x_test.view(), &y_test)?
    );
    let perm = permutation_importance(&forest, x_test.view(), &y_test, &PermutationParams { n_repeats: 10, seed: 3 })?;
    let gini = forest.feature_importances();

    // SHAP: rows × features × classes; the mean |φ| per feature and class says what drives each class.
    let shap = forest.shap_values(x_test.view())?;
    let mean_abs = shap.mean_abs();
    let classes = forest.classes();

    let mut order: Vec<usize> = (0..NAMES.len()).collect();
    order.sort_by(|&a, &b| gini[b].total_cmp(&gini[a]));
    print!("\n{:<10} {:>6} {:>16}", "feature", "gini", "permutation");
    for c in classes {
        print!(" {:>10}", format!("|SHAP| {c}"));
    }
    println!();
    for &j in &order {
        print!("{:<10} {:>6.3} {:>8.3} ± {:.3}", NAMES[j], gini[j], perm.mean[j], perm.std[j]);
        for c in 0..classes.len() {
            print!(" {:>10.4}", mean_abs[[j, c]]);
        }
        println!();
    }

    let shap_total = mean_abs.sum_axis(Axis(1)).to_vec();
    println!("\ninformative features (bytes, duration) rank first:");
    println!("  by Gini {}", informative_first(&gini));
    println!("  by permutation {}", informative_first(&perm.mean));
    println!("  by mean |SHAP| over classes {}", informative_first(&shap_total));
    Ok(())
}
