import inspect, textwrap, numba
import fast_hdbscan.cluster_trees as ct
import fast_hdbscan.hdbscan as fh

def patch_bcubed():
    """fast_hdbscan 0.3.4 + numba 0.68: extract_clusters_bcubed fails to type (an empty reflected list that is
    never appended to in the `bc_simple` specialisation). Same code, the list typed explicitly."""
    src = textwrap.dedent(inspect.getsource(ct.get_condensed_tree_clusters_bcubed.py_func))
    src = src[src.index("def "):]
    old1 = "virtual_nodes = [0 for x in range(0)]"
    new1 = "virtual_nodes = List.empty_list(int64)"
    old2 = "return cluster_elements, np.array(virtual_nodes)"
    new2 = ("out = np.empty(len(virtual_nodes), dtype=np.int64)\n"
            "    for i in range(len(virtual_nodes)):\n        out[i] = virtual_nodes[i]\n"
            "    return cluster_elements, out")
    assert src.count(old1) == 1 and src.count(old2) == 1
    src = src.replace(old1, new1).replace(old2, new2)
    ns = ct.__dict__
    exec(compile(src, "<patched get_condensed_tree_clusters_bcubed>", "exec"), ns)
    ns["get_condensed_tree_clusters_bcubed"] = numba.njit(ns["get_condensed_tree_clusters_bcubed"])
    fh.extract_clusters_bcubed = numba.njit(ct.extract_clusters_bcubed.py_func)
