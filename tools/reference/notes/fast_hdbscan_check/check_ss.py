import numpy as np, fast_hdbscan, sys
sys.path.insert(0, __import__('os').path.dirname(__import__('os').path.abspath(__file__)))
from specref import *
from ss_patch import patch_bcubed; patch_bcubed()
def data(seed):
    rng=np.random.default_rng(seed)
    x=np.vstack([rng.normal((0,0),0.6,(80,2)),rng.normal((2.2,0.5),0.5,(70,2)),rng.normal((1.5,4),0.4,(40,2)),rng.normal((1.9,4.9),0.3,(30,2)),rng.uniform(-3,6,(25,2))])
    truth=np.repeat([0,1,2,3,-1],[80,70,40,30,25])
    return np.round(x,3),truth
bad=0; tot=0; diff_from_eom=0
for seed in range(10):
    x,truth=data(seed); n=len(x); rng=np.random.default_rng(50+seed)
    for frac in (0.03,0.1,0.3):
      y=np.where((rng.random(n)<frac)&(truth>=0),truth,-1)
      if seed%4==3: y=np.where(y>=0, y%2, -1)   # merged classes
      if (y>-1).sum()==0: continue
      for ms in (1,5):
        for alg in ("bc","bc_simple"):
          for single in (False,True):
            w = None if seed%2==0 else rng.integers(1,4,n).astype(float)
            m=fast_hdbscan.HDBSCAN(min_cluster_size=8,min_samples=ms,semi_supervised=True,ss_algorithm=alg,allow_single_cluster=single,algorithm='kruskal',knn_k=n-1).fit(x,y,sample_weight=w)
            ct=m._condensed_tree
            rows=[(int(r['parent']),int(r['child']),float(r['lambda_val']),float(r['child_size'])) for r in ct]
            sel=bcubed_select(rows,n,y,virtual=(alg=="bc"),allow_single=single)
            lab,prob=labels_probs(rows,n,sel)
            e=eom(rows,n,single); lab2,_=labels_probs(rows,n,e)
            tot+=1; diff_from_eom+= not np.array_equal(lab2,m.labels_)
            if not (np.array_equal(lab,m.labels_) and np.allclose(prob,m.probabilities_,atol=1e-5)):
                bad+=1; print("MISMATCH",seed,frac,ms,alg,single,sel, np.unique(m.labels_))
print("bad",bad,"of",tot,"; runs where ss labels differ from plain eom:",diff_from_eom)
