"""The engine's allocation pattern across training steps, in a fresh process as a user's
script runs: a step written by hand as the README writes it must not hand its memory back
to the system at one step's end and take it again, page by page, in the next."""

import json
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from tinygrad_edu import Value

# The 784-1024-1024-10 step of benchmarks/bench_mlp_step.py (batch 512), the weights drawn
# by nn.MLP (whose model stays alive, as the benchmark keeps it), stepped by hand: every
# intermediate gradient and the graph kept until the step's Values go, the parameters'
# gradients reset to None at the start of the next step.
STEP = textwrap.dedent("""
    import json, resource, sys
    import numpy as np
    import tinygrad_edu.functional as F
    from tinygrad_edu import Value, nn

    dtype = sys.argv[1]
    rng = np.random.default_rng(0)
    X = Value(rng.standard_normal((512, 784)).astype(dtype), requires_grad=False)
    y = rng.integers(0, 10, 512)
    model = nn.MLP(784, [1024, 1024, 10], activation="relu", seed=0, dtype=dtype)
    weights = [p.data.copy() for p in model.parameters()]
    layers = [(Value(w.T.copy()), Value(b.copy())) for w, b in zip(weights[::2], weights[1::2])]
    params = [p for layer in layers for p in layer]

    def step():
        for p in params:
            p.grad = None
        h = X
        for W, b in layers[:-1]:
            h = (h @ W + b).relu()
        W, b = layers[-1]
        loss = F.cross_entropy(h @ W + b, y)
        loss.backward()
        for p in params:
            p.data -= 0.1 * p.grad

    for _ in range(3):
        step()
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    for _ in range(4):
        step()
    faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before
    print(json.dumps(faults / 4))
""")

# Pages the step's arrays span (forward arrays, intermediate and parameter gradients): in
# float32 about 6,000, in float64 twice that. A step that gets them back from the system
# faults on most of them; one that reuses its memory on almost none.
AT_MOST = 600


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_a_step_by_hand_reuses_its_memory_instead_of_faulting_it_back(dtype):
    done = subprocess.run([sys.executable, "-c", STEP, dtype], capture_output=True,
                          text=True, timeout=300, check=True)
    faults = json.loads(done.stdout.splitlines()[-1])
    assert faults <= AT_MOST, f"{faults:.0f} minor page faults per step"


def test_relu_and_its_gradient_take_their_arrays_from_the_kept_ones(monkeypatch):
    from tinygrad_edu.ops import kernels

    made = []
    empty = kernels.empty
    monkeypatch.setattr(kernels, "empty", lambda shape, dtype: made.append(shape) or
                        empty(shape, dtype))
    x = Value(np.linspace(-1.0, 1.0, 128 * 128).reshape(128, 128))  # kept: 128 KB
    x.relu().sum().backward()
    assert made == [(128, 128), (128, 128)]
    np.testing.assert_array_equal(x.grad, (x.data > 0).astype(float))
    small = Value(np.linspace(-1.0, 1.0, 12).reshape(3, 4))  # not kept: empty is not called
    small.relu().sum().backward()
    assert made == [(128, 128), (128, 128)]
    np.testing.assert_array_equal(small.grad, (small.data > 0).astype(float))


def test_a_relu_output_still_held_is_never_overwritten_by_later_steps():
    # large enough to be kept for reuse; its data and a view of it stay held across steps
    x = Value(np.linspace(-1.0, 1.0, 1 << 15))
    y = x.relu()
    data, view = y.data, y.data[::3]
    expected = data.copy()
    del y
    for scale in (-1.0, 2.0, -3.0):
        (x * scale).relu().sum().backward()
    np.testing.assert_array_equal(data, expected)
    np.testing.assert_array_equal(view, expected[::3])
