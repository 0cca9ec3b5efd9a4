//! The fitted pipeline applied to new flows, its consistency check, and what it tells about itself.

use outflow_core::Transform;
use outflow_io::{Family, Table};

use super::rows::{bind, build_matrix, evaluate, split_rows};
use super::{FORMAT_VERSION, InputKind, Prep, Prepared, Source, carried_table};
use crate::config::PrepParams;
use crate::error::{PrepError, Result};
use crate::pca::Pca;
use crate::scale::Scaler;

impl Prep {
    /// Transforms new flows by column name, exactly as at fit time.
    ///
    /// Every column feeding a feature or a value rule ([`Prep::required_columns`]) must be present
    /// with the same kind of type (numeric or text) as at fit time, else [`PrepError::MissingColumn`] /
    /// [`PrepError::WrongType`]; columns whose features were pruned are checked only when present
    /// ([`Prep::checked_columns`]); other columns are ignored. Rows that
    /// cannot be scored are not an error: their [`RowStatus`](crate::report::RowStatus) says why. Category levels and ports not
    /// seen at fit time go to the `=other` column when there is one, else encode as all zeros.
    pub fn transform(&self, table: &Table) -> Result<Prepared> {
        self.check()?;
        let bound = bind(&self.inputs, table)?;
        let (rows, kept) = split_rows(evaluate(&self.inputs, &bound, &self.rules, table.n_rows()));
        let unscaled = build_matrix(&self.inputs, &bound, &self.features, &kept);
        let compressed = super::compressed(&self.config, &self.feature_names(), &unscaled);
        let scaled = self.scaler.transform(compressed.as_ref().unwrap_or(&unscaled).view())?;
        let projected = self.pca.as_ref().map(|p| p.transform(scaled.view())).transpose()?;
        let carried = carried_table(table, &self.carried, &kept);
        Ok(Prepared { features: self.feature_names(), unscaled, scaled, projected, rows, kept, carried })
    }

    /// Checks the internal consistency of a (possibly deserialised) fitted state, so that a corrupt
    /// file is an error rather than a panic.
    fn check(&self) -> Result<()> {
        let bad = |what: &str| Err(PrepError::Corrupt(what.to_owned()));
        if self.version != FORMAT_VERSION {
            return bad(&format!("format version {} (expected {FORMAT_VERSION})", self.version));
        }
        let n_in = self.inputs.len();
        for f in &self.features {
            let ok = match f.source {
                Source::Value { input } => input < n_in && matches!(self.inputs[input].kind, InputKind::Numeric { .. }),
                Source::Level { input, level } => {
                    input < n_in
                        && match &self.inputs[input].kind {
                            InputKind::Categorical { levels, .. } => level < levels.len(),
                            InputKind::Port { ports, .. } => level < ports.len(),
                            InputKind::Numeric { .. } => false,
                        }
                }
                Source::Other { input } => {
                    input < n_in && !matches!(self.inputs[input].kind, InputKind::Numeric { .. })
                }
                Source::Rarity { input } => {
                    input < n_in
                        && matches!(&self.inputs[input].kind, InputKind::Categorical { rarity: Some(t), .. } if t.is_sound())
                }
            };
            if !ok || !self.inputs[f.source.input()].required {
                return bad(&format!("feature '{}' has an invalid source", f.name));
            }
        }
        if self.rules.iter().any(|r| r.input >= n_in || !self.inputs[r.input].required) {
            return bad("a value rule refers to a missing input");
        }
        if self.scaler.n_features() != self.features.len() {
            return bad("scaler and feature list disagree");
        }
        let scaler_ok = match &self.scaler {
            Scaler::Robust { center: a, scale: b } | Scaler::Standard { mean: a, scale: b } => a.len() == b.len(),
            Scaler::MinMax { scale, min, .. } => scale.len() == min.len(),
            Scaler::Identity { .. } => true,
        };
        if !scaler_ok {
            return bad("scaler vectors have different lengths");
        }
        if let Some(p) = &self.pca
            && (p.mean.len() != self.features.len() || p.components.ncols() != self.features.len())
        {
            return bad("PCA and feature list disagree");
        }
        Ok(())
    }

    /// The output feature names, in order.
    pub fn feature_names(&self) -> Vec<String> {
        self.features.iter().map(|f| f.name.clone()).collect()
    }

    /// The input columns a table must have for [`Prep::transform`] (those feeding a feature or a
    /// value rule).
    pub fn required_columns(&self) -> Vec<&str> {
        self.inputs.iter().filter(|i| i.required).map(|i| i.name.as_str()).collect()
    }

    /// Every input column read when present: the required ones, plus columns whose features were
    /// pruned — they were checked for missing and non-finite values at fit time, and are again when
    /// present, so that transforming the training table reproduces the fit exactly.
    pub fn checked_columns(&self) -> Vec<&str> {
        self.inputs.iter().map(|i| i.name.as_str()).collect()
    }

    /// The configuration it was fitted with.
    pub fn config(&self) -> &PrepParams {
        &self.config
    }

    /// The preset of that configuration.
    pub fn preset(&self) -> Family {
        self.config.preset
    }

    /// The fitted scaler.
    pub fn scaler(&self) -> &Scaler {
        &self.scaler
    }

    /// The fitted PCA, if the pipeline projects.
    pub fn pca(&self) -> Option<&Pca> {
        self.pca.as_ref()
    }

    /// The label columns carried with the rows.
    pub fn carried_columns(&self) -> &[String] {
        &self.carried
    }

    /// Version of the serialised layout.
    pub fn format_version(&self) -> u32 {
        self.version
    }
}
