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


def test_huge_diagrams_are_refused_at_once():
    """Issue: feed_forward((1000, 1000)) drew a million lines and never returned. Widths are bounded (a schematic
    shows at most 30 nodes per layer) and the refusal says why."""
    import signal

    def timeout(*args):
        raise TimeoutError("did not return within 5 s")

    old = signal.signal(signal.SIGALRM, timeout)
    signal.alarm(5)
    try:
        with pytest.raises(ValueError, match=r"layers\[0\] must be an integer >= 1 and <= 30.*schematic"):
            diagrams.feed_forward((1000, 1000))
        with pytest.raises(ValueError, match="layers: a schematic shows at most 30 layers"):
            diagrams.feed_forward((2,) * 31)
        with pytest.raises(ValueError, match="n_visible"):
            diagrams.rbm(1000, 3)
        with pytest.raises(ValueError, match="ax must be a matplotlib Axes"):
            diagrams.perceptron(3, ax="left")
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)
