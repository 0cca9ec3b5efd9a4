import numpy as np, fast_hdbscan, numba, sys, json
rng=np.random.default_rng(3)
x=np.round(np.vstack([rng.normal((0,0),0.6,(150,2)),rng.normal((3,1),0.5,(150,2)),rng.uniform(-3,6,(60,2))]),3)
n=len(x); w=rng.integers(1,4,n).astype(float)
out={}
for rep in (False,True):
  for wt in (None,w):
    res=set()
    for t in range(8):
        m=fast_hdbscan.HDBSCAN(min_cluster_size=10,min_samples=5,reproducible=rep).fit(x,sample_weight=wt)
        res.add((tuple(m.labels_), round(float(m._min_spanning_tree[:,2].sum()),5), tuple(np.round(m.probabilities_,5))))
    out[f"rep={rep} weighted={wt is not None}"]=(len(res), sorted(r[1] for r in res))
    # kruskal
m=fast_hdbscan.HDBSCAN(min_cluster_size=10,min_samples=5,algorithm='kruskal',knn_k=n-1).fit(x,sample_weight=w)
out["kruskal labels hash"]=hash(tuple(m.labels_))
print(numba.get_num_threads(), json.dumps(out))
