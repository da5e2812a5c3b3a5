# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # The lectures' claims, measured
#
# Each claim of the "Training Neural Networks" lectures is a function in
# `tinygrad_edu.lessons`: it runs the experiment with the library's own modules, prints
# the numbers it measured and a one-line finding, and writes its figures (shown below the
# cell here). The same lessons run from the command line: `tinygrad-edu lesson list`,
# `tinygrad-edu lesson 4 --fast`.
#
# `FAST = True` runs small networks for few steps, so the whole notebook takes about a
# minute; the numbers are noisier than those of the full runs in `docs/lessons.md`. Set
# it to `False` for those (minutes per lesson), or change `SEED` to see how much a
# finding depends on the draw.

# %%
from IPython.display import Image

from tinygrad_edu.lessons import LESSONS, LessonUnavailable

FAST = True
SEED = 0


def lesson(number):
    """Run lesson ``number``; returns its ``LessonResult`` (``.numbers``, ``.figures``), or
    None when it needs a part of the library this version does not have."""
    try:
        return LESSONS[number][1](fast=FAST, out="lessons", seed=SEED)
    except LessonUnavailable as e:
        print(f"lesson {number} cannot run here: {e}")
        return None


for number, (title, _) in LESSONS.items():
    print(f"{number:2d}. {title}")

# %% [markdown]
# ## 1. Sigmoid's gradient vanishes in a deep net
#
# σ'(z) is at most 0.25, so every sigmoid layer shrinks the gradient flowing back. Compare
# the first layer's gradient norm in a 2-layer and a 9-layer net; the backward view of
# the deep one marks the vanishing nodes (blue borders).

# %%
result = lesson(1)
Image(filename=result.figures[0])

# %% [markdown]
# ## 2. All-positive inputs: weight gradients share a sign
#
# A neuron's weight gradient is its upstream gradient times its inputs; when the inputs
# are all positive, every weight moves the same way at each step, and the path zig-zags.

# %%
result = lesson(2)

# %% [markdown]
# ## 3. Zero initialization: the units stay identical
#
# Same weights, same outputs, same gradients: the units of a layer never tell apart.

# %%
result = lesson(3)

# %% [markdown]
# ## 4. Activation statistics through ten layers
#
# Small random weights: the activations shrink to nothing layer by layer; large ones
# saturate tanh; Xavier keeps tanh's spread, He keeps ReLU's.

# %%
result = lesson(4)

# %% [markdown]
# ## 5. ReLU converges faster than tanh

# %%
result = lesson(5)

# %% [markdown]
# ## 6. A too-high learning rate leaves ReLUs dead
#
# A unit whose input is negative for every example gets no gradient, and never recovers.

# %%
result = lesson(6)

# %% [markdown]
# ## 7. Batch norm makes training insensitive to initialization and learning rate
#
# A grid of weight scales and learning rates, trained with and without batch norm.

# %%
result = lesson(7)

# %% [markdown]
# ## 8. Dropout narrows the train/validation gap on a small training set

# %%
result = lesson(8)

# %% [markdown]
# ## 9. Preprocessing: centring and standardizing; PCA and whitening

# %%
result = lesson(9)

# %% [markdown]
# ## 10. Babysitting: the initial loss is about log C, and 20 examples overfit

# %%
result = lesson(10)

# %% [markdown]
# ## 11. Optimizers on a ravine and on the spiral

# %%
result = lesson(11)

# %% [markdown]
# ## 12. Random search beats grid search under the same budget
#
# When one hyperparameter matters and another does not, a grid tries only a few values of
# the one that matters; random search tries a new one every trial.

# %%
result = lesson(12)

# %% [markdown]
# ## 13. The update/weight ratio is about 1e-3 at a good learning rate

# %%
result = lesson(13)

# %% [markdown]
# ## 14. Transfer learning on a small dataset
#
# Features learned on other digits, frozen or fine-tuned, against training from scratch
# on a few images.

# %%
result = lesson(14)

# %% [markdown]
# ## Try next
#
# - `FAST = False` and run a lesson again: do the full run's numbers tell the same story?
# - Another `SEED`: which findings hold for every draw, and which only on average?
# - Each lesson's source is short (`tinygrad_edu/lessons/`): copy one into a cell and
#   change the experiment.
