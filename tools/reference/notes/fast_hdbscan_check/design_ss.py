import sys, numpy as np
sys.argv=['x']
import importlib.util
spec=importlib.util.spec_from_file_location("g","/work/main/tools/reference/hdbscan_weights_reference.py"); g=importlib.util.module_from_spec(spec); spec.loader.exec_module(g)
g.patch_bcubed()
from sklearn.metrics import adjusted_rand_score as ari
def nested(rng, sep, sep2):
    centres = [(0, 0), (sep, 0), (9, 0), (9+sep2, 0), (5, 7)]
    sizes = [70, 60, 60, 55, 65]
    parts = [rng.normal(c, 0.5, (s, 2)) for c, s in zip(centres, sizes)]
    parts.append(rng.uniform(-3, 13, (40, 2)))
    x = np.round(np.vstack(parts), 4)
    truth = np.repeat([0, 1, 2, 2, 3, -1], sizes + [40])
    y = np.full(len(x), -1, dtype=np.int64)
    pick = rng.random(len(x)) < 0.10
    y[pick & (truth >= 0)] = truth[pick & (truth >= 0)]
    noise = np.flatnonzero(truth < 0)
    for i in noise[:4]:
        d = [np.hypot(*(x[i] - c)) for c in centres]
        y[i] = [0, 1, 2, 2, 3][int(np.argmin(d))]
    return x, y
for seed in (23,24,25):
  for sep in (1.8,2.0,2.3):
    for sep2 in (1.8,2.3):
        x,y=nested(np.random.default_rng(seed),sep,sep2)
        e=g.fit(x,None,None,mcs=15,ms=5).labels_
        b=g.fit(x,None,y,mcs=15,ms=5,ss="bc").labels_
        s=g.fit(x,None,y,mcs=15,ms=5,ss="bc_simple").labels_
        print(seed,sep,sep2,"n eom",e.max()+1,"n bc",b.max()+1,"n bcs",s.max()+1,"ari(eom,bc)",round(ari(e,b),3),"ari(bc,bcs)",round(ari(b,s),3))
