"""Safe evaluation of the Function-Gym's hidden arithmetic rules (``"c * (a * b) * d"``), without ``eval``.

The original UserRL gym runs ``eval(rule, {"__builtins__": {}}, vars)``. Rules here are parsed with :mod:`ast`
and only numeric literals, the given variables, ``+ - * / **`` and unary ``+ -`` are accepted; anything
else raises :class:`UnsafeExpression`. Evaluation uses Python floats with hard bounds, so no input can hang
or exhaust memory: the text length and AST size are capped, every intermediate value must satisfy
``|v| <= 1e15``, and ``**`` is checked *before* it is computed (``exponent * log10|base| > 15`` is refused).
Arithmetic failures (division by zero, out-of-bound values, complex powers) raise :class:`EvalError`.
Operator precedence and the right-associativity of ``**`` are Python's, because the parser is Python's.
"""

from __future__ import annotations

import ast
import math
from typing import Callable, Mapping

MAX_CHARS = 500
MAX_NODES = 200
MAX_ABS = 1e15
EXPONENT_MAX_ABS = 1e300  # bound inside the right operand of ``**`` (still finite, so never overflows)

_BINOPS = (ast.Add, ast.Sub, ast.Mult, ast.Div, ast.Pow)
_UNARYOPS = (ast.UAdd, ast.USub)


class UnsafeExpression(ValueError):
    """The text is not a well-formed expression of the allowed grammar (or is too long / too big)."""


class EvalError(ArithmeticError):
    """A well-formed expression failed numerically: division by zero, result too large, complex power."""


def _check(v: float, limit: float = MAX_ABS) -> float:
    if not math.isfinite(v) or abs(v) > limit:
        raise EvalError("result too large")
    return v


def _pow(base: float, exp: float, limit: float) -> float:
    if base == 0.0:
        if exp < 0:
            raise EvalError("division by zero (0 raised to a negative power)")
        return 1.0 if exp == 0 else 0.0
    if base < 0 and not float(exp).is_integer():
        raise EvalError("negative base with non-integer exponent")
    # log10 of the result's magnitude; refuse before computing so 10**10**10 never runs
    if exp * math.log10(abs(base)) > math.log10(limit):
        raise EvalError("result too large")
    return _check(base**exp, limit)


def _validate(node: ast.AST, names: frozenset[str] | None) -> None:
    """Reject every node outside the grammar. ``names=None`` accepts any plain variable name."""
    if isinstance(node, ast.Expression):
        _validate(node.body, names)
    elif isinstance(node, ast.Constant):
        if isinstance(node.value, bool) or not isinstance(node.value, (int, float)):
            raise UnsafeExpression(f"only numeric constants are allowed, got {node.value!r}")
    elif isinstance(node, ast.Name):
        if names is not None and node.id not in names:
            raise UnsafeExpression(f"unknown variable {node.id!r}; allowed: {sorted(names)}")
    elif isinstance(node, ast.BinOp) and isinstance(node.op, _BINOPS):
        _validate(node.left, names)
        _validate(node.right, names)
    elif isinstance(node, ast.UnaryOp) and isinstance(node.op, _UNARYOPS):
        _validate(node.operand, names)
    else:
        raise UnsafeExpression(f"disallowed syntax: {type(node).__name__}")


def _parse(expr: str, names: frozenset[str] | None) -> ast.Expression:
    if not isinstance(expr, str):
        raise UnsafeExpression(f"expression must be a str, got {type(expr).__name__}")
    if len(expr) > MAX_CHARS:
        raise UnsafeExpression(f"expression longer than {MAX_CHARS} characters")
    try:
        tree = ast.parse(expr.strip(), mode="eval")
    except (SyntaxError, ValueError, RecursionError, MemoryError) as e:  # ValueError: null bytes
        raise UnsafeExpression(f"not a valid expression: {e}") from None
    # count nodes before the recursive validation so recursion depth is bounded by MAX_NODES
    n_nodes = sum(1 for _ in ast.walk(tree))
    if n_nodes > MAX_NODES:
        raise UnsafeExpression(f"expression has {n_nodes} AST nodes (max {MAX_NODES})")
    _validate(tree, names)
    return tree


def _eval(node: ast.AST, variables: Mapping[str, float], limit: float = MAX_ABS) -> float:
    if isinstance(node, ast.Constant):
        try:
            return _check(float(node.value), limit)
        except OverflowError:  # an integer literal too large for a float
            raise EvalError("result too large") from None
    if isinstance(node, ast.Name):
        try:
            value = variables[node.id]
        except KeyError:
            raise UnsafeExpression(f"unknown variable {node.id!r}; given: {sorted(variables)}") from None
        try:
            return _check(float(value), limit)
        except (TypeError, ValueError, OverflowError):
            raise EvalError(f"variable {node.id!r} is not a finite number: {value!r}") from None
    if isinstance(node, ast.UnaryOp):
        v = _eval(node.operand, variables, limit)
        return -v if isinstance(node.op, ast.USub) else v
    assert isinstance(node, ast.BinOp)  # guaranteed by _validate
    left = _eval(node.left, variables, limit)
    op = node.op
    if isinstance(op, ast.Pow):
        return _pow(left, _eval(node.right, variables, EXPONENT_MAX_ABS), limit)
    right = _eval(node.right, variables, limit)
    if isinstance(op, ast.Add):
        return _check(left + right, limit)
    if isinstance(op, ast.Sub):
        return _check(left - right, limit)
    if isinstance(op, ast.Mult):
        return _check(left * right, limit)
    if right == 0.0:
        raise EvalError("division by zero")
    return _check(left / right, limit)


def compile_rule(expr: str, names: frozenset[str] | None = None) -> Callable[[Mapping[str, float]], float]:
    """Parse and validate ``expr`` once; the returned callable evaluates it on a variable dict.

    ``names`` optionally restricts the variables at compile time (otherwise unknown names fail at call time).
    """
    body = _parse(expr, names).body

    def rule(variables: Mapping[str, float]) -> float:
        return _eval(body, variables)

    return rule


def evaluate(expr: str, variables: Mapping[str, float]) -> float:
    """Evaluate ``expr`` on ``variables``; raises :class:`UnsafeExpression` or :class:`EvalError`."""
    return compile_rule(expr, frozenset(variables))(variables)
