"""The harness writes no sentences (DESIGN.md, "Numbers apart from words"): no module under
``fastnn/bench/`` holds a string literal of :data:`WORDS` or more words, f-strings included,
outside docstrings, comments and exception messages. Its words live in ``fastnn/report/``
(``reasons``, ``notes``, ``facts``, ``console``), ``fastnn/fmt.py`` and ``fastnn/plotting.py``
(``rung_label``, ``rung_adds``)."""

import ast
import pathlib
import re

import pytest

import fastnn

BENCH = pathlib.Path(fastnn.__file__).parent / "bench"
#: A literal with this many words is a sentence (or a phrase that should be a code).
WORDS = 4
#: A word: two or more letters, maybe hyphenated (a unit, a variable or LLVM's "x" is not one).
WORD = re.compile(r"[A-Za-z]{2,}(?:['’-][A-Za-z]+)*")
#: (module, function) -> why its phrases stay. Keep it short: each entry is a debt.
ALLOWED = {
    ("store.py", "check_record"): "the validator's problem phrase: the message of the "
                                  "ResultsError that load and append raise",
}


def _text(node):
    """A literal's own text: an f-string's constant parts, each placeholder a space."""
    if isinstance(node, ast.Constant):
        return node.value
    return " ".join(v.value if isinstance(v, ast.Constant) else "" for v in node.values)


def words(text):
    """The words of a literal's text."""
    return [t for t in (tok.strip(".,;:!?()[]{}\"'…") for tok in text.split())
            if WORD.fullmatch(t)]


def _exempt(tree):
    """Nodes whose strings are not the harness's output: docstrings (and any other string
    statement), everything under a ``raise``, and the arguments of an exception's constructor."""
    out = set()
    for n in ast.walk(tree):
        if isinstance(n, ast.Expr) and isinstance(n.value, (ast.Constant, ast.JoinedStr)):
            out |= {id(x) for x in ast.walk(n)}
        elif isinstance(n, ast.Raise):
            out |= {id(x) for x in ast.walk(n)}
        elif isinstance(n, ast.Call):
            f = n.func
            name = f.id if isinstance(f, ast.Name) else getattr(f, "attr", "")
            if re.search(r"(Error|Exception|Warning)$", name):
                out |= {id(x) for x in ast.walk(n)}
    return out


def prose(source, name="<source>"):
    """[(line, function, text)] of every literal of ``source`` with :data:`WORDS` or more words
    that is neither exempt (:func:`_exempt`) nor in :data:`ALLOWED`."""
    tree = ast.parse(source)
    skip = _exempt(tree)
    owner = {}
    for fn in ast.walk(tree):
        if isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)):
            for x in ast.walk(fn):
                owner.setdefault(id(x), fn.name)  # ast.walk is breadth-first: outermost wins
    found = []
    for n in ast.walk(tree):
        if isinstance(n, ast.JoinedStr):  # its parts and format specs are part of its text
            for v in n.values:
                skip.add(id(v))
                if isinstance(v, ast.FormattedValue) and v.format_spec is not None:
                    skip |= {id(x) for x in ast.walk(v.format_spec)}
        if id(n) in skip:
            continue
        if not (isinstance(n, ast.JoinedStr)
                or (isinstance(n, ast.Constant) and isinstance(n.value, str))):
            continue
        fn = owner.get(id(n), "")
        if len(words(_text(n))) >= WORDS and (name, fn) not in ALLOWED:
            found.append((n.lineno, fn, _text(n)))
    return found


@pytest.mark.parametrize("path", sorted(BENCH.rglob("*.py")), ids=lambda p: p.name)
def test_the_bench_composes_no_sentence(path):
    found = prose(path.read_text(encoding="utf-8"), path.name)
    assert not found, f"{path.name} holds prose (word it in fastnn/report/): " + "; ".join(
        f"line {ln} ({fn or 'module'}): {text[:70]!r}" for ln, fn, text in found)


@pytest.mark.parametrize("source, n", [
    ('x = f"{n} cells were measured while others ran"', 1),
    ('say("sweeping the cells in shuffled order")', 1),
    ('d = {"about": "the first run of the README"}', 1),
    ('def f():\n    """A docstring of many words is fine."""\n', 0),
    ('raise ValueError(f"threads {n}: this machine runs at most {k}")', 0),
    ('exc = RuntimeError("the worker ended without answering")', 0),
    ('# a comment of many words is not a literal\nx = 1', 0),
    ('ir = f"%sa = shufflevector {v} %a0, {v} undef, <{n} x i32> zeroinitializer"', 0),
    ('line = f"{name}: {done}/{total} ({pct:.0f} %)"', 0),
    ('x = f"{a} {\'one two three four\' if b else \'\'}"', 1),  # inside a placeholder too
])
def test_the_checker_finds_prose_and_only_prose(source, n):
    assert len(prose(source)) == n
