"""Every audit action and case-trail action the code writes has a plain sentence for the pages."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import matneo
from matneo.auth.users import AUDIT_ACTIONS, AUDIT_TARGETS
from matneo.harm.portal import CHANGE_ACTIONS, ROUTE_STATUSES

SOURCE = Path(matneo.__file__).parent
ACTION = re.compile(r"^[a-z_]+(\.[a-z_]+)?$")


def _strings(node: ast.AST) -> set[str]:
    return {n.value for n in ast.walk(node) if isinstance(n, ast.Constant) and isinstance(n.value, str)}


def written_audit_events() -> tuple[set[str], set[str]]:
    """The action and target-type strings passed to ``audit(...)`` / ``_audit(...)`` anywhere in the package."""
    actions: set[str] = set()
    targets: set[str] = set()
    for path in SOURCE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "audit":
                actions |= _strings(node.args[2])
                targets |= _strings(node.args[3])
            elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "_audit":
                actions |= _strings(node.args[2])
    return actions, targets


def test_every_audit_action_and_target_has_words() -> None:
    actions, targets = written_audit_events()
    assert len(actions) > 15 and all(ACTION.match(a) for a in actions)
    assert actions <= set(AUDIT_ACTIONS), sorted(actions - set(AUDIT_ACTIONS))
    assert targets - {"upload"} <= set(AUDIT_TARGETS)  # uploads are named by their file (see web/pages/data.py)


def test_every_case_trail_action_has_words() -> None:
    trees = [ast.parse(path.read_text(encoding="utf-8")) for path in sorted((SOURCE / "harm" / "portal").glob("*.py"))]
    calls = [
        n
        for tree in trees
        for n in ast.walk(tree)
        if isinstance(n, ast.Call) and getattr(n.func, "id", "") == "_change"
    ]
    written = {s for call in calls for s in _strings(call.args[3]) if not s.endswith(".")}
    # the action held in a variable, and update_route's f"route.{status}"
    written |= {"route.applies_again", "route.deadlines_changed", *(f"route.{s}" for s in ROUTE_STATUSES)}
    assert len(calls) > 8 and all(ACTION.match(a) for a in written)
    assert written <= set(CHANGE_ACTIONS), sorted(written - set(CHANGE_ACTIONS))
