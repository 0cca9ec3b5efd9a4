#!/usr/bin/env python3
"""Writes the labeled logs of the README's "Labeled logs outside the table" as CSVs that
`labeled_log_check.py` reads, from files other projects commit to GitHub (none is in this repository;
their licences are not stated):

    python benches/scripts/other_labeled_logs.py SRC OUT
    python benches/scripts/labeled_log_check.py OUT/cic18_ddos.csv --label Label --positive 1 --seeds 1-5
    (cic18_brute, ctu13, ctu13_s6, unsw_raw: --label Label --positive 1; luflow: --positive malicious;
     unsw_excerpt: --positive 1; iot23: --positive Malicious)

SRC holds, by these names:

- `cse-cic-ids2018/DDoS1-Tuesday-20-02-2018_TrafficForML_CICFlowMeter.parquet` and
  `cse-cic-ids2018/Bruteforce-Wednesday-14-02-2018_TrafficForML_CICFlowMeter.parquet`
  (`Houssaynimaryame/cloud-intrusion-detection-cicids2018`, `data/raw/`): ~6,000-row samples, half attacks;
- `luflow/2020.07.08.csv` (`ruzzzzz/LUFlow`, `2020/07/2020.07.08.zip` unzipped);
- `ctu13/ctu13_sample_10k.csv` (`nilsaki/Anomaly-Detection-and-Machine-Learning-Based-Classification-on-CTU-13-
  Botnet-Traffic`, `data/sample/`);
- `unsw-nb15/UNSW_NB15_testing-set_excerpt.csv` (`Ankit300302/Intelligent-IDS`, `UNSW_NB15_testing-set.csv`);
- `iot23/conn.log.labeled` (`alejandro945/ul-feature-selection-for-botnet-detection`, `data/`): a Zeek conn
  log of IoT-23 (`outflow detect` reads it as it is; here it becomes a CSV for the subsampling);
- `ctu13-s6/capture20110816.binetflow.slice_*` (`jingzbu/BiNetflowToSIGs`, `Data/`): eight consecutive
  five-minute slices of CTU-13 scenario 6's Argus flows (Donbot), 170,146 flows, joined in name order;
- `unsw-nb15/UNSW-NB15_1.csv`, the first of the four raw UNSW-NB15 record files (no header row): its first
  20,000 records, with the dataset's 49 feature names.

What each conversion does and why: the CIC labels become 1 for any attack (the check takes one positive
value); LUFlow's `outlier` rows (neither confirmed benign nor malicious) are left out; CTU-13's botnet
flows are the attacks, its normal and background flows the rest, and the sample's own `target` column (1
for normal) is dropped (scenario 6's flows keep their addresses and times: `outflow detect` reads them
as identifiers); UNSW-NB15's `id` (a row number sorted by class) and `attack_cat` (the label's detail)
are dropped; IoT-23's `detailed-label` is dropped.
"""
import sys
from pathlib import Path

# The raw UNSW-NB15 records' columns (the dataset's feature list, `NUSW-NB15_features.csv`).
UNSW_RAW = (
    "srcip sport dstip dsport proto state dur sbytes dbytes sttl dttl sloss dloss service Sload Dload Spkts Dpkts "
    "swin dwin stcpb dtcpb smeansz dmeansz trans_depth res_bdy_len Sjit Djit Stime Ltime Sintpkt Dintpkt tcprtt "
    "synack ackdat is_sm_ips_ports ct_state_ttl ct_flw_http_mthd is_ftp_login ct_ftp_cmd ct_srv_src ct_srv_dst "
    "ct_dst_ltm ct_src_ltm ct_src_dport_ltm ct_dst_sport_ltm ct_dst_src_ltm attack_cat Label"
).split()

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
    slices = sorted((src / "ctu13-s6").glob("capture20110816.binetflow.slice_*"))
    d = pd.concat([pd.read_csv(f, low_memory=False) for f in slices])
    d["Label"] = d["Label"].str.contains("Botnet").astype(int)
    d.to_csv(out / "ctu13_s6.csv", index=False)
    d = pd.read_csv(src / "unsw-nb15/UNSW-NB15_1.csv", header=None, names=UNSW_RAW, nrows=20000, low_memory=False)
    d.drop(columns=["attack_cat"]).to_csv(out / "unsw_raw.csv", index=False)


if __name__ == "__main__":
    main()
