"""Module: registration and naming, modes, state dicts, hooks, repr."""

import numpy as np
import pytest

from tinygrad_edu import Value
from tinygrad_edu.autograd import RemovableHandle
from tinygrad_edu.nn import MLP, BatchNorm1d, Linear, Module, ModuleList, Parameter, Sequential
from tinygrad_edu.nn.module import check_input_dtype, zero_grads


class Pair(Module):
    def __init__(self):
        super().__init__()
        self.blocks = {"a": Linear(2, 3, seed=0), "b": [Linear(3, 1, seed=1)]}
        self.scale = Parameter(2.0)

    def forward(self, x):
        return self.blocks["b"][0](self.blocks["a"](x)) * self.scale


def test_parameters_in_attributes_lists_and_dicts_are_registered_and_named():
    m = Pair()
    names = [name for name, _ in m.named_parameters()]
    # a module's own parameters first, then its children's, as in PyTorch
    assert names == ["scale", "blocks.a.weight", "blocks.a.bias", "blocks.b.0.weight",
                     "blocks.b.0.bias"]
    assert [p.name for p in m.parameters()] == names
    assert [type(c).__name__ for c in m.children()] == ["Linear", "Linear"]
    assert [n for n, _ in m.named_modules()] == ["", "blocks.a", "blocks.b.0"]


def test_mlp_parameter_names_follow_the_tree():
    m = MLP(2, [4, 1], seed=0)
    assert [p.name for p in m.parameters()] == [
        "layers.0.weight", "layers.0.bias", "layers.2.weight", "layers.2.bias"]


def test_shared_parameter_is_listed_once():
    lin = Linear(2, 2, seed=0)
    seq = Sequential(lin, lin)
    assert len(seq.parameters()) == 2


def test_train_eval_zero_grad():
    m = MLP(2, [3, 1], batchnorm=True, dropout=0.5, seed=0)
    assert all(mod.training for mod in m.modules())
    m.eval()
    assert not any(mod.training for mod in m.modules())
    m.train()
    out = m(Value(np.ones((4, 2)), requires_grad=False)).sum()
    out.backward()
    assert all(p.grad is not None for p in m.parameters())
    m.zero_grad()
    assert all(p.grad is None for p in m.parameters())


def test_state_dict_round_trip_includes_buffers():
    m = MLP(3, [4, 2], batchnorm=True, seed=0)
    m(Value(np.arange(15.0).reshape(5, 3), requires_grad=False))  # moves running stats
    state = m.state_dict()
    assert "layers.1.running_mean" in state and "layers.1.running_var" in state
    other = MLP(3, [4, 2], batchnorm=True, seed=1)
    other.load_state_dict(state)
    for key, value in other.state_dict().items():
        np.testing.assert_array_equal(value, state[key])


def test_load_state_dict_errors_name_the_keys_and_shapes():
    m = Linear(2, 3, seed=0)
    state = m.state_dict()
    with pytest.raises(KeyError, match=r"missing keys \['bias'\], unexpected keys \['extra'\]"):
        m.load_state_dict({"weight": state["weight"], "extra": np.zeros(1)})
    missing, unexpected = m.load_state_dict({"weight": state["weight"]}, strict=False)
    assert missing == ["bias"] and unexpected == []
    with pytest.raises(ValueError, match=r"weight has shape \(2, 2\) in the state but \(3, 2\)"):
        m.load_state_dict({"weight": np.zeros((2, 2)), "bias": state["bias"]})


def test_forward_hook_sees_and_replaces_the_output():
    m = Linear(2, 2, seed=0)
    seen = []
    handle = m.register_forward_hook(lambda mod, inputs, out: seen.append(out.shape))
    m.register_forward_hook(lambda mod, inputs, out: out * 0)
    out = m(Value(np.ones((3, 2))))
    assert seen == [(3, 2)] and np.all(out.data == 0)
    handle.remove()
    m(Value(np.ones((1, 2))))
    assert seen == [(3, 2)]


def test_module_and_value_hooks_share_one_handle_class():
    m = Linear(2, 2, seed=0)
    v = Value(np.ones(2))
    module_handle = m.register_forward_hook(lambda mod, inputs, out: None)
    value_handle = v.register_hook(lambda grad: None)
    assert type(module_handle) is type(value_handle) is RemovableHandle


def test_repr_prints_the_tree():
    text = repr(MLP(2, [16, 1], seed=0))
    assert text.splitlines() == [
        "MLP(",
        "  (layers.0): Linear(in_features=2, out_features=16, bias=True)",
        "  (layers.1): ReLU()",
        "  (layers.2): Linear(in_features=16, out_features=1, bias=True)",
        ")",
    ]
    assert "BatchNorm1d(3, eps=1e-05, momentum=0.1" in repr(BatchNorm1d(3))


def test_assigning_before_super_init_is_a_clear_error():
    class Broken(Module):
        def __init__(self):
            self.w = Parameter(1.0)

    with pytest.raises(RuntimeError, match=r"Broken: call super\(\).__init__\(\) before"):
        Broken()


def test_buffers_must_be_arrays():
    bn = BatchNorm1d(2)
    with pytest.raises(TypeError, match=r"BatchNorm1d\.running_mean is a buffer"):
        bn.running_mean = Value([0.0, 0.0])


def test_module_list_registers_and_names_its_modules_like_pytorch():
    layers = ModuleList([Linear(2, 3, seed=0)])
    layers.append(Linear(3, 3, seed=1)).extend([Linear(3, 1, seed=2)])
    assert len(layers) == 3 and layers[-1] is layers[2]
    assert [m.out_features for m in layers] == [3, 3, 1]
    assert [name for name, _ in layers.named_parameters()] == [
        "0.weight", "0.bias", "1.weight", "1.bias", "2.weight", "2.bias"]
    assert isinstance(layers[1:], ModuleList) and len(layers[1:]) == 2

    class Net(Module):
        def __init__(self):
            super().__init__()
            self.blocks = layers

        def forward(self, x):
            for block in self.blocks:
                x = block(x)
            return x

    net = Net()
    assert [p.name for p in net.parameters()][:2] == ["blocks.0.weight", "blocks.0.bias"]
    assert len(net.parameters()) == 6 and net(Value(np.ones((4, 2)))).shape == (4, 1)
    layers.insert(0, Linear(2, 2, seed=3))
    assert [m.in_features for m in layers] == [2, 2, 3, 3]
    del layers[0]
    layers[0] = Linear(2, 3, seed=4)
    assert [m.in_features for m in layers] == [2, 3, 3]
    assert "(0): Linear(in_features=2" in repr(layers)


@pytest.mark.parametrize(("call", "error", "message"), [
    (lambda: ModuleList([Linear(2, 2), 3]), TypeError,
     "ModuleList: item 1 is a int, not a Module"),
    (lambda: ModuleList(Linear(2, 2)), TypeError,
     "ModuleList.extend: expected an iterable of Modules; got Linear"),
    (lambda: ModuleList([Linear(2, 2)])[1], IndexError,
     "ModuleList: index 1 is out of range for 1 modules"),
    (lambda: ModuleList([Linear(2, 2)])["a"], TypeError,
     "ModuleList: indices are ints or slices; got 'a'"),
])
def test_module_list_errors(call, error, message):
    with pytest.raises(error, match=message):
        call()


def test_load_state_dict_refuses_non_numeric_data_by_name():
    m = Linear(2, 1, seed=0)
    before = m.weight.data.copy()
    with pytest.raises(TypeError, match=r"load_state_dict: bias holds <U3 data \(\['abc'\]\); "
                                        r"expected numbers"):
        m.load_state_dict({"weight": np.zeros((1, 2)), "bias": ["abc"]})
    np.testing.assert_array_equal(m.weight.data, before)  # nothing copied
    with pytest.raises(ValueError, match=r"bias has shape \(2,\) in the state but \(1,\)"):
        m.load_state_dict({"weight": np.zeros((1, 2)), "bias": np.zeros(2)})
    np.testing.assert_array_equal(m.weight.data, before)


def test_a_parameter_says_what_it_is_and_keeps_its_options():
    p = Parameter(np.ones(2), requires_grad=False, name="w")
    assert repr(p) == ("Parameter(shape=(2,), dtype=float64, data=[1., 1.], "
                       "requires_grad=False, name='w')")
    assert (p.requires_grad, p.name) == (False, "w")
    assert Parameter(np.ones(2), dtype="float32").dtype == np.float32


def test_a_module_without_forward_or_an_attribute_names_itself():
    class Empty(Module):
        pass

    with pytest.raises(NotImplementedError, match=r"^Empty must define forward\(\)$"):
        Empty()(1)
    with pytest.raises(AttributeError, match=r"^Empty has no attribute 'foo'$"):
        Empty().foo  # noqa: B018


def test_a_layer_used_twice_lists_its_parameters_once():
    layer = Linear(2, 2)
    assert len(Sequential(layer, layer).parameters()) == 2
    assert len(list(Sequential(layer, layer).named_parameters())) == 2


def test_a_float64_input_to_a_float32_layer_is_refused_naming_both():
    with pytest.raises(TypeError, match=r"^Linear: the input is float64 but the layer's "
                                        r"parameters are float32; "):
        Linear(2, 3, dtype="float32")(Value(np.ones((1, 2))))
    Linear(2, 3, dtype="float32")(Value(np.ones((1, 2), np.float32)))  # its own dtype is fine


def test_an_input_without_a_dtype_passes_the_dtype_check():
    check_input_dtype("Linear", [[1.0, 2.0]], np.dtype(np.float32))  # a list: nothing to refuse


def test_zero_grads_sets_none_by_default_and_zero_arrays_when_asked():
    p, q, unused = Parameter(np.ones((2, 3))), Parameter(np.ones(2)), Parameter(np.ones(4))
    (p.sum() + q.sum()).backward()
    zero_grads([p, q, unused], set_to_none=False)
    np.testing.assert_array_equal(p.grad, np.zeros((2, 3)))
    np.testing.assert_array_equal(q.grad, np.zeros(2))
    assert unused.grad is None  # no gradient yet: none made up
    zero_grads([p, q])
    assert p.grad is None and q.grad is None


def test_module_zero_grad_without_set_to_none_leaves_zero_arrays():
    m = Linear(2, 3, seed=0)
    m(Value(np.ones((1, 2)))).sum().backward()
    m.zero_grad(set_to_none=False)
    np.testing.assert_array_equal(m.weight.grad, np.zeros((3, 2)))
    np.testing.assert_array_equal(m.bias.grad, np.zeros(3))


def test_a_module_not_yet_initialised_answers_a_missing_attribute_with_attribute_error():
    m = Module.__new__(Module)
    assert getattr(m, "weight", "absent") == "absent"


def test_keyword_arguments_reach_forward():
    class Scale(Module):
        def forward(self, x, factor=1.0):
            return x * factor

    assert Scale()(2.0, factor=3.0) == 6.0


def test_a_forward_hook_receives_the_module_and_its_positional_inputs():
    m = Linear(2, 2, seed=0)
    x = Value(np.ones((1, 2)))
    calls = []
    m.register_forward_hook(lambda mod, inputs, out: calls.append((mod, inputs)))
    m(x)
    assert len(calls) == 1 and calls[0][0] is m and calls[0][1] == (x,)


def test_named_modules_lists_a_shared_module_once_and_goes_on_after_it():
    lin, last = Linear(1, 1, seed=0), Linear(1, 1, seed=1)
    seq = Sequential(lin, lin, last)
    assert [(n, m) for n, m in seq.named_modules()] == [("", seq), ("0", lin), ("2", last)]


def test_named_modules_and_parameters_of_nested_modules_have_dotted_paths():
    inner = Sequential(Linear(1, 1, seed=0))
    outer = Sequential(inner)
    assert [n for n, _ in outer.named_modules()] == ["", "0", "0.0"]
    assert [n for n, _ in outer.named_parameters()] == ["0.0.weight", "0.0.bias"]


def test_a_parameter_shared_by_two_modules_is_listed_once():
    a, b = Linear(2, 2, seed=0), Linear(2, 2, seed=1)
    b.weight = a.weight
    assert [n for n, _ in Sequential(a, b).named_parameters()] == ["0.weight", "0.bias",
                                                                   "1.bias"]


def test_register_buffer_refuses_an_existing_name_or_a_value():
    m = Linear(2, 2, seed=0)
    with pytest.raises(ValueError, match=r"^register_buffer: Linear already has an attribute "
                                         r"'weight'$"):
        m.register_buffer("weight", np.zeros(2))
    with pytest.raises(TypeError, match=r"^Linear\.stats is a buffer: assign an ndarray, not a "
                                        r"Value$"):
        m.register_buffer("stats", Value(np.zeros(2)))


def test_a_buffer_set_to_none_is_none_and_not_saved():
    m = Linear(1, 1, seed=0)
    m.register_buffer("stats", np.ones(2))
    m.stats = None
    assert m.stats is None and "stats" not in m.state_dict()


def test_a_top_level_buffer_is_saved_and_loaded_under_its_own_name():
    bn = BatchNorm1d(2)
    assert list(bn.state_dict()) == ["weight", "bias", "running_mean", "running_var",
                                     "num_batches_tracked"]
    state = bn.state_dict()
    state["running_mean"] = np.array([1.0, 2.0])
    other = BatchNorm1d(2)
    other.load_state_dict(state)
    np.testing.assert_array_equal(other.running_mean, [1.0, 2.0])


def test_a_buffer_of_the_wrong_shape_is_refused():
    bn = BatchNorm1d(2)
    state = bn.state_dict()
    state["running_var"] = np.ones(3)
    with pytest.raises(ValueError, match=r"^load_state_dict: running_var has shape \(3,\) in "
                                         r"the state but \(2,\) in the module$"):
        bn.load_state_dict(state)


def test_a_buffer_not_made_yet_takes_the_loaded_array():
    m = Linear(1, 1, seed=0)
    m.register_buffer("stats", None)
    state = {**m.state_dict(), "stats": np.array([4.0, 5.0])}
    m.load_state_dict(state)
    np.testing.assert_array_equal(m.stats, [4.0, 5.0])


def test_a_missing_key_alone_is_an_error_when_strict():
    m = Linear(2, 1, seed=0)
    with pytest.raises(KeyError, match=r"^\"load_state_dict: missing keys \['bias'\], "
                                       r"unexpected keys \[\]\"$"):
        m.load_state_dict({"weight": np.zeros((1, 2))})


def test_non_strict_loading_skips_an_unexpected_key_and_loads_the_rest():
    m = Linear(2, 1, seed=0)
    missing, unexpected = m.load_state_dict(
        {"extra": np.zeros(1), "weight": np.full((1, 2), 7.0)}, strict=False)
    assert (missing, unexpected) == (["bias"], ["extra"])
    np.testing.assert_array_equal(m.weight.data, [[7.0, 7.0]])


def test_a_bad_value_is_shown_whole_up_to_sixty_characters_then_cut():
    m = Linear(1, 1, seed=0)
    sixty = "x" * 58  # its repr has the two quotes: 60 characters
    with pytest.raises(TypeError, match=rf"^load_state_dict: bias holds <U58 data \('{sixty}'\); "
                                        r"expected numbers \(a bool, int or float array\)$"):
        m.load_state_dict({"bias": sixty}, strict=False)
    cut = "'" + "x" * 56 + r"\.\.\."
    with pytest.raises(TypeError, match=rf"^load_state_dict: bias holds <U59 data \({cut}\); "
                                        r"expected numbers \(a bool, int or float array\)$"):
        m.load_state_dict({"bias": "x" * 59}, strict=False)


def test_train_sets_training_mode_again_everywhere_below():
    m = Sequential(Sequential(Linear(1, 1, seed=0)))
    assert m.eval() is m
    assert not any(mod.training for mod in m.modules())
    assert m.train() is m
    assert all(mod.training is True for mod in m.modules())


def test_requires_grad_freezes_and_unfreezes_every_parameter_below():
    m = Sequential(Linear(2, 2, seed=0), Sequential(Linear(2, 1, seed=1)))
    assert m.requires_grad_(False) is m
    assert not any(p.requires_grad for p in m.parameters())
    m.requires_grad_()
    assert all(p.requires_grad for p in m.parameters())


def test_the_repr_of_a_nested_module_indents_each_level():
    m = Sequential(Sequential(Linear(1, 1, seed=0)), Linear(1, 1, seed=1))
    assert repr(m).splitlines() == [
        "Sequential(",
        "  (0): Sequential(",
        "    (0): Linear(in_features=1, out_features=1, bias=True)",
        "  )",
        "  (1): Linear(in_features=1, out_features=1, bias=True)",
        ")",
    ]
