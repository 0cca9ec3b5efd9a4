import numpy as np, fast_hdbscan, sys
sys.path.insert(0, __import__('os').path.dirname(__import__('os').path.abspath(__file__)))
from ss_patch import patch_bcubed; patch_bcubed()
from sklearn.datasets import make_blobs
x,t=make_blobs(300,centers=[(0,0),(3,0),(0,3)],cluster_std=0.8,random_state=0)
y=np.where(np.arange(300)%10==0,t,-1)
def tr(name,f):
    try: r=f(); print(name,"->",r)
    except Exception as e: print(name,"-> ERR",type(e).__name__,str(e).splitlines()[0][:160])
H=fast_hdbscan.HDBSCAN
base=H(min_cluster_size=10).fit(x).labels_
tr("int labels", lambda: np.unique(H(min_cluster_size=10,semi_supervised=True).fit(x,y).labels_))
tr("float labels", lambda: np.unique(H(min_cluster_size=10,semi_supervised=True).fit(x,y.astype(float)).labels_))
yn=y.astype(float); yn[5]=np.nan
tr("float labels with nan", lambda: np.unique(H(min_cluster_size=10,semi_supervised=True).fit(x,yn).labels_))
tr("int32 labels", lambda: np.unique(H(min_cluster_size=10,semi_supervised=True).fit(x,y.astype(np.int32)).labels_))
tr("all -1", lambda: H(semi_supervised=True).fit(x,np.full(300,-1)))
tr("all -2", lambda: np.unique(H(min_cluster_size=10,semi_supervised=True).fit(x,np.full(300,-2)).labels_))
y2=np.where(y==-1,-2,y)
tr("-2 as unlabelled same as -1", lambda: np.array_equal(H(min_cluster_size=10,semi_supervised=True).fit(x,y2).labels_,H(min_cluster_size=10,semi_supervised=True).fit(x,y).labels_))
tr("y None", lambda: H(semi_supervised=True).fit(x))
tr("y wrong len", lambda: H(semi_supervised=True).fit(x,y[:-1]))
tr("bad ss_algorithm", lambda: H(semi_supervised=True,ss_algorithm='foo').fit(x,y))
tr("leaf ignores labels", lambda: np.array_equal(H(min_cluster_size=10,semi_supervised=True,cluster_selection_method='leaf').fit(x,y).labels_, H(min_cluster_size=10,cluster_selection_method='leaf').fit(x).labels_))
tr("y given but semi_supervised False ignored", lambda: np.array_equal(H(min_cluster_size=10).fit(x,y).labels_, base))
tr("labels arbitrary ids (100,200,300)", lambda: np.array_equal(H(min_cluster_size=10,semi_supervised=True).fit(x,np.where(y>=0,(y+1)*100,-1)).labels_,H(min_cluster_size=10,semi_supervised=True).fit(x,y).labels_))
tr("max_cluster_size ignored in ss", lambda: np.array_equal(H(min_cluster_size=10,semi_supervised=True,max_cluster_size=20).fit(x,y).labels_,H(min_cluster_size=10,semi_supervised=True).fit(x,y).labels_))
ym=y.copy(); 
tr("y mutated? (int)", lambda: np.array_equal(ym,y))
yf=yn.copy(); 
try: H(min_cluster_size=10,semi_supervised=True).fit(x,yf)
except Exception: pass
tr("float y with nan mutated in place", lambda: (np.isnan(yn[5]), yf[5]))
