import numpy as np, fast_hdbscan, sys
sys.path.insert(0, __import__('os').path.dirname(__import__('os').path.abspath(__file__)))
from specref import *
from ss_patch import patch_bcubed; patch_bcubed()
def data(seed):
    rng=np.random.default_rng(seed)
    x=np.vstack([rng.normal((0,0),0.6,(80,2)),rng.normal((3,1),0.5,(70,2)),rng.uniform(-3,6,(25,2))])
    return np.round(x,3)
bad=0
for seed in range(8):
    x=data(seed); n=len(x); rng=np.random.default_rng(seed)
    w=np.ones(n); heavy=rng.choice(n,6,replace=False); w[heavy]=rng.integers(8,30,6)
    for method in ("eom","leaf"):
        m=fast_hdbscan.HDBSCAN(min_cluster_size=8,min_samples=4,cluster_selection_method=method,algorithm='kruskal',knn_k=n-1).fit(x,sample_weight=w)
        rows=[(int(r['parent']),int(r['child']),float(r['lambda_val']),float(r['child_size'])) for r in m._condensed_tree]
        link=linkage(m._min_spanning_tree,w.astype(np.float32))
        mine=condense(link,w.astype(np.float32),8)
        same=sorted((p,c,round(l,3),s) for p,c,l,s in [(p,c,float(np.float32(l)),s) for p,c,l,s in mine])==sorted((p,c,round(l,3),s) for p,c,l,s in rows)
        present=set(c for p,c,l,s in rows if c<n)
        parents=set(p for p,c,l,s in rows)
        phantom=[c for p,c,l,s in rows if c>=n and c not in parents]
        sel = eom(rows,n) if method=="eom" else sorted(set(c for p,c,l,s in rows if c>=n)-set(p for p,c,l,s in rows if c>=n)) 
        lab,prob=labels_probs(rows,n,sel)
        ok=np.array_equal(lab,m.labels_)
        print(seed,method,"tree same",same,"labels same",ok,"heavy missing",sorted(set(heavy)-present)==sorted(heavy),"phantom clusters",phantom,"heavy labels",m.labels_[heavy], "n labels", len(set(m.labels_))-1, "max label", m.labels_.max())
    try:
        y=np.full(n,-1); y[:5]=0; y[80:85]=1
        m=fast_hdbscan.HDBSCAN(min_cluster_size=8,min_samples=4,semi_supervised=True,algorithm='kruskal',knn_k=n-1).fit(x,y,sample_weight=w)
        print("  ss heavy ok", np.unique(m.labels_))
    except Exception as e: print("  ss heavy ERR",type(e).__name__,str(e)[:100])
