//! JSON flows → a typed table the fitted preparation reads, with errors that name the flow and field.

use outflow::Detector;
use outflow::io::{Column, DataType, Table};
use outflow::prep::Missing;
use serde_json::{Map, Value};

use crate::error::{ApiError, FlowProblem};

/// How one model input is read from a JSON flow.
#[derive(Debug, Clone)]
pub(crate) struct FieldSpec {
    pub name: String,
    pub dtype: DataType,
    /// The model must have it (else it is only checked when present).
    pub required: bool,
    /// A null value is imputed by the preparation.
    pub optional: bool,
    /// The field may be left out: a category (unset is a level of its own) or a number the log family
    /// leaves unset when nothing was measured (Zeek's `duration`, bytes). Any other field left out is
    /// an error, not a zero: a misspelt name must not score as a flow that sent nothing.
    pub may_be_absent: bool,
}

/// The fields a model reads, from its input schema and preparation.
pub(crate) fn field_specs(d: &Detector) -> Vec<FieldSpec> {
    let required: Vec<&str> = d.required_columns();
    let missing = &d.prep().config().missing;
    d.prep()
        .checked_columns()
        .into_iter()
        .map(|name| {
            let dtype = d.input_schema().get(name).map_or(DataType::Float, |f| f.dtype);
            let imputed = match dtype {
                // Null categories become the level "(unset)"; null numbers follow the column's policy.
                DataType::Categorical => true,
                _ => missing.policy(name) != Missing::DropRow,
            };
            let listed =
                missing.columns.iter().any(|(k, m)| k.trim().eq_ignore_ascii_case(name) && *m != Missing::DropRow);
            FieldSpec {
                name: name.to_owned(),
                dtype,
                required: required.contains(&name),
                optional: imputed,
                may_be_absent: dtype == DataType::Categorical || listed,
            }
        })
        .collect()
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Looks a field up by its dotted name, also inside nested objects (`{"id": {"orig_h": ...}}`).
fn lookup<'a>(flow: &'a Map<String, Value>, name: &str) -> Option<&'a Value> {
    if let Some(v) = flow.get(name) {
        return Some(v);
    }
    let (head, rest) = name.split_once('.')?;
    match flow.get(head)? {
        Value::Object(inner) => lookup(inner, rest),
        _ => None,
    }
}

enum Cells {
    F64(Vec<Option<f64>>),
    I64(Vec<Option<i64>>),
    Bool(Vec<Option<bool>>),
    Str(Vec<Option<String>>),
}

/// Names a field in error messages: `field 'x'` for a single flow, `flow 3, field 'x'` in a batch.
#[derive(Clone, Copy)]
struct Where {
    single: bool,
}

impl Where {
    fn at(self, i: usize, field: &str) -> String {
        if self.single { format!("field '{field}'") } else { format!("flow {i}, field '{field}'") }
    }
}

/// The fields of a flow that are no column of the model's training log (nested objects read as dotted
/// names): ignored, and shown so that a misspelt name is not taken for a value left unset.
pub(crate) fn ignored_fields(flow: &Map<String, Value>, schema: &outflow::io::Schema) -> Vec<String> {
    fn walk(prefix: &str, flow: &Map<String, Value>, schema: &outflow::io::Schema, out: &mut Vec<String>) {
        for (k, v) in flow {
            let name = if prefix.is_empty() { k.clone() } else { format!("{prefix}.{k}") };
            if schema.get(&name).is_some() {
                continue;
            }
            match v {
                Value::Object(inner) => walk(&name, inner, schema, out),
                _ => out.push(name),
            }
        }
    }
    let mut out = Vec::new();
    walk("", flow, schema, &mut out);
    out
}

/// Builds the table of `flows` (each a JSON object), one column per field the model reads.
pub(crate) fn to_table(flows: &[&Map<String, Value>], specs: &[FieldSpec]) -> Result<Table, ApiError> {
    let place = Where { single: flows.len() == 1 };
    check_measured(flows, specs, place)?;
    let mut columns = Vec::with_capacity(specs.len());
    for spec in specs {
        if !spec.required && flows.iter().all(|f| lookup(f, &spec.name).is_none()) {
            continue; // an optional checked column nobody sent
        }
        let mut cells = match spec.dtype {
            DataType::Int => Cells::I64(Vec::with_capacity(flows.len())),
            DataType::Bool => Cells::Bool(Vec::with_capacity(flows.len())),
            DataType::Categorical => Cells::Str(Vec::with_capacity(flows.len())),
            _ => Cells::F64(Vec::with_capacity(flows.len())),
        };
        for (i, flow) in flows.iter().enumerate() {
            let found = lookup(flow, &spec.name);
            if found.is_none() && spec.required && !spec.may_be_absent {
                return Err(ApiError::unprocessable(
                    FlowProblem::MissingFeature,
                    format!(
                        "missing feature: {} is required by the model (null for a value not measured)",
                        place.at(i, &spec.name)
                    ),
                    &spec.name,
                ));
            }
            let v = found.unwrap_or(&Value::Null);
            if v.is_null() && spec.required && !spec.optional {
                return Err(ApiError::unprocessable(
                    FlowProblem::MissingFeature,
                    format!("missing feature: {} is required by the model", place.at(i, &spec.name)),
                    &spec.name,
                ));
            }
            push_cell(&mut cells, v, &spec.name, || place.at(i, &spec.name))?;
        }
        columns.push(into_column(&spec.name, spec.dtype, cells));
    }
    Table::new(columns).map_err(|e| ApiError::internal(e.to_string()))
}

/// A flow without any of the model's inputs is not a flow of this model (nothing would be measured).
fn check_measured(flows: &[&Map<String, Value>], specs: &[FieldSpec], place: Where) -> Result<(), ApiError> {
    for (i, flow) in flows.iter().enumerate() {
        if !specs.iter().any(|s| lookup(flow, &s.name).is_some_and(|v| !v.is_null())) {
            let first = specs.iter().find(|s| s.required).map_or("", |s| s.name.as_str());
            let names: Vec<&str> = specs.iter().filter(|s| s.required).map(|s| s.name.as_str()).collect();
            return Err(ApiError::unprocessable(
                FlowProblem::MissingFeature,
                format!(
                    "missing feature: {} — the flow has none of the model's inputs ({})",
                    place.at(i, first),
                    names.join(", ")
                ),
                first,
            ));
        }
    }
    Ok(())
}

/// Appends the JSON value `v` of field `name` to `cells`, converted to the column's type.
fn push_cell(cells: &mut Cells, v: &Value, name: &str, at: impl Fn() -> String) -> Result<(), ApiError> {
    let wrong = |expected: &str| {
        ApiError::unprocessable(
            FlowProblem::WrongType,
            format!("wrong type: {} must be {expected}, got {}", at(), type_name(v)),
            name,
        )
    };
    match cells {
        Cells::F64(c) => c.push(match v {
            Value::Null => None,
            Value::Number(n) => {
                let x = n.as_f64().ok_or_else(|| wrong("a number"))?;
                if !x.is_finite() {
                    return Err(ApiError::unprocessable(
                        FlowProblem::NonFinite,
                        format!("non-finite number: {}", at()),
                        name,
                    ));
                }
                Some(x)
            }
            _ => return Err(wrong("a number")),
        }),
        Cells::I64(c) => c.push(match v {
            Value::Null => None,
            Value::Number(n) => Some(match (n.as_i64(), n.as_u64(), n.as_f64()) {
                (Some(x), _, _) => x,
                (None, Some(_), _) => return Err(wrong("an integer within ±2^63")),
                (None, None, Some(x)) if x.is_finite() && x.fract() == 0.0 && x.abs() < 9.0e18 => x as i64,
                _ => return Err(wrong("an integer")),
            }),
            _ => return Err(wrong("an integer")),
        }),
        Cells::Bool(c) => c.push(match v {
            Value::Null => None,
            Value::Bool(b) => Some(*b),
            Value::Number(n) if n.as_u64() == Some(0) => Some(false),
            Value::Number(n) if n.as_u64() == Some(1) => Some(true),
            Value::String(s) if s == "T" || s == "F" => Some(s == "T"),
            _ => return Err(wrong("a boolean (true/false, 0/1, \"T\"/\"F\")")),
        }),
        Cells::Str(c) => c.push(match v {
            Value::Null => None,
            Value::String(s) => Some(s.clone()),
            Value::Number(n) => Some(n.to_string()),
            Value::Bool(b) => Some(b.to_string()),
            Value::Array(items) => Some(
                items
                    .iter()
                    .map(|x| match x {
                        Value::String(s) => s.clone(),
                        other => other.to_string(),
                    })
                    .collect::<Vec<_>>()
                    .join(","),
            ),
            Value::Object(_) => return Err(wrong("a string")),
        }),
    }
    Ok(())
}

fn into_column(name: &str, dtype: DataType, cells: Cells) -> Column {
    match cells {
        Cells::F64(c) => match dtype {
            DataType::Time => Column::from_time_opt(name, c),
            DataType::Interval => Column::from_interval_opt(name, c),
            _ => Column::from_f64_opt(name, c),
        },
        Cells::I64(c) => Column::from_i64_opt(name, c),
        Cells::Bool(c) => Column::from_bool_opt(name, c),
        Cells::Str(c) => Column::from_str_opt(name, c.iter().map(Option::as_deref)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_number_left_out_is_an_error_unless_the_family_leaves_it_unset() {
        let spec = |name: &str, may_be_absent| FieldSpec {
            name: name.into(),
            dtype: DataType::Float,
            required: true,
            optional: true,
            may_be_absent,
        };
        let specs = [spec("Flow Duration", false), spec("duration", true)];
        let flow = |v: Value| v.as_object().unwrap().clone();
        // Null: measured as nothing, imputed.
        let sent = flow(json!({"Flow Duration": null, "duration": 1.0}));
        assert_eq!(to_table(&[&sent], &specs).unwrap().n_rows(), 1);
        // Left out (or misspelt): an error naming it; a field the family leaves unset may be left out.
        let typo = flow(json!({"Flow Duratoin": 5.0, "duration": 1.0}));
        let err = to_table(&[&typo], &specs).unwrap_err();
        assert!(err.to_string().contains("'Flow Duration' is required"), "{err}");
        let unset = flow(json!({"Flow Duration": 5.0}));
        assert_eq!(to_table(&[&unset], &specs).unwrap().n_rows(), 1);
    }
}
