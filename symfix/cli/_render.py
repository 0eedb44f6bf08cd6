"""Pictures and Markdown reports (matplotlib, Agg backend; every file written atomically)."""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from .._io import save_figure, write_text

__all__ = ["sharing_figure", "write_report", "plot_training", "plot_discovery", "basis_latex", "network_figure",
           "write_network_report"]


def _plt() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _distinct_colours(k: int, plt: Any) -> list:
    """k colours that stay distinct beyond 20 classes (tab20, then evenly spaced hues); each cell
    also carries its class label c<k>, so a colour is never the only key."""
    if k <= 20:
        cmap = plt.get_cmap("tab20")
        return [cmap(i) for i in range(k)]
    import colorsys

    return [colorsys.hsv_to_rgb((i * 0.618033988749895) % 1.0, 0.45 + 0.35 * (i % 3) / 2, 0.95 - 0.25 * (i % 2))
            for i in range(k)]


def _basis_matrix(E: Any) -> np.ndarray:
    B = E.basis
    if hasattr(B, "toarray"):
        return B.toarray().astype(np.float64)
    return np.array(B.evalf() if hasattr(B, "evalf") else B, dtype=np.float64)


def sharing_figure(problem: Any, path: str, *, title: str = "") -> None:
    """The parameter-sharing pattern as a picture: one cell per parameter, laid out as the
    unit's blocks; tied parameters (the same basis vector) share a colour, '+'/'−' marks the
    sign, grey cells are fixed to 0 and hatched cells mix several basis vectors."""
    plt = _plt()
    E = problem.fixed_subspace()
    B = _basis_matrix(E)
    names = problem.unit.param_names
    D = len(names)
    from ..units import MatrixUnit

    # a matrix unit is drawn as its c x d matrix z; other units row by row
    ncol = problem.unit.d if isinstance(problem.unit, MatrixUnit) else min(D, max(4, int(np.ceil(np.sqrt(D * 2)))))
    nrow = int(np.ceil(D / ncol))
    colours = _distinct_colours(E.dim, plt)
    fig, ax = plt.subplots(figsize=(max(1.1 * ncol + 1, 5.5), 0.8 * nrow + 1.4))
    for r in range(D):
        i, j = divmod(r, ncol)
        nz = np.flatnonzero(np.abs(B[r]) > 1e-12)
        if nz.size == 0:
            color, text, hatch = "0.85", "0", None
        elif nz.size == 1:
            c = int(nz[0])
            color, text, hatch = colours[c], ("+" if B[r, c] > 0 else "−") + f"c{c + 1}", None
        else:
            color, text, hatch = "white", "mix", "///"
        ax.add_patch(plt.Rectangle((j, -i), 1, -1, facecolor=color, edgecolor="k", hatch=hatch))
        ax.text(j + 0.5, -i - 0.38, text, ha="center", va="center", fontsize=9)
        ax.text(j + 0.5, -i - 0.75, names[r], ha="center", va="center", fontsize=6)
    ax.set_xlim(0, ncol)
    ax.set_ylim(-nrow, 0)
    ax.set_aspect("equal")
    ax.axis("off")
    ax.set_title(title or f"parameter sharing: dim E^G = {E.dim} of {D}", fontsize=10, wrap=True)
    fig.text(0.01, 0.01, "same colour and label c<k> = tied (one basis vector); grey = fixed to 0", fontsize=7)
    fig.tight_layout(rect=(0, 0.04, 1, 1))
    save_figure(fig, path)
    plt.close(fig)


def basis_latex(problem: Any) -> str:
    """The exact basis B of E^G (θ = B c) as a LaTeX matrix, rows labelled by parameter."""
    import sympy

    E = problem.fixed_subspace()
    B = E.basis
    M = sympy.Matrix(B.toarray()) if hasattr(B, "toarray") else sympy.Matrix(B)
    return sympy.latex(M, mat_delim="(")


def write_report(spec: Any, analysis: dict, path: str) -> str:
    """Markdown report with the analysis, the LaTeX of the basis and a sharing-pattern PNG
    (written beside it as ``<stem>-sharing.png``); returns the PNG path."""
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    stem = os.path.splitext(os.path.basename(path))[0]
    png = os.path.join(folder, f"{stem}-sharing.png")
    P = spec.problem
    sharing_figure(P, png, title=f"{spec.name}: parameter sharing (dim E^G = {analysis['dims']['E^G']})")
    d = analysis["dims"]
    eq = analysis["equivariance"]
    lines = [
        f"# symfix report: {spec.name}",
        "",
        spec.description,
        "",
        f"- group: `{analysis['group']['spec']}`, order {analysis['group']['order'] or 'infinite'}",
        f"- input X = R^{d['X']}: `{analysis['rho_in']}`; output Y = R^{d['Y']}: `{analysis['rho_out']}`",
        f"- unit: {analysis['unit']['type']} ({analysis['unit']['activation']}), parameters Z = R^{d['Z']}",
        f"- fixed-point subspace: dim E^G = {d['E^G']} (route {analysis['fixed_subspace']['method']}, "
        f"{'exact' if analysis['fixed_subspace']['exact'] else 'numeric'}); character formula: "
        f"{analysis['character_formula_dim'] if analysis['character_formula_dim'] is not None else 'n/a'}",
        f"- joint equivariance: max violation {eq['max_violation']:.2e} (tol {eq['tol']:.0e}) -> "
        f"{'equivariant' if eq['ok'] else 'NOT equivariant'}",
        "",
        "## Basis of E^G",
        "",
        "Parameters θ = B c, rows in the order " + ", ".join(f"`{n}`" for n in analysis["unit"]["param_names"][:24])
        + (" ..." if len(analysis["unit"]["param_names"]) > 24 else "") + ":",
        "",
        "$$",
        f"B = {basis_latex(P)}",
        "$$",
        "",
        "## Parameter sharing",
        "",
        *[f"- `{s}`" for s in analysis["sharing"]],
        "",
        f"![parameter sharing]({os.path.basename(png)})",
        "",
    ]
    write_text(path, "\n".join(lines))
    return png


def plot_training(curves: dict, path: str, *, title: str = "") -> None:
    plt = _plt()
    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    styles = ["-", "--", "-.", ":", (0, (5, 1, 1, 1))]
    markers = ["o", "s", "^", "x", "d"]
    for k, (name, hist) in enumerate(curves.items()):  # coinciding curves stay visible: styles and markers differ
        steps = [h["step"] for h in hist]
        kw = dict(label=name, linestyle=styles[k % 5], marker=markers[k % 5], markevery=max(1, len(steps) // 12), ms=5,
                  alpha=0.85)
        axes[0].plot(steps, [h["loss"] for h in hist], **kw)
        axes[1].plot(steps, [max(h.get("escape", 0.0), 1e-32) for h in hist], **kw)
    axes[0].set_ylabel("training loss on the current batch")
    axes[1].set_ylabel("distance of the particles from E^G\n(mean squared; 1e-32 = exactly inside)")
    for ax in axes:
        ax.set_xlabel("SGD step")
        ax.set_yscale("log")
        ax.grid(True, alpha=0.3)
        ax.legend()
    fig.suptitle(title)
    fig.tight_layout()
    save_figure(fig, path)
    plt.close(fig)


def plot_discovery(history: list, path: str, *, title: str = "", true_dim: int | None = None,
                   verdict: str = "") -> None:
    """Dimension and test statistic per iteration; with ``true_dim`` (the spec's E^G, when the
    group is known) a reference line, and ``verdict`` (exact / not exact, angle) in the figure."""
    plt = _plt()
    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    it = [h["iteration"] for h in history]
    axes[0].step(it, [h["dim"] for h in history], where="mid", label="dim E_j found")
    if true_dim is not None:
        axes[0].axhline(true_dim, color="tab:green", linestyle="--", label=f"dim E^G of the spec's group = {true_dim}")
    top = max([h["dim"] for h in history] + ([true_dim] if true_dim is not None else []))
    axes[0].set_ylim(-0.3, top + 1.2)
    if verdict:
        axes[0].text(0.02, 0.97, verdict, transform=axes[0].transAxes, va="top", fontsize=9,
                     bbox=dict(facecolor="white", edgecolor="0.6"))
    axes[0].legend(loc="lower right", fontsize=8)
    axes[0].set_ylabel("dim E_j")
    closed = [h for h in history if h.get("closure")]
    for h in closed:  # an orbit closure enlarged E_j beyond the directions the test added
        axes[0].annotate(f"+{h['added']} found, +{h['closure']} by orbits", (h["iteration"], h["dim"]),
                         textcoords="offset points", xytext=(4, 6), fontsize=8)
    axes[1].plot(it, [h["t"] for h in history], "o-", label="t statistic of the top off-subspace direction")
    axes[1].plot(it, [h["threshold"] for h in history], "s--", label="threshold (t quantile at alpha/D)")
    if all("quiet" in h for h in history):
        axes[1].plot(it, [h["quiet"] for h in history], ":", color="0.4", label="quiet level (exact needs t below it)")
    probes = [h for h in history if h.get("probe")]
    if probes:
        axes[1].plot([h["iteration"] for h in probes], [h["t"] for h in probes], "D", mfc="none", ms=11,
                     color="tab:purple", label="verification with probe particles")
    leaked = [h for h in history if h["t"] > h["threshold"] and h["added"] == 0]
    if leaked:
        axes[1].plot([h["iteration"] for h in leaked], [h["t"] for h in leaked], "kx", ms=10,
                     label="passes the t test, under the leak bound")
    axes[1].set_yscale("symlog")
    axes[1].legend()
    from matplotlib.ticker import MaxNLocator

    for ax in axes:
        ax.set_xlabel("iteration j")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.grid(True, alpha=0.3)
    axes[0].yaxis.set_major_locator(MaxNLocator(integer=True))
    fig.suptitle(title)
    fig.tight_layout()
    save_figure(fig, path)
    plt.close(fig)


def network_figure(S: Any, path: str, *, title: str = "") -> None:
    """The architecture graph of ``symfix.nets.symmetries``: hidden values coloured by tie class
    (labelled T<k> so that a repeated colour is never ambiguous), fixed ones grey, layers as squares."""
    import networkx as nx

    plt = _plt()
    G = S.graph
    pos = {}
    for x, gen in enumerate(nx.topological_generations(G)):
        for y, n in enumerate(sorted(gen)):
            pos[n] = (x, -y + (len(gen) - 1) / 2)
    free = {h.tie for h in S.hidden_spaces}
    cmap = plt.get_cmap("tab10")
    values = [n for n, d in G.nodes(data=True) if d.get("kind") == "value"]
    layers = [n for n, d in G.nodes(data=True) if d.get("kind") == "layer"]
    colours = [cmap(G.nodes[n]["tie"] % 10) if G.nodes[n]["tie"] in free else (0.8, 0.8, 0.8) for n in values]
    fig, ax = plt.subplots(figsize=(max(6.0, 1.1 * (max(p[0] for p in pos.values()) + 1)), 3.8))
    nx.draw_networkx_edges(G, pos, ax=ax, arrows=True, arrowsize=10, edge_color="0.5", node_size=600)
    nx.draw_networkx_nodes(G, pos, nodelist=layers, node_shape="s", node_color="white", edgecolors="0.3",
                           node_size=600, ax=ax)
    nx.draw_networkx_nodes(G, pos, nodelist=values, node_color=colours, edgecolors="0.2", node_size=600, ax=ax)
    labels = {n: (f"T{G.nodes[n]['tie']}" if G.nodes[n]["tie"] in free else "fixed") for n in values}
    labels.update({n: str(G.nodes[n]["type"])[:8] for n in layers})
    nx.draw_networkx_labels(G, pos, labels=labels, font_size=7, ax=ax)
    ax.set_title(title or "network graph", fontsize=10)
    ax.text(0.0, -0.02, "circles: hidden values (same T<k> and colour = tied, one permutation serves them; grey = "
            "input/output, fixed); squares: layers", transform=ax.transAxes, fontsize=7, va="top")
    ax.axis("off")
    fig.tight_layout()
    save_figure(fig, path)
    plt.close(fig)


def write_network_report(name: str, summary: dict, S: Any, path: str) -> str:
    """Markdown report of ``symfix symmetries`` with the graph PNG beside it; returns the PNG path."""
    folder = os.path.dirname(os.path.abspath(path))
    stem = os.path.splitext(os.path.basename(path))[0]
    png = os.path.join(folder, f"{stem}-graph.png")
    network_figure(S, png, title=f"{name}: hidden spaces and tie classes")
    rows = ["| space | tie class | width | symmetries | values | note |", "|---|---|---|---|---|---|"]
    rows += [f"| {h.index} | {h.tie} | {h.width} | {', '.join(h.symmetries)} | {h.name} | {h.note} |"
             for h in S.hidden_spaces]
    fd = summary["functional_dimension"]
    lines = [f"# symfix symmetries: {name}", "", summary["description"], "",
             f"- parameters D = {summary['param_dim']}", f"- order of the discrete part: {summary['order']}",
             f"- Lie dimension: {summary['lie_dim']}",
             f"- check: {summary['check']}",
             f"- functional dimension D - dim(orbit) = {fd['by_symmetry']}; Jacobian rank: "
             f"{fd['jacobian_rank'] if fd['jacobian_rank'] is not None else fd['note']}", "",
             "## Hidden spaces", "", *rows, "", f"![network graph]({os.path.basename(png)})", ""]
    write_text(path, "\n".join(lines))
    return png
