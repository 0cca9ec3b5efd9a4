"""The side-by-side peer of `outflow serve`: a FastAPI app that scores the same request bodies with Python
hdbscan's `approximate_predict`, on the same model data (the training points and the fitted scaler read
from an Outflow model file). Run: MODEL=path uvicorn serve_peer:app --app-dir benches/scripts --port 8081.

Answers the usual FastAPI shape of a served DBSCAN/HDBSCAN model plus the cluster probability: {"anomaly": label == -1, "cluster",
"probability"}. Supports the value features of Zeek/CIC models (imputed fill, booleans as 0/1).
"""
import base64
import json
import os

import hdbscan
import numpy as np
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse


def _b64(s, dtype):
    return np.frombuffer(base64.b64decode(s), dtype=dtype)


def _load(path):
    with open(path, "rb") as f:
        f.readline()  # header
        body = json.loads(f.readline())
    prep, model = body["prep"], body["model"]
    if prep.get("pca"):
        raise SystemExit("the peer supports models without PCA")
    inputs = prep["inputs"]
    feats = []
    for f in prep["features"]:
        src = f["source"]
        if src["kind"] != "value":
            raise SystemExit(f"the peer supports value features only, not {src['kind']}")
        spec = inputs[src["input"]]
        feats.append((spec["name"], spec.get("fill", 0.0), spec.get("boolean", False)))
    sc = prep["scaler"]
    center, scale = np.asarray(sc.get("center", sc.get("mean", 0.0))), np.asarray(sc.get("scale", 1.0))
    pts = model["points"]
    m = pts["points"]
    x = _b64(m["data"], "<f8").reshape(m["rows"], m["cols"])
    of_row = _b64(pts["of_row"], "<u4") if pts["of_row"] else None
    if of_row is not None and len(of_row):
        x = x[of_row]
    p = model["params"]
    clusterer = hdbscan.HDBSCAN(
        min_cluster_size=p["min_cluster_size"],
        min_samples=max(1, (p["min_samples"] or p["min_cluster_size"]) - 1),  # hdbscan does not count the point
        metric=p["metric"],
        cluster_selection_method=p["cluster_selection"],
        cluster_selection_epsilon=float(p["cluster_selection_epsilon"]),
        approx_min_span_tree=False,
        prediction_data=True,
    ).fit(x)
    return feats, center, scale, clusterer


FEATS, CENTER, SCALE, CLUSTERER = _load(os.environ["MODEL"])
app = FastAPI()


def _vector(flow):
    v = []
    for name, fill, boolean in FEATS:
        x = flow.get(name)
        if x is None:
            x = fill
        elif boolean:
            x = 1.0 if x in (True, 1, "T") else 0.0
        v.append(float(x))
    return (np.asarray(v) - CENTER) / SCALE


@app.post("/v1/score")
async def score(request: Request):
    flow = await request.json()
    if not isinstance(flow, dict):
        return JSONResponse({"error": "a flow object is required"}, status_code=422)
    labels, probs = hdbscan.approximate_predict(CLUSTERER, _vector(flow)[None, :])
    return {"anomaly": bool(labels[0] == -1), "cluster": int(labels[0]), "probability": float(probs[0])}
