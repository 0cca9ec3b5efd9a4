import numpy as np, fast_hdbscan, sys
sys.path.insert(0, __import__('os').path.dirname(__import__('os').path.abspath(__file__)))
from specref import *
from fast_hdbscan.hdbscan import clusters_from_spanning_tree
def data(seed, n1=80, n2=70, nn=25):
    rng=np.random.default_rng(seed)
    x=np.vstack([rng.normal((0,0),0.6,(n1,2)),rng.normal((3,1),0.5,(n2,2)),rng.normal((1.5,4),0.4,(40,2)),rng.uniform(-3,6,(nn,2))])
    return np.round(x,3)
bad=0
for seed in range(12):
    x=data(seed); n=len(x); rng=np.random.default_rng(100+seed)
    if seed%3==0: w=rng.integers(1,4,n).astype(float)
    elif seed%3==1: w=rng.integers(1,24,n)/8.0
    else: w=np.where(rng.random(n)<0.1,0.0,rng.integers(1,9,n)/4.0)
    for ms in (1,3,7):
      for mcs in (5,12,25):
        for single in (False,True):
          m=fast_hdbscan.HDBSCAN(min_cluster_size=mcs,min_samples=ms,algorithm='kruskal',knn_k=n-1,allow_single_cluster=single).fit(x,sample_weight=w)
          core,D=weighted_core(x.astype(np.float32).astype(np.float64),w,ms)
          e1=np.max(np.abs(core-m._core_distances))
          tot=prim_total(core,D); e2=abs(tot-m._min_spanning_tree[:,2].sum())
          link=linkage(m._min_spanning_tree,w.astype(np.float32))
          e3=np.max(np.abs(np.array(link)-m._single_linkage_tree))
          rows=condense(link,w.astype(np.float32),mcs)
          ct=m._condensed_tree
          mine=sorted((int(p),int(c),round(float(np.float32(l)),3),float(s)) for p,c,l,s in rows)
          theirs=sorted((int(r['parent']),int(r['child']),round(float(r['lambda_val']),3),float(r['child_size'])) for r in ct)
          ok_tree = mine==theirs
          ct32=[(p,c,float(np.float32(l)),s) for p,c,l,s in rows]
          sel=eom(ct32,n,single)
          lab,prob=labels_probs(ct32,n,sel)
          ok_lab=np.array_equal(lab,m.labels_); ok_p=np.allclose(prob,m.probabilities_,atol=1e-5)
          if not (e1<1e-5 and e2<1e-3 and e3<1e-5 and ok_tree and ok_lab and ok_p):
              bad+=1; print("MISMATCH",seed,ms,mcs,single,e1,e2,e3,ok_tree,ok_lab,ok_p, len(mine),len(theirs))
print("bad",bad)
