//! The OpenAPI 3.1 description and a small human page.

/// The OpenAPI document.
pub fn openapi_json() -> &'static str {
    OPENAPI
}

const OPENAPI: &str = r##"{
  "openapi": "3.1.0",
  "info": {
    "title": "Outflow scoring service",
    "version": "1",
    "description": "Scores network flows with a fitted Outflow model: cluster (of the model's clusterer: HDBSCAN, DBSCAN, k-means or Ward), membership probability, fused anomaly score in [0, 1] and severity (moderate at the 95th, severe at the 99th percentile of the training scores). Post whole records: fields the model does not use are ignored."
  },
  "paths": {
    "/v1/score": {
      "post": {
        "summary": "Score one flow, a JSON array of flows, or NDJSON",
        "requestBody": {
          "required": true,
          "content": {
            "application/json": {
              "schema": { "oneOf": [ { "$ref": "#/components/schemas/Flow" }, { "type": "array", "items": { "$ref": "#/components/schemas/Flow" } } ] },
              "example": { "duration": 0.5, "orig_bytes": 300, "resp_bytes": 1200, "orig_pkts": 4, "local_orig": true, "proto": "tcp", "uid": "C1" }
            },
            "application/x-ndjson": { "schema": { "type": "string", "description": "one flow object per line" } }
          }
        },
        "responses": {
          "200": {
            "description": "One result per flow (an object for an object, an array for an array, NDJSON for NDJSON)",
            "content": {
              "application/json": { "schema": { "oneOf": [ { "$ref": "#/components/schemas/Result" }, { "type": "array", "items": { "$ref": "#/components/schemas/Result" } } ] } },
              "application/x-ndjson": { "schema": { "type": "string" } }
            }
          },
          "400": { "$ref": "#/components/responses/Error" },
          "408": { "$ref": "#/components/responses/Error" },
          "413": { "$ref": "#/components/responses/Error" },
          "415": { "$ref": "#/components/responses/Error" },
          "422": { "$ref": "#/components/responses/Error" }
        }
      }
    },
    "/v1/model": {
      "get": {
        "summary": "The served model's metadata",
        "responses": { "200": { "description": "Path, generation and the model file header", "content": { "application/json": { "schema": { "type": "object" } } } } }
      }
    },
    "/v1/model/reload": {
      "post": {
        "summary": "Reload the model file without downtime (also on SIGHUP)",
        "responses": {
          "200": { "description": "The new model is served", "content": { "application/json": { "schema": { "type": "object" } } } },
          "422": { "$ref": "#/components/responses/Error" }
        }
      }
    },
    "/healthz": {
      "get": {
        "summary": "Liveness",
        "responses": { "200": { "description": "ok", "content": { "application/json": { "schema": { "type": "object" } } } } }
      }
    }
  },
  "components": {
    "schemas": {
      "Flow": { "type": "object", "additionalProperties": true, "description": "A flow keyed by the training log's column names (e.g. Zeek conn fields; dotted names may also be nested objects)" },
      "Result": {
        "type": "object",
        "required": ["anomaly", "cluster", "probability", "outlier_score", "severity"],
        "properties": {
          "anomaly": { "type": "boolean", "description": "severity is moderate or severe" },
          "cluster": { "type": ["integer", "null"], "description": "cluster of the model's clusterer, -1 for noise" },
          "probability": { "type": ["number", "null"] },
          "outlier_score": { "type": ["number", "null"], "minimum": 0, "maximum": 1 },
          "severity": { "type": "string", "enum": ["normal", "moderate", "severe", "unscored"] },
          "reason": { "type": "string", "description": "why the flow could not be scored" },
          "ignored_fields": { "type": "array", "items": { "type": "string" }, "description": "fields of the flow that are no column of the model's training log, ignored (a misspelt name shows here); absent when none" }
        }
      },
      "Error": {
        "type": "object",
        "properties": {
          "error": {
            "type": "object",
            "required": ["status", "code", "message"],
            "properties": { "status": { "type": "integer" }, "code": { "type": "string" }, "message": { "type": "string" }, "field": { "type": "string" } }
          }
        }
      }
    },
    "responses": {
      "Error": { "description": "An error naming the problem (and the field)", "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Error" } } } }
    }
  }
}"##;

/// The human page at `/docs`.
pub const DOCS_HTML: &str = r#"<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Outflow scoring service</title>
<style>body{font:15px/1.5 system-ui,sans-serif;max-width:52rem;margin:2rem auto;padding:0 1rem;color:#222}
code,pre{background:#f4f4f4;border-radius:4px;padding:.1rem .3rem}pre{padding:.8rem;overflow:auto}</style></head>
<body><h1>Outflow scoring service</h1>
<p>Scores network flows with a fitted Outflow model. Send whole records: fields the model does not use are ignored.</p>
<h2>Score</h2>
<pre>curl -s localhost:8080/v1/score -H 'content-type: application/json' \
  -d '{"duration":0.5,"orig_bytes":300,"resp_bytes":1200,"orig_pkts":4,"local_orig":true}'
{"anomaly":false,"cluster":3,"probability":1.0,"outlier_score":0.41,"severity":"normal"}</pre>
<p>A JSON array scores a batch; <code>application/x-ndjson</code> (one flow per line) answers NDJSON.
<code>anomaly</code> is true for <code>moderate</code> (score at or above the 95th percentile of the training flows)
and <code>severe</code> (99th).</p>
<h2>Other routes</h2>
<ul><li><code>GET /v1/model</code> — the model's metadata (schema, features, clusters, thresholds)</li>
<li><code>POST /v1/model/reload</code> — reload the model file (also on SIGHUP); a bad file is refused and the old model stays</li>
<li><code>GET /healthz</code> — liveness</li><li><code>GET /openapi.json</code> — the API description</li></ul>
<h2>Errors</h2>
<p>JSON <code>{"error": {"status", "code", "message", "field"}}</code>: 400 malformed JSON, 408 timeout, 413 body too large,
415 unsupported content type, 422 missing feature, wrong type or non-finite number (naming the field).</p>
</body></html>
"#;
