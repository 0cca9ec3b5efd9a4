#!/usr/bin/env python3
"""Writes the labeled logs of the README's "Labeled logs outside the table" as CSVs that
`labeled_log_check.py` reads, from files other projects commit to GitHub (none is in this repository;
their licences are not stated):

    python benches/scripts/other_labeled_logs.py SRC OUT
    python benches/scripts/labeled_log_check.py OUT/cic18_ddos.csv --label Label --positive 1 --seeds 1-5
    (cic18_brute, ctu13: --label Label --positive 1; luflow: --positive malicious; unsw_excerpt: --positive 1;
     iot23: --positive Malicious)

SRC holds, by these names:

- `cse-cic-ids2018/DDoS1-Tuesday-20-02-2018_TrafficForML_CICFlowMeter.parquet` and
  `cse-cic-ids2018/Bruteforce-Wednesday-14-02-2018_TrafficForML_CICFlowMeter.parquet`
  (`Houssaynimaryame/cloud-intrusion-detection-cicids2018`, `data/raw/`): ~6,000-row samples, half attacks;
- `luflow/2020.07.08.csv` (`ruzzzzz/LUFlow`, `2020/07/2020.07.08.zip` unzipped);
- `ctu13/ctu13_sample_10k.csv` (`nilsaki/Anomaly-Detection-and-Machine-Learning-Based-Classification-on-CTU-13-
  Botnet-Traffic`, `data/sample/`);
- `unsw-nb15/UNSW_NB15_testing-set_excerpt.csv` (`Ankit300302/Intelligent-IDS`, `UNSW_NB15_testing-set.csv`);
- `iot23/conn.log.labeled` (`alejandro945/ul-feature-selection-for-botnet-detection`, `data/`): a Zeek conn
  log of IoT-23 (`outflow detect` reads it as it is; here it becomes a CSV for the subsampling).

What each conversion does and why: the CIC labels become 1 for any attack (the check takes one positive
value); LUFlow's `outlier` rows (neither confirmed benign nor malicious) are left out; CTU-13's botnet
flows are the attacks, its normal and background flows the rest, and the sample's own `target` column (1
for normal) is dropped; UNSW-NB15's `id` (a row number sorted by class) and `attack_cat` (the label's
detail) are dropped; IoT-23's `detailed-label` is dropped.
"""
import sys
from pathlib import Path

import pandas as pd


def zeek_log(path: Path) -> pd.DataFrame:
    # IoT-23 separates its last three fields (and their names) by spaces instead of tabs.
    def split(line: str) -> list[str]:
        head, last = line.rsplit("\t", 1)
        return head.split("\t") + last.split()

    fields, rows = None, []
    for line in path.read_text().splitlines():
        if line.startswith("#fields"):
            fields = split(line)[1:]
        elif line and not line.startswith("#"):
            rows.append(split(line))
    return pd.DataFrame(rows, columns=fields)


def main() -> None:
    src, out = Path(sys.argv[1]), Path(sys.argv[2])
    out.mkdir(parents=True, exist_ok=True)
    for name, file in [("cic18_ddos", "DDoS1-Tuesday-20-02-2018_TrafficForML_CICFlowMeter.parquet"),
                       ("cic18_brute", "Bruteforce-Wednesday-14-02-2018_TrafficForML_CICFlowMeter.parquet")]:
        d = pd.read_parquet(src / "cse-cic-ids2018" / file)
        d["Label"] = (d["Label"] != "Benign").astype(int)
        d.to_csv(out / f"{name}.csv", index=False)
    d = pd.read_csv(src / "luflow/2020.07.08.csv")
    d[d["label"] != "outlier"].to_csv(out / "luflow.csv", index=False)
    d = pd.read_csv(src / "ctu13/ctu13_sample_10k.csv").drop(columns=["target"])
    d["Label"] = d["Label"].str.contains("Botnet").astype(int)
    d.to_csv(out / "ctu13.csv", index=False)
    d = pd.read_csv(src / "unsw-nb15/UNSW_NB15_testing-set_excerpt.csv", encoding="utf-8-sig")
    d.drop(columns=["id", "attack_cat"]).to_csv(out / "unsw_excerpt.csv", index=False)
    d = zeek_log(src / "iot23/conn.log.labeled")
    d.drop(columns=["detailed-label"]).to_csv(out / "iot23.csv", index=False)


if __name__ == "__main__":
    main()
