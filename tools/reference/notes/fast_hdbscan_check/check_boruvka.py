import numpy as np, fast_hdbscan, sys
sys.path.insert(0, __import__('os').path.dirname(__import__('os').path.abspath(__file__)))
from specref import *
from sklearn.metrics import adjusted_rand_score as ari
def data(seed):
    rng=np.random.default_rng(seed)
    x=np.vstack([rng.normal((0,0),0.6,(80,2)),rng.normal((3,1),0.5,(70,2)),rng.normal((1.5,4),0.4,(40,2)),rng.uniform(-3,6,(25,2))])
    return np.round(x,3)
def boruvka_model(x, w, ms):
    n=len(x); D=cdist(x,x)
    K=int(2*ms/np.float32(np.mean(w.astype(np.float32))))
    ce,_=weighted_core(x,w,ms,K)
    orders=[np.argsort(D[i],kind='stable') for i in range(n)]
    # union-find
    par=list(range(n))
    def f(a):
        while par[a]!=a: a=par[a]
        return a
    edges=[]
    for i in range(n):
        for j in range(1,min(K,n)):
            k=orders[i][j]
            if ce[i]>=ce[k]:
                a,b=f(i),f(k)
                if a!=b: par[a]=b; edges.append((i,k,np.sqrt(max(ce[i],D[i,k]))))
                break
    cb=np.sqrt(ce)
    M=np.maximum(np.maximum(cb[:,None],cb[None,:]),D)
    iu=np.triu_indices(n,1); order=np.argsort(M[iu],kind='stable')
    for t in order:
        i,j=iu[0][t],iu[1][t]; a,b=f(i),f(j)
        if a!=b: par[a]=b; edges.append((i,j,M[i,j]))
    return np.array(edges,float), cb
for seed in range(6):
    x=data(seed); n=len(x); rng=np.random.default_rng(seed)
    w=rng.integers(1,4,n).astype(float) if seed%2==0 else rng.integers(1,24,n)/8.0
    for ms in (3,7):
        m=fast_hdbscan.HDBSCAN(min_cluster_size=10,min_samples=ms,reproducible=True).fit(x,sample_weight=w)
        mst,cb=boruvka_model(x.astype(np.float32).astype(float),w,ms)
        tot_model=mst[:,2].sum(); tot=m._min_spanning_tree[:,2].sum()
        e=np.max(np.abs(cb-m._core_distances))
        # rerun the rest of the pipeline from the model MST
        from fast_hdbscan.hdbscan import clusters_from_spanning_tree
        lab=clusters_from_spanning_tree(mst,min_cluster_size=10,sample_weights=w.astype(np.float32))[0]
        ms_=sorted(map(lambda r:(round(r[2],5)),mst)); th=sorted(map(lambda r:(round(r[2],5)),m._min_spanning_tree))
        print(seed,ms,"core err %.2e"%e,"mst tot model %.5f lib %.5f"%(tot_model,tot),"same weights",ms_==th,"ARI",ari(lab,m.labels_))
