"""Scoring throughput on one KDD Cup 99 file (CSV, gzip or not), Outflow against the Python peer pipeline,
same file, same run, 2 threads.

- Outflow: `outflow detect` fits the default detector (not timed); then end to end `outflow score MODEL
  LOG -o out.csv` (whole process: read, prepare, cluster membership, Isolation Forest + PCA scores,
  fusion, CSV out) and in memory the `score_throughput` tool (a prepared batch in, scores out).
- Python: pandas `read_csv`, the same preparation in scikit-learn (one-hot of the 10 most frequent levels
  of protocol_type / service / flag plus `other`, sign(x)·ln(1 + |x|) of every feature, correlation
  pruning at |r| ≥ 0.95, RobustScaler), scikit-learn's IsolationForest `score_samples` (100 trees, as
  Outflow's) and hdbscan's `approximate_predict`, fitted on a 20,000-row sample (hdbscan's fit on
  Outflow's 100,000 rows takes minutes at these dimensions; a smaller model only helps the peer);
  end to end (read, prepare, score, `to_csv`) and in memory (the prepared array in, scores out).

    python benches/scripts/score_vs_python.py ../shared/data/kdd/kddcup.data_10_percent.gz

Needs numpy, pandas, scikit-learn and hdbscan; builds the release `outflow` and `score_throughput`.
"""
import argparse
import glob
import os
import re
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
THREADS = "2"
for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "RAYON_NUM_THREADS"):
    os.environ[var] = THREADS

import numpy as np  # noqa: E402  (after the thread variables)
import pandas as pd  # noqa: E402

KDD = ("duration protocol_type service flag src_bytes dst_bytes land wrong_fragment urgent hot num_failed_logins "
       "logged_in num_compromised root_shell su_attempted num_root num_file_creations num_shells num_access_files "
       "num_outbound_cmds is_host_login is_guest_login count srv_count serror_rate srv_serror_rate rerror_rate "
       "srv_rerror_rate same_srv_rate diff_srv_rate srv_diff_host_rate dst_host_count dst_host_srv_count "
       "dst_host_same_srv_rate dst_host_diff_srv_rate dst_host_same_src_port_rate dst_host_srv_diff_host_rate "
       "dst_host_serror_rate dst_host_srv_serror_rate dst_host_rerror_rate dst_host_srv_rerror_rate label").split()
CATEGORICAL = ["protocol_type", "service", "flag"]


class PeerPrep:
    """The detection preparation in scikit-learn and numpy, fitted on a sample."""

    def fit(self, frame):
        from sklearn.preprocessing import OneHotEncoder, RobustScaler

        self.numeric = [c for c in KDD[:-1] if c not in CATEGORICAL]
        self.onehot = OneHotEncoder(max_categories=11, handle_unknown="infrequent_if_exist", sparse_output=False)
        x = self._features(frame, fit=True)
        keep = np.ones(x.shape[1], dtype=bool)
        keep &= x.std(axis=0) > 0
        with np.errstate(invalid="ignore", divide="ignore"):
            r = np.abs(np.corrcoef(x[:, keep], rowvar=False))
        idx = np.flatnonzero(keep)
        for a in range(len(idx)):
            if keep[idx[a]]:
                for b in range(a + 1, len(idx)):
                    if keep[idx[b]] and r[a, b] >= 0.95:
                        keep[idx[b]] = False
        self.keep = keep
        self.scaler = RobustScaler().fit(x[:, keep])
        return self

    def _features(self, frame, fit=False):
        cat = frame[CATEGORICAL]
        oh = self.onehot.fit_transform(cat) if fit else self.onehot.transform(cat)
        x = np.hstack([frame[self.numeric].to_numpy(dtype=float), oh])
        return np.sign(x) * np.log1p(np.abs(x))

    def transform(self, frame):
        return self.scaler.transform(self._features(frame)[:, self.keep])


def read(path):
    return pd.read_csv(path, header=None, names=KDD)


def run(cmd):
    t = time.perf_counter()
    out = subprocess.run(cmd, capture_output=True, text=True)
    if out.returncode != 0:
        sys.exit(f"{' '.join(cmd)} failed:\n{out.stderr}")
    return time.perf_counter() - t, out.stdout


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("log")
    ap.add_argument("--fit-rows", type=int, default=20_000)
    ap.add_argument("--repeat", type=int, default=3)
    a = ap.parse_args()
    import hdbscan
    from sklearn.ensemble import IsolationForest

    subprocess.run(["cargo", "build", "--release", "-q", "-p", "outflow-cli", "-p", "outflow-benches", "--bin",
                    "outflow", "--bin", "score_throughput"], cwd=ROOT, check=True)
    outflow = f"{ROOT}/target/release/outflow"
    with tempfile.TemporaryDirectory() as tmp:
        run([outflow, "detect", a.log, "--out", f"{tmp}/run", "--quiet"])
        model = sorted(glob.glob(f"{tmp}/run/*model*.json"))[0]
        e2e = min(run([outflow, "score", model, a.log, "-o", f"{tmp}/scores.csv", "--force"])[0]
                  for _ in range(a.repeat))
        _, out = run([f"{ROOT}/target/release/score_throughput", a.log, "--model", model, "--repeat", str(a.repeat)])
        rows = int(float(re.search(r"rows ([\d.]+)", out).group(1)))
        mem = float(re.search(r"score prepared ([\d.]+)s", out).group(1))

        frame = read(a.log)
        sample = frame.sample(n=min(a.fit_rows, len(frame)), random_state=0)
        prep = PeerPrep().fit(sample)
        xs = prep.transform(sample)
        forest = IsolationForest(n_estimators=100, random_state=0, n_jobs=2).fit(xs)
        clusterer = hdbscan.HDBSCAN(min_cluster_size=50, min_samples=9, prediction_data=True, core_dist_n_jobs=2).fit(xs)

        def peer_e2e():
            f = read(a.log)
            x = prep.transform(f)
            labels, strengths = hdbscan.approximate_predict(clusterer, x)
            f.assign(cluster=labels, probability=strengths, score=-forest.score_samples(x)).to_csv(
                f"{tmp}/peer.csv", index=False)

        def peer_mem(x):
            hdbscan.approximate_predict(clusterer, x)
            forest.score_samples(x)

        x_all = prep.transform(frame)
        times = {}
        for name, job in (("e2e", peer_e2e), ("mem", lambda: peer_mem(x_all))):
            best = float("inf")
            for _ in range(a.repeat):
                t = time.perf_counter()
                job()
                best = min(best, time.perf_counter() - t)
            times[name] = best
    print(f"{rows:,} flows of {os.path.basename(a.log)}, 2 threads, best of {a.repeat}")
    print(f"{'':<44}{'Outflow':>12}{'Python':>12}{'ratio':>8}")
    for label, ours, theirs in (("end to end (file in, CSV out), flows/s", e2e, times["e2e"]),
                                ("in memory (prepared batch in), flows/s", mem, times["mem"])):
        print(f"{label:<44}{rows / ours:>12,.0f}{rows / theirs:>12,.0f}{theirs / ours:>7.1f}×")


if __name__ == "__main__":
    main()
