"""Reading a torch model's architecture: hidden spaces, the layers that write and read them.

A model is traced with ``torch.fx`` into values (the outputs of its operations) and operations.
Two unions are kept over the values:

* **tie classes** (``ties``): values whose channels are the same neurons, joined by every
  channel-wise operation (activations, pooling, ``Flatten``, ``BatchNorm``, residual additions).
  One permutation acts on a whole tie class; a class that contains the model's input or output
  is fixed (its channel order is part of the function).
* **scale classes** (``scales``): the finer classes of values joined by the operations through
  which a per-channel linear map passes unchanged (activations, pooling, ``Flatten``, additions,
  *not* BatchNorm, which normalises it away). Sign flips, positive rescalings and GL(n) act per
  scale class.

Each parameter a class touches is recorded as a :class:`Touch` (parameter, axis, role, block):
``writer`` (rows of a Linear or output channels of a Conv and their bias: g acts as G),
``reader`` (columns: G^{-T}, in blocks of ``block`` features after a Flatten), ``bn_writer``
(the affine weight and bias of a BatchNorm whose output lies in the class: diagonal g) and
``absorber`` (the affine weight of a BatchNorm whose *input* lies in the class: the sign of g).
"""

from __future__ import annotations

import operator
from dataclasses import dataclass, field
from typing import Any

import networkx as nx
import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from .._errors import InputError

__all__ = ["Architecture", "Touch", "ScaleClass", "TieClass", "trace", "SUPPORTED"]

# name -> (positively homogeneous, odd, linear)
_ACT = {
    "relu": (True, False, False),
    "leaky_relu": (True, False, False),
    "tanh": (False, True, False),
    "sigmoid": (False, False, False),
    "gelu": (False, False, False),
    "silu": (False, False, False),
    "softplus": (False, False, False),
    "identity": (True, True, True),
    "max_pool": (True, False, False),
    "avg_pool": (True, True, True),
    "flatten": (True, True, True),
    "add": (True, True, True),
    "no-affine-absorber": (True, False, False),  # a BatchNorm without affine weight reads the class
}
_MODULE_ACT = {
    nn.ReLU: "relu", nn.LeakyReLU: "leaky_relu", nn.Tanh: "tanh", nn.Sigmoid: "sigmoid", nn.GELU: "gelu",
    nn.SiLU: "silu", nn.Softplus: "softplus", nn.Identity: "identity", nn.MaxPool1d: "max_pool",
    nn.MaxPool2d: "max_pool", nn.AvgPool1d: "avg_pool", nn.AvgPool2d: "avg_pool", nn.AdaptiveAvgPool1d: "avg_pool",
    nn.AdaptiveAvgPool2d: "avg_pool",
}
_FUNC_ACT = {
    torch.relu: "relu", F.relu: "relu", torch.tanh: "tanh", F.tanh: "tanh", torch.sigmoid: "sigmoid",
    F.sigmoid: "sigmoid", F.gelu: "gelu", F.silu: "silu", F.softplus: "softplus", F.leaky_relu: "leaky_relu",
}
_METHOD_ACT = {"relu": "relu", "tanh": "tanh", "sigmoid": "sigmoid"}
_ADD = {operator.add, operator.iadd, torch.add}
_ATEN_ACT = {"relu.default": "relu", "tanh.default": "tanh", "sigmoid.default": "sigmoid", "gelu.default": "gelu",
             "silu.default": "silu", "softplus.default": "softplus", "leaky_relu.default": "leaky_relu"}

SUPPORTED = ("Linear, Conv1d, Conv2d (groups=1), BatchNorm1d, BatchNorm2d, ReLU, LeakyReLU, Tanh, Sigmoid, GELU, "
             "SiLU, Softplus, Identity, MaxPool/AvgPool/AdaptiveAvgPool 1d/2d, Flatten (start_dim=1), nested "
             "Sequential, residual additions x + y, torch.relu/tanh/sigmoid, F.relu/gelu/silu/softplus/leaky_relu, "
             "torch.flatten(x, 1), and the same operations in a torch.export graph (.pt2)")


@dataclass(frozen=True)
class Touch:
    """Coordinates of one parameter indexed by the channels of a class."""

    param: str
    axis: int
    role: str  # writer | reader | bn_writer | absorber
    block: int = 1


@dataclass
class ScaleClass:
    """Values whose channels share one per-channel linear map (sign, scale or GL(n))."""

    index: int
    tie: int
    values: list[str]
    acts: set[str] = field(default_factory=set)
    touches: list[Touch] = field(default_factory=list)
    blocked: list[str] = field(default_factory=list)  # reasons no linear map may act
    bn_eps: list[float] = field(default_factory=list)  # eps of BatchNorms absorbing this class
    bn_buffers: list[str] = field(default_factory=list)  # BatchNorm modules whose running stats follow it
    width: int = 0

    def allows(self, kind: str) -> bool:
        """Whether ``kind`` in ("sign", "scale", "gl") acts on this class."""
        if self.blocked:
            return False
        col = {"scale": 0, "sign": 1, "gl": 2}[kind]
        if not all(_ACT[a][col] for a in self.acts):
            return False
        if kind == "gl":
            return all(t.role in ("writer", "reader") for t in self.touches)
        return True


@dataclass
class TieClass:
    """Values whose channels are the same neurons: one permutation serves them all."""

    index: int
    values: list[str]
    width: int
    fixed: str | None  # reason the channel order is fixed (model input or output), else None
    scales: list[int]
    touches: list[Touch]  # unique (param, axis) pairs permuted with the class
    buffers: list[str]  # BatchNorm modules whose running stats are permuted


@dataclass
class Architecture:
    """The traced architecture: parameters in ``module.parameters()`` order and the classes."""

    params: list[tuple[str, tuple[int, ...]]]
    offsets: dict[str, int]
    ties: list[TieClass]
    scales: list[ScaleClass]
    graph: Any  # networkx.DiGraph of value and layer nodes
    module_types: tuple[tuple[str, str], ...]

    @property
    def param_dim(self) -> int:
        return sum(int(np.prod(s)) for _, s in self.params)

    def index(self, t: Touch, width: int) -> np.ndarray:
        """Flat coordinates of touch ``t`` as an int64 array of shape (width, m): row c = channel c."""
        shape = dict(self.params)[t.param]
        idx = np.arange(int(np.prod(shape)), dtype=np.int64).reshape(shape) + self.offsets[t.param]
        idx = np.moveaxis(idx, t.axis, 0)
        return idx.reshape(width, -1)


class _UF:
    def __init__(self) -> None:
        self.parent: dict[str, str] = {}

    def add(self, a: str) -> None:
        self.parent.setdefault(a, a)

    def find(self, a: str) -> str:
        while self.parent[a] != a:
            self.parent[a] = self.parent[self.parent[a]]
            a = self.parent[a]
        return a

    def union(self, a: str, b: str) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[rb] = ra


def trace(module: Any) -> Architecture:
    """Trace ``module`` into an :class:`Architecture`; unsupported operations raise ``InputError``."""
    if not isinstance(module, nn.Module):
        raise InputError(f"expected a torch.nn.Module, got {type(module).__name__}")
    if isinstance(module, torch.fx.GraphModule) and any(n.op == "get_attr" for n in module.graph.nodes):
        return _Reader(module, module, exported=True).run()  # e.g. torch.export's .module(): aten operations
    leaf = torch.fx.Tracer().is_leaf_module(module, "")  # a bare Linear, Conv, ...: no hidden space
    try:
        gm = torch.fx.symbolic_trace(nn.Sequential(module) if leaf else module)
    except Exception as exc:  # fx raises many types on data-dependent control flow
        line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise InputError(f"cannot trace {type(module).__name__} with torch.fx ({line}); symfix.nets needs a model "
                         "without data-dependent control flow, built from: " + SUPPORTED) from None
    return _Reader(module, gm).run()


class _Reader:
    def __init__(self, module: nn.Module, gm: Any, exported: bool = False) -> None:
        self.module, self.gm = module, gm
        self.mods = dict(gm.named_modules())
        self.tie, self.scale = _UF(), _UF()
        self.layout: dict[str, str] = {}
        self.touch: list[tuple[str, Touch]] = []  # (value, touch): the value's scale class owns it
        self.producer: dict[str, str] = {}  # value -> writer | op | bn | bn-plain | input
        self.acts: list[tuple[str, str]] = []  # (value, act name)
        self.width: dict[str, int] = {}
        self.bn: list[tuple[str, str, str, bool, float]] = []  # (module name, input, output, affine, eps)
        self.boundary: dict[str, str] = {}
        self.calls: dict[str, int] = {}
        self.g = nx.DiGraph()
        self.label: dict[str, str] = {}
        self.attr: dict[str, str] = {}
        self.exported = exported
        self.shapes = {n: tuple(p.shape) for n, p in module.named_parameters()}
        self.buffers = {n: tuple(b.shape) for n, b in module.named_buffers()}

    def value(self, name: str, layout: str, producer: str) -> None:
        self.tie.add(name)
        self.scale.add(name)
        self.layout[name] = layout
        self.producer[name] = producer
        self.g.add_node(name, kind="value")

    def arg(self, node: Any, what: str, k: int = 0) -> str:
        a = node.args[k] if len(node.args) > k else None
        if not isinstance(a, torch.fx.Node):
            raise InputError(f"{what}: argument {k} is not a tensor computed by the model; supported: {SUPPORTED}")
        return a.name

    def join(self, a: str, b: str, act: str, *, scale: bool = True) -> None:
        self.tie.union(a, b)
        if scale:
            self.scale.union(a, b)
        self.acts.append((b, act))

    def run(self) -> Architecture:
        for node in self.gm.graph.nodes:
            self.node(node)
        return self.finish()

    def node(self, node: Any) -> None:
        name, op = node.name, node.op
        if op == "placeholder":
            self.value(name, "any", "input")
            self.boundary[name] = "the model's input"
        elif op == "output":
            outs = node.args[0]
            for o in (outs if isinstance(outs, (tuple, list)) else [outs]):
                if isinstance(o, torch.fx.Node):
                    self.boundary[o.name] = "the model's output"
        elif op == "call_module":
            self.call_module(node)
        elif op == "call_function":
            self.call_function(node)
        elif op == "call_method":
            self.call_method(node)
        elif op == "get_attr" and self.exported:
            self.attr[name] = str(node.target)
        else:
            raise InputError(f"operation {name} ({op} {node.target}) reads a parameter directly; symfix.nets reads "
                             f"models built from modules: {SUPPORTED}")

    def layer(self, label: str, kind: str, reads: list[str], writes: str) -> None:
        self.g.add_node(label, kind="layer", type=kind)
        for r in reads:
            self.g.add_edge(r, label)
        self.g.add_edge(label, writes)

    def call_module(self, node: Any) -> None:
        target, name = str(node.target), node.name
        if target.startswith("_guards_fn"):  # torch.export's input guards: no value
            return
        m = self.mods[target]
        self.calls[target] = self.calls.get(target, 0) + 1
        if self.calls[target] > 1 and any(True for _ in m.parameters(recurse=False)):
            raise InputError(f"layer {target!r} is called twice (shared weights); symfix.nets supports each "
                             "parametrised layer once")
        where = f"layer {target!r} ({type(m).__name__})"
        x = self.arg(node, where)
        bias = f"{target}.bias" if getattr(m, "bias", None) is not None else None
        if isinstance(m, nn.Linear):
            self.linear(name, x, f"{target}.weight", bias, m.out_features, where, conv=False)
        elif isinstance(m, (nn.Conv1d, nn.Conv2d)):
            if m.groups != 1:
                raise InputError(f"{where} has groups={m.groups}; symfix.nets supports groups=1 only")
            self.linear(name, x, f"{target}.weight", bias, m.out_channels, where, conv=True)
        elif isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d)):
            self.batchnorm(name, x, target, m.affine, float(m.eps), m.num_features)
        elif isinstance(m, nn.Flatten):
            if m.start_dim != 1 or m.end_dim != -1:
                raise InputError(f"{where} flattens dims {m.start_dim}..{m.end_dim}; only Flatten(start_dim=1) is supported")
            self.value(name, "flattened", "op")
            self.join(x, name, "flatten")
        elif type(m) in _MODULE_ACT:
            self.value(name, self.layout[x], "op")
            self.join(x, name, _MODULE_ACT[type(m)])
        else:
            raise InputError(f"{where} is not supported by symfix.nets (a wrong group is never given silently); "
                             f"supported: {SUPPORTED}")
        self.layer(target, type(m).__name__, [x], name)
        self.label[name] = f"{target}:{type(m).__name__}"

    def linear(self, name: str, x: str, weight: str, bias: str | None, out: int, where: str, *, conv: bool) -> None:
        """A Linear (flat) or Conv (spatial) layer: reads x's channels, writes ``out`` new ones."""
        if conv and self.layout[x] not in ("any", "spatial"):
            raise InputError(f"{where} reads a flat (Linear) output; reshapes are not supported")
        if not conv and self.layout[x] == "spatial":
            raise InputError(f"{where} reads a convolution's output without a Flatten; add nn.Flatten()")
        self.value(name, "spatial" if conv else "flat", "writer")
        self.touch += [(x, Touch(weight, 1, "reader")), (name, Touch(weight, 0, "writer"))]
        if bias is not None:
            self.touch.append((name, Touch(bias, 0, "writer")))
        self.width[name] = out

    def batchnorm(self, name: str, x: str, prefix: str, affine: bool, eps: float, width: int) -> None:
        self.value(name, self.layout[x], "bn" if affine else "bn-plain")
        self.tie.union(x, name)
        self.width[name] = width
        if affine:
            self.touch += [(name, Touch(f"{prefix}.weight", 0, "bn_writer")),
                           (name, Touch(f"{prefix}.bias", 0, "bn_writer")),
                           (x, Touch(f"{prefix}.weight", 0, "absorber"))]
        self.bn.append((prefix, x, name, affine, eps))

    def aten(self, node: Any) -> bool:
        """Operations of a ``torch.export`` graph (parameters read through get_attr)."""
        f, name = node.target, node.name
        key = getattr(f, "__name__", "")  # e.g. "linear.default"
        where = f"operation {name} (aten.{key})"
        if key in ("linear.default", "conv1d.default", "conv2d.default"):
            conv = key != "linear.default"
            groups = node.args[6] if len(node.args) > 6 else node.kwargs.get("groups", 1)
            if conv and groups != 1:
                raise InputError(f"{where} has groups={groups}; symfix.nets supports groups=1 only")
            x = self.arg(node, where)
            w = self.attr_of(node.args[1], where)
            b = self.attr_of(node.args[2], where) if len(node.args) > 2 and node.args[2] is not None else None
            self.linear(name, x, w, b, self.shapes[w][0], where, conv=conv)
            self.layer(w.rsplit(".", 1)[0], "Conv" if conv else "Linear", [x], name)
            self.label[name] = f"{w.rsplit('.', 1)[0]}:{'Conv' if conv else 'Linear'}"
        elif key == "batch_norm.default":
            x = self.arg(node, where)
            w = node.args[1]
            rm = self.attr_of(node.args[3], where)
            prefix = rm.rsplit(".", 1)[0]
            eps = float(node.args[7]) if len(node.args) > 7 else 1e-5
            self.batchnorm(name, x, prefix, w is not None, eps, self.buffers[rm][0])
            self.layer(prefix, "BatchNorm", [x], name)
            self.label[name] = f"{prefix}:BatchNorm"
        elif key in _ATEN_ACT:
            self.activation(node, where, _ATEN_ACT[key])
        elif key == "add.Tensor":
            if node.kwargs.get("alpha", 1) != 1:
                raise InputError(f"{where}: only plain additions x + y are supported")
            self.add(node, where)
        elif key == "flatten.using_ints":
            self.flatten(node, where)
        else:
            return False
        return True

    def attr_of(self, a: Any, where: str) -> str:
        if not isinstance(a, torch.fx.Node) or a.name not in self.attr:
            raise InputError(f"{where}: its weight is not a parameter of the model")
        return self.attr[a.name]

    def call_function(self, node: Any) -> None:
        f, name = node.target, node.name
        where = f"operation {name} ({getattr(f, '__name__', f)})"
        if f in _ADD:
            self.add(node, where)
        elif isinstance(f, torch._ops.OpOverload) and self.aten(node):
            pass
        elif f in _FUNC_ACT:
            self.activation(node, where, _FUNC_ACT[f])
        elif f is torch.flatten:
            self.flatten(node, where)
        else:
            raise InputError(f"{where} is not supported by symfix.nets; supported: {SUPPORTED}")

    def call_method(self, node: Any) -> None:
        name, meth = node.name, node.target
        where = f"operation {name} (.{meth}())"
        if meth in _METHOD_ACT:
            self.activation(node, where, _METHOD_ACT[meth])
        elif meth == "add":
            self.add(node, where)
        elif meth == "flatten":
            self.flatten(node, where)
        else:
            raise InputError(f"{where} is not supported by symfix.nets; supported: {SUPPORTED}")

    def activation(self, node: Any, where: str, act: str) -> None:
        """A channel-wise function call (torch.relu, x.tanh(), aten.gelu, ...): same channels as its input."""
        x = self.arg(node, where)
        self.value(node.name, self.layout[x], "op")
        self.join(x, node.name, act)
        self.layer(node.name + "_op", act, [x], node.name)

    def add(self, node: Any, where: str) -> None:
        if len(node.args) != 2 or node.kwargs:
            raise InputError(f"{where}: only plain additions x + y of two model tensors are supported")
        a, b = self.arg(node, where, 0), self.arg(node, where, 1)
        if self.layout[a] != self.layout[b]:
            raise InputError(f"{where} adds tensors of different layouts ({self.layout[a]}, {self.layout[b]})")
        self.value(node.name, self.layout[a], "op")
        self.join(a, node.name, "add")
        self.join(b, node.name, "add")
        self.layer(node.name + "_op", "add", [a, b], node.name)

    def flatten(self, node: Any, where: str) -> None:
        x = self.arg(node, where)
        start = node.args[1] if len(node.args) > 1 else node.kwargs.get("start_dim", 0)
        end = node.args[2] if len(node.args) > 2 else node.kwargs.get("end_dim", -1)
        if start != 1 or end != -1:
            raise InputError(f"{where}: only flatten(x, 1) is supported (got start_dim={start}, end_dim={end})")
        self.value(node.name, "flattened", "op")
        self.join(x, node.name, "flatten")
        self.layer(node.name + "_op", "flatten", [x], node.name)

    # ------------------------------------------------------------------------------ classes

    def finish(self) -> Architecture:
        values = list(self.layout)
        tie_root = {v: self.tie.find(v) for v in values}
        sc_root = {v: self.scale.find(v) for v in values}
        tie_ids = {r: k for k, r in enumerate(dict.fromkeys(tie_root[v] for v in values))}
        sc_ids = {r: k for k, r in enumerate(dict.fromkeys(sc_root[v] for v in values))}
        scales = [ScaleClass(k, -1, []) for k in range(len(sc_ids))]
        ties = [TieClass(k, [], 0, None, [], [], []) for k in range(len(tie_ids))]
        for v in values:
            t, s = tie_ids[tie_root[v]], sc_ids[sc_root[v]]
            ties[t].values.append(self.label.get(v, v))
            scales[s].values.append(self.label.get(v, v))
            scales[s].tie = t
            if s not in ties[t].scales:
                ties[t].scales.append(s)
            if v in self.boundary and ties[t].fixed is None:
                ties[t].fixed = f"holds {self.boundary[v]}"
            if self.producer[v] == "bn-plain":
                scales[s].blocked.append("a BatchNorm without affine parameters writes it")
            self.g.nodes[v]["tie"], self.g.nodes[v]["space"] = t, s
            self.g.nodes[v]["label"] = self.label.get(v, v)
        for v, act in self.acts:
            scales[sc_ids[sc_root[v]]].acts.add(act)
        for v, w in self.width.items():
            t = ties[tie_ids[tie_root[v]]]
            if t.width and t.width != w:
                raise InputError(f"value {v} has {w} channels but is tied to a space of {t.width}")
            t.width = w
        for target, x, _, affine, eps in self.bn:
            s = scales[sc_ids[sc_root[x]]]
            s.bn_eps.append(eps)
            s.bn_buffers.append(target)
            if not affine:
                s.acts.add("no-affine-absorber")
            ties[tie_ids[tie_root[x]]].buffers.append(target)
        shapes = {n: tuple(p.shape) for n, p in self.module.named_parameters()}
        seen: set[tuple[int, str, int]] = set()
        for v, t in self.touch:
            tie, sc = ties[tie_ids[tie_root[v]]], scales[sc_ids[sc_root[v]]]
            if tie.fixed is not None:
                continue
            size = shapes[t.param][t.axis]
            if size % tie.width:
                raise InputError(f"{t.param} has {size} entries along axis {t.axis}, not a multiple of the "
                                 f"{tie.width} channels it reads")
            block = size // tie.width
            if block > 1 and self.layout[v] != "flattened":
                raise InputError(f"{t.param} reads {size} features from a space of {tie.width} channels")
            t = Touch(t.param, t.axis, t.role, block)
            sc.touches.append(t)
            if t.role != "absorber" and (tie.index, t.param, t.axis) not in seen:
                seen.add((tie.index, t.param, t.axis))
                tie.touches.append(t)
        for s in scales:
            s.width = ties[s.tie].width
        params = [(n, tuple(p.shape)) for n, p in self.module.named_parameters()]
        offsets, off = {}, 0
        for n, shp in params:
            offsets[n] = off
            off += int(np.prod(shp))
        types = tuple((n, type(m).__name__) for n, m in self.module.named_modules())
        return Architecture(params, offsets, ties, scales, self.g, types)
