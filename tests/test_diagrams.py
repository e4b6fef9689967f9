import matplotlib

matplotlib.use("Agg")
import io  # noqa: E402

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402
from matplotlib.patches import Circle  # noqa: E402

from mlphys import diagrams  # noqa: E402


def _render(ax):
    buf = io.BytesIO()
    ax.figure.savefig(buf, format="png")
    plt.close(ax.figure)
    return buf.getvalue()


def _circles(ax):
    return [p for p in ax.patches if isinstance(p, Circle)]


def test_each_diagram_renders_with_the_right_graph():
    ax = diagrams.feed_forward((3, 5, 4, 2))
    assert len(_circles(ax)) == 14 and len(ax.lines) == 3 * 5 + 5 * 4 + 4 * 2
    assert _render(ax).startswith(b"\x89PNG")
    ax = diagrams.rbm(4, 3)
    ys = {round(c.center[1], 6) for c in _circles(ax)}
    assert len({c.center for c in _circles(ax)}) == 7 and len(ax.lines) == 12 and ys == {0.0, 2.0}
    # bipartite: every line joins the visible row (y = 0) to the hidden row (y = 2), none stays inside a layer
    assert all(sorted(line.get_ydata()) == [0.0, 2.0] for line in ax.lines)
    _render(ax)
    ax = diagrams.perceptron(3)
    assert len(_circles(ax)) == 5 and len(ax.lines) == 3
    _render(ax)
    for relu in (True, False):
        ax = diagrams.residual_block(relu=relu)
        texts = [t.get_text() for t in ax.texts]
        assert any("skip" in t for t in texts) and ("ReLU" in texts) == relu
        _render(ax)


def test_bad_sizes_are_refused():
    with pytest.raises(ValueError, match="layers"):
        diagrams.feed_forward((3,))
    with pytest.raises(ValueError, match="n_hidden"):
        diagrams.rbm(3, 0)
    with pytest.raises(ValueError, match="n_inputs"):
        diagrams.perceptron(2.5)
