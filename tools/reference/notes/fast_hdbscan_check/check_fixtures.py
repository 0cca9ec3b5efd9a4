import json, sys, numpy as np
sys.path.insert(0, __import__('os').path.dirname(__import__('os').path.abspath(__file__)))
from specref import *
from sklearn.metrics import adjusted_rand_score as ari
def prim_mst(core,D):
    M=np.maximum(np.maximum(core[:,None],core[None,:]),D); n=len(M)
    inT=np.zeros(n,bool); best=np.full(n,np.inf); frm=np.full(n,-1); best[0]=0; E=[]
    for _ in range(n):
        i=int(np.argmin(np.where(inT,np.inf,best))); inT[i]=True
        if frm[i]>=0: E.append((frm[i],i,best[i]))
        upd=(M[i]<best)&~inT; best[upd]=M[i][upd]; frm[upd]=i
    E=np.array(E,float); return E[np.lexsort((E[:,1],E[:,0],E[:,2]))]
def pipeline(x,w,y,r):
    n=len(x); w=np.ones(n) if w is None else np.asarray(w)
    core,D=weighted_core(np.float32(x).astype(float),w,r["min_samples"]) if r["weighted"] else (None,None)
    if not r["weighted"]:
        D=cdist(np.float32(x).astype(float),np.float32(x).astype(float)); core=np.sort(D,axis=1)[:,r["min_samples"]]
        if r["min_samples"]==1: core=np.zeros(n)
    mst=prim_mst(core,D)
    link=linkage(mst,np.float32(w))
    rows=[(p,c,float(np.float32(l)),s) for p,c,l,s in condense(link,np.float32(w),r["min_cluster_size"])]
    if r["ss_algorithm"]: sel=bcubed_select(rows,n,np.array(y),virtual=r["ss_algorithm"]=="bc",allow_single=r["allow_single_cluster"])
    elif r["method"]=="leaf": sel=sorted(set(c for p,c,l,s in rows if c>=n)-set(p for p,c,l,s in rows if c>=n))
    else:
        sel=eom(rows,n,r["allow_single_cluster"]) if not r["max_cluster_size"] else None
    return core,rows,sel
for f in ["blobs_int_weights","blobs_frac_weights","nested_semi_supervised"]:
    d=json.load(open(f"../../../../crates/outflow-cluster/tests/fixtures/hdbscan_weights/{f}.json")); x=np.array(d["x"]); w=d.get("weights"); y=d.get("y")
    for r in d["runs"]:
        if r["max_cluster_size"] or r["epsilon"]: print(f,"skip cap/eps run"); continue
        core,rows,sel=pipeline(x,w if r["weighted"] else None,y,r)
        lab,prob=labels_probs(rows,len(x),sel)
        cr=sorted([float(f"{l:.7g}"),s] for p,c,l,s in rows if c>=len(x))
        out=[f, r.get("ss_algorithm") or r["method"], r["min_samples"], r["allow_single_cluster"], "ARI %.4f"%ari(lab,r["labels"]), "cluster_rows same", len(cr)==len(r["cluster_rows"]) and all(abs(a[0]-b[0])<=2e-6*b[0] and a[1]==b[1] for a,b in zip(cr,r["cluster_rows"]))]
        if "core_distances" in r: out.append("core err %.1e"%np.max(np.abs(core-np.array(r["core_distances"]))))
        if "condensed_tree" in r:
            mine=sorted((p,c,float(f"{l:.7g}"),s) for p,c,l,s in rows); th=sorted(tuple(t) for t in r["condensed_tree"])
            out.append("tree same %s"%(len(mine)==len(th) and all(a[0]==b[0] and a[1]==b[1] and a[3]==b[3] and abs(a[2]-b[2])<=2e-6*b[2] for a,b in zip(mine,th)))); 
            out.append("prob maxdiff %.1e"%np.max(np.abs(prob-np.array(r["probabilities"]))))
        print(*out)
print("---- diff detail")
d=json.load(open("../../../../crates/outflow-cluster/tests/fixtures/hdbscan_weights/blobs_int_weights.json")); x=np.array(d["x"]); r=d["runs"][0]
core,rows,sel=pipeline(x,d["weights"],None,r)
cr=sorted([float(f"{l:.7g}"),s] for p,c,l,s in rows if c>=len(x))
print("mine  ",cr); print("theirs",r["cluster_rows"])
import fast_hdbscan
n=len(x)
m=fast_hdbscan.HDBSCAN(min_cluster_size=15,min_samples=5,algorithm='kruskal',knn_k=n-1).fit(x,sample_weight=np.array(d["weights"]))
mst=m._min_spanning_tree; 
mine_mst=prim_mst(core,cdist(np.float32(x).astype(float),np.float32(x).astype(float)))
print("sorted weights equal:", np.allclose(np.sort(mst[:,2]),np.sort(mine_mst[:,2]),rtol=1e-6))
