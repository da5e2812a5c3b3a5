"""Print mutmut's results as a mutation score per module, and every surviving mutant.

Run from the repository root after ``mutmut run`` (``make mutation`` runs both)::

    python tests/mutation_score.py tinygrad_edu/ops/ tinygrad_edu/autograd.py

The score of a module is killed / (mutants - equivalent): a mutant is killed when a test
failed on it (a timeout or a crash counts too, since the tests noticed). A survivor, or a
mutant no test reaches, counts against the score unless tests/equivalent_mutants.txt lists
it with its mutated line and why it cannot change behaviour; an entry whose line no longer
matches the mutant of that name (the code moved on) is an error, as is an unchecked mutant.
Not a test module (no ``test_`` prefix): pytest does not collect it.
"""

from __future__ import annotations

import argparse
import ast
import json
import random
import sys
from dataclasses import dataclass, field
from pathlib import Path

from mutmut.mutation.diff_apply import get_diff_for_mutant

DEFAULT_PATHS = ("tinygrad_edu/autograd.py", "tinygrad_edu/ops/", "tinygrad_edu/functional/",
                 "tinygrad_edu/testing/")
EQUIVALENT = Path(__file__).with_name("equivalent_mutants.txt")
# mutmut's exit codes that mean the tests noticed the mutant: a failure, pytest's internal
# error, a type-check failure, a timeout (SIGXCPU or its own) and a crash.
DETECTED = {1, 3, 37, 36, 24, -24, 152, 255, -11, -9}
NO_TESTS, NOT_CHECKED = 33, None
# The scores issue 19 asks of each part of the package.
TARGETS = {"tinygrad_edu/autograd.py": 95.0, "tinygrad_edu/ops": 95.0,
           "tinygrad_edu/testing": 95.0, "tinygrad_edu/functional": 90.0,
           "tinygrad_edu/nn": 90.0, "tinygrad_edu/optim": 90.0}


@dataclass
class Equivalent:
    """An entry of the equivalent-mutants file."""

    name: str
    mutated: str  # the mutated line, as `mutmut show` prints it after the "+"
    why: str
    line: int  # where the entry starts in the file, for error messages


@dataclass
class Module:
    path: Path
    killed: int = 0
    equivalent: int = 0
    undetected: list[str] = field(default_factory=list)  # survivors and untested mutants
    unchecked: int = 0

    @property
    def total(self) -> int:
        return self.killed + self.equivalent + len(self.undetected) + self.unchecked

    def score(self) -> float:
        counted = self.total - self.equivalent
        return 100.0 * self.killed / counted if counted else 100.0

    def error(self) -> float:
        """The standard error of the score as an estimate from a random sample."""
        p, counted = self.score() / 100.0, self.total - self.equivalent
        return 100.0 * (p * (1.0 - p) / counted) ** 0.5 if counted else 0.0


def read_equivalent(path: Path) -> dict[str, Equivalent]:
    """Entries of three lines: the mutant's name, ``+ <mutated line>``, ``why: <reason>``
    (the last two indented); ``#`` starts a comment line."""
    entries: dict[str, Equivalent] = {}
    lines = [(i, line.rstrip()) for i, line in enumerate(path.read_text().splitlines(), 1)
             if line.strip() and not line.lstrip().startswith("#")]
    for k in range(0, len(lines), 3):
        block = lines[k:k + 3]
        start = block[0][0]
        if (len(block) < 3 or block[0][1].startswith(" ") or not block[1][1].strip()
                .startswith("+ ") or not block[2][1].strip().startswith("why: ")):
            raise SystemExit(f"{path}:{start}: an entry is three lines: the mutant's name, "
                             f"then indented '+ <mutated line>' and 'why: <reason>'")
        name = block[0][1].strip()
        entries[name] = Equivalent(name, block[1][1].strip()[2:].strip(),
                                   block[2][1].strip()[5:].strip(), start)
    return entries


def source_files(path: str) -> list[Path]:
    p = Path(path)
    if not p.exists():
        raise SystemExit(f"mutation_score: no such file or folder: {p}")
    return sorted(p.rglob("*.py")) if p.is_dir() else [p]


def changed_lines(diff: str) -> tuple[list[str], list[str]]:
    """The removed and the added lines of a mutant's diff, stripped."""
    body = [line for line in diff.splitlines()[2:] if not line.startswith("@@")]
    return ([line[1:].strip() for line in body if line.startswith("-")],
            [line[1:].strip() for line in body if line.startswith("+")])


def function_lines(source: str, mutant: str) -> range:
    """The lines of the function a mutant name points into (``x_f`` or ``xǁClassǁf``)."""
    mangled = mutant.rpartition(".")[2].partition("__mutmut_")[0]
    parts = mangled.split("ǁ")
    cls, name = (parts[1], parts[2]) if len(parts) == 3 else (None, mangled[2:])
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ClassDef) and node.name == cls:
            for item in node.body:
                if isinstance(item, ast.FunctionDef) and item.name == name:
                    return range(item.lineno, item.end_lineno + 1)
        elif cls is None and isinstance(node, ast.FunctionDef) and node.name == name:
            return range(node.lineno, node.end_lineno + 1)
    return range(1, len(source.splitlines()) + 1)


def describe(path: Path, mutant: str, status: str) -> str:
    """``file:line  name (status)`` and the line before and after the mutation."""
    removed, added = changed_lines(get_diff_for_mutant(mutant, path=path))
    source = path.read_text()
    lines = source.splitlines()
    where = next((n for n in function_lines(source, mutant)
                  if removed and lines[n - 1].strip() == removed[0]), None)
    head = f"{path}:{where or '?'}  {mutant} ({status})"
    return "\n".join([head] + [f"    - {r}" for r in removed] + [f"    + {a}" for a in added])


def row(label: str, m: Module, target: float | None = None) -> str:
    unchecked = f"  ({m.unchecked} not yet run)" if m.unchecked else ""
    aim = "" if target is None else f"  target {target:.0f}%" + (
        "" if m.score() >= target else "  BELOW")
    return (f"{label:46} {m.score():6.1f}% {m.killed:7} {m.equivalent:6} "
            f"{len(m.undetected):6}{unchecked}{aim}")


def mutants_of(group: str) -> dict[str, tuple[Path, int | None]]:
    """Every mutant of the files under ``group`` with its file and mutmut's exit code."""
    return {name: (path, code) for path in source_files(group)
            if (meta := Path("mutants") / f"{path}.meta").exists()
            for name, code in json.loads(meta.read_text())["exit_code_by_key"].items()}


def sample_of(names: list[str], size: int, seed: int) -> set[str]:
    """A seeded random ``size`` of ``names``: the same names for the same mutants, so a
    sample drawn before a run is the one scored after it."""
    return set(random.Random(seed).sample(sorted(names), min(size, len(names))))


def not_run(paths: list[str], size: int, seed: int) -> list[str]:
    """The mutants of ``paths`` without a result, all (``size`` 0) or those of a random
    sample of each path's mutants (the rest of the sample has its result already)."""
    names: list[str] = []
    for group in paths:
        mutants = mutants_of(group)
        chosen = sample_of(list(mutants), size, seed) if size else set(mutants)
        names += [name for name in chosen if mutants[name][1] is NOT_CHECKED]
    return sorted(names)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("paths", nargs="*", default=list(DEFAULT_PATHS),
                        help="files or folders of the package (default: %(default)s)")
    parser.add_argument("--not-run", action="store_true",
                        help="instead of the scores, print the names of the mutants of PATHS "
                             "not yet run (after a change, those of the functions that "
                             "changed), for `mutmut run $(...)`")
    parser.add_argument("--sample", type=int, default=0, metavar="N",
                        help="score (or with --not-run, name) a seeded random N of each "
                             "path's mutants instead of all of them")
    parser.add_argument("--seed", type=int, default=19, metavar="S",
                        help="the seed of --sample (default: %(default)s)")
    args = parser.parse_args(argv)
    if args.not_run:
        print("\n".join(not_run(args.paths, args.sample, args.seed)))
        return 0
    equivalent = read_equivalent(EQUIVALENT)
    problems: list[str] = []
    survivors: list[str] = []
    print(f"{'module':46} {'score':>7} {'killed':>7} {'equiv':>6} {'undet':>6}")
    for group in args.paths:
        mutants = mutants_of(group)
        chosen = sample_of(list(mutants), args.sample, args.seed) if args.sample else mutants
        modules: list[Module] = []
        for path in source_files(group):
            meta = Path("mutants") / f"{path}.meta"
            if not meta.exists():
                problems.append(f"{path}: no results (run `make mutation PATHS={path}` first)")
                continue
            module = Module(path)
            for name, code in json.loads(meta.read_text())["exit_code_by_key"].items():
                if name not in chosen:
                    continue
                entry = equivalent.get(name)
                if code in DETECTED:
                    module.killed += 1
                    if entry is not None:
                        problems.append(f"{EQUIVALENT.name}:{entry.line}: {name} is killed "
                                        f"by the tests, so it is not equivalent")
                elif code is NOT_CHECKED:
                    module.unchecked += 1
                elif entry is not None and entry.mutated in changed_lines(
                        get_diff_for_mutant(name, path=path))[1]:
                    module.equivalent += 1
                else:
                    if entry is not None:
                        problems.append(f"{EQUIVALENT.name}:{entry.line}: {name} no longer "
                                        f"mutates to {entry.mutated!r}: recheck it")
                    module.undetected.append(name)
                    status = "no test reaches it" if code == NO_TESTS else "survived"
                    survivors.append(describe(path, name, status))
            modules.append(module)
            print(row(f"  {path}", module))
        whole = Module(Path(group), sum(m.killed for m in modules),
                       sum(m.equivalent for m in modules),
                       [n for m in modules for n in m.undetected],
                       sum(m.unchecked for m in modules))
        target = TARGETS.get(group.rstrip("/"))
        print(row(group, whole, target))
        if args.sample:
            print(f"{'':46} sample of {len(chosen)} of {len(mutants)} (seed {args.seed}): "
                  f"{whole.score():.1f}% ± {whole.error():.1f}% (one standard error)")
        if target is not None and whole.score() < target:
            problems.append(f"{group}: score {whole.score():.1f}% is below its target "
                            f"{target:.0f}%")
        if whole.unchecked:
            problems.append(f"{group}: {whole.unchecked} mutant(s) not yet run: run mutmut "
                            f"again")
        stale = [e for e in equivalent.values() if e.name not in mutants and any(
            e.name.startswith(str(p)[:-3].replace("/", ".").replace(".__init__", "") + ".x")
            for p in source_files(group))]
        problems += [f"{EQUIVALENT.name}:{e.line}: no mutant {e.name} (the code moved on?)"
                     for e in stale]
    if survivors:
        print(f"\n{len(survivors)} mutant(s) the tests did not notice:\n")
        print("\n".join(survivors))
    for p in problems:
        print(f"mutation_score: {p}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
