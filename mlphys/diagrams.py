"""Schematic figures of the networks in the book, drawn by code: perceptron, feed-forward network, RBM, residual block.

Each function draws into a Matplotlib ``ax`` (a new figure if none is given) and returns it. Nodes are circles,
connections are lines, so that the tests can count them: a fully connected layer pair of sizes ``m`` and ``n``
has ``m * n`` lines, and an RBM has ``n_visible * n_hidden`` lines and none inside a layer.
"""
from __future__ import annotations

from .validate import Flag, Having, Integer, Optional, Rule, Sequence, params

_NODE = dict(radius=0.2, zorder=3, linewidth=1.2)
_EDGE = dict(color="0.45", linewidth=0.8, zorder=1)


def _axes(ax, size):
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=size)
    ax.set_aspect("equal")
    ax.axis("off")
    return ax


def _node(ax, x, y, color="white", label=None, fontsize=10):
    from matplotlib.patches import Circle

    ax.add_patch(Circle((x, y), facecolor=color, edgecolor="k", **_NODE))
    if label:
        ax.text(x, y, label, ha="center", va="center", fontsize=fontsize, zorder=4)


def _column(n, x, spread=0.75):
    """``n`` node positions in a vertical column centred on y = 0."""
    return [(x, (n - 1) / 2 * spread - i * spread) for i in range(n)]


def _connect(ax, left, right):
    for x0, y0 in left:
        for x1, y1 in right:
            ax.plot([x0, x1], [y0, y1], **_EDGE)


#: None (a new figure) or a Matplotlib Axes to draw into (checked without importing Matplotlib first)
_AXES = Optional(Having("add_patch", "plot", "text", "set_xlim", what="a matplotlib Axes",
                        hint="pass plt.subplots()[1] or None"))


#: the widest layer drawn: more nodes than a schematic can show, and m * n lines between two layers to draw
MAX_NODES = 30
_WIDTH = Integer(ge=1, le=MAX_NODES, typical=(1, 5),
                 hint=f"a schematic shows at most {MAX_NODES} nodes per layer; draw a representative smaller network")


@params(n_inputs=_WIDTH, ax=_AXES)
def perceptron(n_inputs: int = 3, *, ax=None):
    """Rosenblatt's perceptron: inputs x_i, weights w_i, the weighted sum plus bias, a step activation, one output."""
    ax = _axes(ax, (6, 2.8))
    inputs = _column(n_inputs, 0.0)
    for i, (x, y) in enumerate(inputs):
        _node(ax, x, y, "#dbe9f6", f"$x_{i + 1}$")
        ax.text((x + 2.0) / 2, y / 2 + 0.12, f"$w_{i + 1}$", fontsize=9, ha="center", color="0.3")
    _connect(ax, inputs, [(2.0, 0.0)])
    _node(ax, 2.0, 0.0, "#fde3c8", r"$\Sigma$")
    ax.text(2.0, -0.45, "$+\\,b$", ha="center", fontsize=9)
    ax.annotate("", xy=(3.2, 0.0), xytext=(2.2, 0.0), arrowprops=dict(arrowstyle="->"))
    _node(ax, 3.4, 0.0, "#fde3c8", r"$f$")
    ax.annotate("", xy=(4.4, 0.0), xytext=(3.6, 0.0), arrowprops=dict(arrowstyle="->"))
    ax.text(4.5, 0.0, r"$y = f\left(\sum_i w_i x_i + b\right)$", va="center", fontsize=10)
    ax.set_xlim(-0.4, 7.2)
    ax.set_ylim(-(n_inputs + 1) * 0.38, (n_inputs + 1) * 0.38)
    return ax


@params(Rule("layers", lambda layers: len(layers) <= MAX_NODES,
             f"a schematic shows at most {MAX_NODES} layers; draw a representative smaller network"),
        layers=Sequence(_WIDTH, min_length=2, hint="the widths, input first: at least an input and an output layer"),
        ax=_AXES)
def feed_forward(layers=(3, 5, 5, 2), *, ax=None):
    """A fully connected feed-forward network with the given layer widths (input first, output last)."""
    layers = list(layers)
    ax = _axes(ax, (1.6 * len(layers) + 1, 0.6 * max(layers) + 1))
    columns = [_column(n, 1.6 * l) for l, n in enumerate(layers)]
    for left, right in zip(columns[:-1], columns[1:]):
        _connect(ax, left, right)
    colors = ["#dbe9f6"] + ["#e8e8e8"] * (len(layers) - 2) + ["#fde3c8"]
    for l, (col, color) in enumerate(zip(columns, colors)):
        for x, y in col:
            _node(ax, x, y, color)
        name = "input" if l == 0 else "output" if l == len(layers) - 1 else f"hidden {l}"
        ax.text(col[0][0], col[0][1] + 0.45, name, ha="center", fontsize=9)
    top = max(c[0][1] for c in columns)
    ax.set_xlim(-0.5, 1.6 * (len(layers) - 1) + 0.5)
    ax.set_ylim(-top - 0.4, top + 0.8)
    return ax


@params(n_visible=_WIDTH, n_hidden=_WIDTH, ax=_AXES)
def rbm(n_visible: int = 4, n_hidden: int = 3, *, ax=None):
    """The bipartite graph of a restricted Boltzmann machine: every visible unit coupled to every hidden one
    (weights W_ij), biases a_i and b_j on the units, no connection inside a layer."""
    ax = _axes(ax, (0.9 * max(n_visible, n_hidden) + 1.5, 3.0))
    visible = [(-y, 0.0) for _, y in _column(n_visible, 0.0, 0.9)]
    hidden = [(-y, 2.0) for _, y in _column(n_hidden, 0.0, 0.9)]
    _connect(ax, visible, hidden)
    for i, (x, y) in enumerate(visible):
        _node(ax, x, y, "#dbe9f6", f"$v_{i + 1}$", 9)
    for j, (x, y) in enumerate(hidden):
        _node(ax, x, y, "#fde3c8", f"$h_{j + 1}$", 9)
    half = 0.45 * max(n_visible, n_hidden)
    ax.text(half + 0.3, 0.0, r"visible $\mathbf{v}$ (biases $a_i$)", va="center", fontsize=9)
    ax.text(half + 0.3, 2.0, r"hidden $\mathbf{h}$ (biases $b_j$)", va="center", fontsize=9)
    ax.text(half + 0.3, 1.0, r"weights $W_{ij}$", va="center", fontsize=9, color="0.3")
    ax.set_xlim(-half - 0.4, half + 3.2)
    ax.set_ylim(-0.5, 2.5)
    return ax


@params(relu=Flag(), ax=_AXES)
def residual_block(*, relu: bool = True, ax=None):
    """A residual block: the convolution branch K_l * psi_l added to the identity (skip) branch, then, with
    ``relu=True``, a ReLU - psi_{l+1} = ReLU(psi_l + K_l * psi_l); without it, one explicit Euler step of a PDE."""
    from matplotlib.patches import FancyBboxPatch

    ax = _axes(ax, (7, 2.6))
    arrow = dict(arrowstyle="->", linewidth=1.2)
    boxes = [(2.2, r"$K_l * \psi_l$")] + ([(5.4, "ReLU")] if relu else [])
    for x, text in boxes:
        ax.add_patch(FancyBboxPatch((x - 0.6, -0.3), 1.2, 0.6, boxstyle="round,pad=0.05", facecolor="#e8e8e8",
                                    edgecolor="k", zorder=2))
        ax.text(x, 0.0, text, ha="center", va="center", fontsize=10, zorder=3)
    _node(ax, 4.0, 0.0, "white", "+")
    end = 7.4 if relu else 5.6
    ax.text(0.0, 0.0, r"$\psi_l$", ha="center", va="center", fontsize=12)
    ax.text(end, 0.0, r"$\psi_{l+1}$", ha="center", va="center", fontsize=12)
    segments = [(0.3, 1.55), (2.85, 3.78)] + ([(4.22, 4.75), (6.05, 7.05)] if relu else [(4.22, end - 0.35)])
    for x0, x1 in segments:
        ax.annotate("", xy=(x1, 0.0), xytext=(x0, 0.0), arrowprops=arrow)
    ax.plot([0.6, 0.6, 4.0], [0.0, 0.9, 0.9], color="k", linewidth=1.2)
    ax.annotate("", xy=(4.0, 0.22), xytext=(4.0, 0.9), arrowprops=arrow)
    ax.text(2.3, 1.05, r"identity (skip connection): $\psi_l$", ha="center", fontsize=9)
    formula = (r"$\psi_{l+1} = \mathrm{ReLU}(\psi_l + K_l * \psi_l)$" if relu else
               r"$\psi_{l+1} = \psi_l + K_l * \psi_l$: one explicit Euler step of a PDE")
    ax.text(end / 2, -0.75, formula, ha="center", fontsize=9)
    ax.set_xlim(-0.4, end + 0.5)
    ax.set_ylim(-1.0, 1.3)
    return ax
