"""The `Target` protocol: what a code generation target provides.

Contract: a target is one package `symgrad.codegen.<name>` whose module
satisfies `Target` (checked structurally; `codegen.TARGETS` lists them).
Everything that depends on a target's syntax lives in its package: the
lowering of each op, the helpers generated code calls, how constants are
printed and stored, stacks, the random-number entry and trainer pieces.
`codegen.module`, `codegen.regions`, `codegen.constants` and
`codegen.trainer` only call these; none of them names a target.

Adding a target (C, next) is one new package implementing this protocol,
and one line in `codegen.TARGETS`; `tests/test_ops.py` checks that its
`LOWERINGS` (with its scalar formulas) covers every op or refuses it by name.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable


@runtime_checkable
class Target(Protocol):
    NAME: str
    # Whether generated functions reuse and free dead temporaries
    # (`codegen.memory`), computing into buffers with `statements_into`.
    PLANS_MEMORY: bool
    DECORATORS: list  # lines above every generated function
    # Op name -> the target's lowering of it (a lowering may be a refusal
    # that names the op and says what to do instead).
    LOWERINGS: dict
    # The module docstring's paragraph on the keyword argument rng.
    RANDOM_DOC: tuple
    # (imports, decoder lines) for stored constants, or None: never stored.
    CONSTANT_DECODER: tuple | None

    # -- statements
    def statements(self, node, out: str, args: list) -> list: ...
    def needs(self, node) -> tuple: ...
    def writes_into(self, node) -> bool: ...
    def statements_into(
        self, node, out: str, args: list, dest: str, scratch=None
    ) -> list: ...

    # Buffer slots kept between calls (`codegen.memory`, PLANS_MEMORY only):
    # whether `node` can be computed into one, the statements doing it, and
    # (lines binding `names` to this thread's slots `slots` = [(shape,
    # dtype)] of function `key`, helpers they need).
    def writes_slot(self, node) -> bool: ...
    def statements_slot(self, node, out: str, args: list, dest: str) -> list: ...
    def slots_entry(self, names: list, key: str, slots: list) -> tuple: ...

    # -- values
    def constant(self, node) -> str: ...
    def entry(self, name: str, access: str, node, label: str, shape_var=None): ...
    def entry_needs(self, node) -> tuple: ...
    def runtime_size(self, name: str, shape_var, axis: int) -> str: ...
    def output(self, node, src: str, pyfloat: bool, shared: bool = False) -> str: ...
    def output_needs(self, node, pyfloat: bool) -> tuple: ...

    # -- module
    def prelude(self, wanted) -> list: ...
    def support(self, wanted) -> list: ...

    # Every name a module may bind at top level (imports, helpers, what stored
    # constants bring): the identifier sanitizer never gives one to a user name.
    def reserved(self) -> frozenset: ...

    # -- stacks (second derivatives through loops): zeros like one stored
    # value `src` of array type `vtype`, and the sum of two of them.
    def stack_zeros(self, vtype, src: str) -> str: ...
    def stack_add(self, vtype, a: str, b: str) -> str: ...

    # -- random numbers: (lines giving `rng` its default, helpers they need)
    def random_entry(self, rng: str) -> tuple: ...

    # -- stored constants: (decoder arguments, comment) for one array, and
    # the value the module would decode (to bind in-process)
    def constant_stored(self, array, little) -> tuple: ...
    def constant_value(self, array): ...

    # -- trainers: (helper blocks, helpers of the target they need). A target
    # may also have `dask_pieces()` (the NumPy one does): the blocks of
    # `train(..., client=)` and `--dask`; trainers of the others refuse them.
    def trainer_pieces(self, optimizer: str) -> tuple: ...
