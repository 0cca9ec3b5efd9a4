"""Independent re-statement of fast_hdbscan 0.3.4's weighted / semi-supervised semantics, used to check the spec."""
import numpy as np
from scipy.spatial.distance import cdist

def weighted_core(x, w, ms, K=None):
    """core_i = distance to the first neighbour (sorted by distance, self first) at which the cumulative
    weight (self included) reaches ms; only the first K neighbours are looked at: if never reached, the
    K-th one's distance (inf when K > n)."""
    D = cdist(x, x)
    n = len(x)
    K = n if K is None else K
    core = np.empty(n)
    for i in range(n):
        order = np.argsort(D[i], kind="stable")
        tot = 0.0; j = 0
        while tot < ms and j < min(K, n):
            tot += w[order[j]]; j += 1
        core[i] = D[i, order[j - 1]] if (tot >= ms or K <= n) else np.inf
    return core, D

def prim_total(core, D):
    M = np.maximum(np.maximum(core[:, None], core[None, :]), D)
    n = len(M); inT = np.zeros(n, bool); best = np.full(n, np.inf); best[0] = 0; tot = 0.0
    for _ in range(n):
        i = np.argmin(np.where(inT, np.inf, best)); inT[i] = True; tot += best[i]
        best = np.minimum(best, M[i])
    return tot

def linkage(sorted_mst, w):
    n = len(sorted_mst) + 1
    parent = list(range(2 * n - 1)); size = list(map(float, w)) + [0.0] * (n - 1)
    def find(a):
        while parent[a] != a: a = parent[a]
        return a
    out = []
    for k, (a, b, d) in enumerate(sorted_mst):
        ra, rb = find(int(a)), find(int(b))
        hi, lo = max(ra, rb), min(ra, rb)
        out.append((hi, lo, d, size[ra] + size[rb]))
        size[n + k] = size[ra] + size[rb]; parent[ra] = parent[rb] = n + k
    return out

def leaves_of(link, node, n):
    if node < n: return [node]
    l, r = link[node - n][:2]
    return leaves_of(link, l, n) + leaves_of(link, r, n)

def condense(link, w, mcs):
    """Returns rows (parent, child, lam, size). Point rows have size 1 whatever the weight; a point whose own
    weight reaches mcs is never emitted (see spec)."""
    n = len(link) + 1
    rows = []
    count = lambda c: link[c - n][3] if c >= n else float(w[c])
    nxt = [n + 1]
    # BFS over the hierarchy from the root, as fast_hdbscan
    relabel = {2 * n - 2: n}
    queue = [2 * n - 2]
    while queue:
        nq = []
        for node in queue:
            if node < n or node not in relabel: continue  # eliminated subtrees are not in relabel
            p = relabel[node]
            l, r, d, _ = link[node - n]
            lam = 1.0 / d if d > 0 else np.inf
            lc, rc = count(l), count(r)
            if l < n and rc >= mcs:           # both points (l is the higher id): l falls out, r vanishes
                rows.append((p, l, lam, 1.0)); relabel[r] = p
            elif lc < mcs and rc >= mcs:
                relabel[r] = p; rows += [(p, q, lam, 1.0) for q in leaves_of(link, l, n)]
            elif lc >= mcs and rc < mcs:
                relabel[l] = p; rows += [(p, q, lam, 1.0) for q in leaves_of(link, r, n)]
            elif lc < mcs and rc < mcs:
                rows += [(p, q, lam, 1.0) for q in leaves_of(link, l, n)]
                rows += [(p, q, lam, 1.0) for q in leaves_of(link, r, n)]
            else:
                relabel[l] = nxt[0]; rows.append((p, nxt[0], lam, lc)); nxt[0] += 1
                relabel[r] = nxt[0]; rows.append((p, nxt[0], lam, rc)); nxt[0] += 1
            nq += [l, r]
        queue = nq
    return rows

def stability(rows, n):
    """S(C) = sum_{rows with parent C} lam*size  -  lam_birth(C)*W_C (point rows have size 1)."""
    S = {}
    for p, c, lam, s in rows:
        S[p] = S.get(p, 0.0) + lam * s
    for p, c, lam, s in rows:
        if c >= n: S[c] = S.get(c, 0.0) - lam * s
    return S

def cluster_children(rows, n):
    ch = {}
    for p, c, lam, s in rows:
        if c >= n: ch.setdefault(p, []).append(c)
    return ch

def eom(rows, n, allow_single=False):
    S = stability(rows, n); ch = cluster_children(rows, n)
    if not ch: return []
    root = n; sel = set()
    def rec(c):
        cur = max(S.get(c, 0.0), 0.0)
        tot = sum(rec(d) for d in ch.get(c, []))
        if tot > cur: return tot
        sel.add(c); drop_below(c); return cur
    def drop_below(c):
        for d in ch.get(c, []): sel.discard(d); drop_below(d)
    if allow_single: rec(root)
    else:
        for d in ch.get(root, []): rec(d)
    return sorted(sel)

def bcubed_select(rows, n, y, virtual=True, allow_single=False):
    L = {i: y[i] for i in range(n) if y[i] > -1}
    Ltot = len(L); Nc = {}
    for v in L.values(): Nc[v] = Nc.get(v, 0) + 1
    ch = cluster_children(rows, n)
    S = stability(rows, n)
    if not ch: return []
    internal = set(ch)  # clusters with cluster children
    # labelled points of each cluster's subtree
    members = {}
    def collect(c):
        pts = [q for p, q, lam, s in rows if p == c and q < n and q in L]
        for d in ch.get(c, []): pts += collect(d)
        members[c] = pts; return pts
    collect(n)
    vch = {c: list(v) for c, v in ch.items()}
    vnodes = set()
    if virtual:
        for p, q, lam, s in rows:
            if q < n and q in L and p in internal:
                vch.setdefault(p, []).append(q); vnodes.add(q); members[q] = [q]; S[q] = 0.0
    def bc(c):
        pts = members.get(c, []); m = len(pts)
        if m == 0: return 0.0
        k = {}
        for q in pts: k[L[q]] = k.get(L[q], 0) + 1
        return sum(2.0 * kc * kc / (Ltot * (m + Nc[lab])) for lab, kc in k.items())
    sel = set()
    def drop_below(c):
        for d in vch.get(c, []): sel.discard(d); drop_below(d)
    def rec(c):
        cs, cb = np.float32(S.get(c, 0.0)), np.float32(bc(c))
        ts, tb = np.float32(0), np.float32(0)
        for d in vch.get(c, []):
            a, b = rec(d); ts += a; tb += b
        if tb > cb: return ts, tb
        if tb < cb or not (ts > cs):
            sel.add(c); drop_below(c); return cs, cb
        return ts, tb
    if allow_single: rec(n)
    else:
        for d in vch.get(n, []): rec(d)
    return sorted(sel - vnodes)

def labels_probs(rows, n, sel, eps=0.0):
    lab = np.full(n, -1); prob = np.zeros(n)
    if not sel: return lab, prob
    idx = {c: i for i, c in enumerate(sorted(sel))}
    par = {}
    for p, c, lam, s in rows: par[c] = (p, lam)
    root = n
    for q in range(n):
        if q not in par: continue
        p, lam = par[q]
        if lam == 0.0: continue
        c = p
        while c not in sel and c != root: c = par[c][0]
        if c in sel and c != root: lab[q] = idx[c]
        elif c == root and root in sel and len(sel) == 1:
            mx = max(l for pp, cc, l, s in rows if pp == root)
            if (eps > 0 and lam >= 1 / eps) or (eps == 0 and lam >= mx): lab[q] = idx[c]
    for q in range(n):
        if lab[q] < 0 or q not in par: continue
        c = sorted(sel)[lab[q]]
        mx = max([l for pp, cc, l, s in rows if pp == c and s == 1] + [0.0])
        lam = par[q][1]
        prob[q] = 1.0 if (mx == 0 or not np.isfinite(lam)) else min(lam, mx) / mx
    return lab, prob
