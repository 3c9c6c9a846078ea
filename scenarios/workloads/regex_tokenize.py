"""Regex tokenising of a generated Python-like source text (deterministic: fixed seed).

Hot functions: generate_source, tokenize, classify, count_identifiers.
"""

import random
import re
from collections import Counter

import demo_knobs

TOKEN = re.compile(
    r"""
    (?P<number>\d+(?:\.\d+)?)
  | (?P<string>"(?:[^"\\]|\\.)*")
  | (?P<name>[A-Za-z_][A-Za-z_0-9]*)
  | (?P<op>==|!=|<=|>=|[-+*/%=<>()\[\]{}:,.])
  | (?P<newline>\n)
  | (?P<space>[ \t]+)
  | (?P<comment>\#[^\n]*)
    """,
    re.VERBOSE,
)
KEYWORDS = {"def", "return", "if", "else", "for", "in", "while", "class", "import"}


def generate_source(rng, lines):
    names = ["alpha", "beta", "gamma", "value", "total", "item", "result", "index"]
    out = []
    for i in range(lines):
        kind = rng.randrange(5)
        a, b = rng.choice(names), rng.choice(names)
        if kind == 0:
            out.append(f"def f{i}({a}, {b}):")
        elif kind == 1:
            out.append(f"    {a} = {b} + {rng.randrange(1000)} * {rng.random():.3f}")
        elif kind == 2:
            out.append(f'    {a} = "text {i} \\" quoted"  # note {b}')
        elif kind == 3:
            out.append(f"    for {a} in range({b}): {a}[{rng.randrange(9)}] = ({b} != {a})")
        else:
            out.append(f"    return {a} >= {b}")
    return "\n".join(out) + "\n"


def tokenize(text):
    tokens = []
    for _ in range(demo_knobs.factor("tokenize")):
        tokens = [(m.lastgroup, m.group()) for m in TOKEN.finditer(text)]
    return tokens


def classify(tokens):
    kinds = Counter()
    for _ in range(demo_knobs.factor("classify")):
        kinds = Counter()
        for kind, value in tokens:
            if kind == "name" and value in KEYWORDS:
                kind = "keyword"
            kinds[kind] += 1
    return kinds


def count_identifiers(tokens):
    counts = Counter()
    for _ in range(demo_knobs.factor("count_identifiers")):
        counts = Counter(v for k, v in tokens if k == "name" and v not in KEYWORDS)
    return counts


def main():
    rng = random.Random(42)
    text = generate_source(rng, 6000)
    rounds = max(1, int(18 * demo_knobs.scale()))
    kinds, idents = Counter(), Counter()
    for _ in range(rounds):
        tokens = tokenize(text)
        kinds = classify(tokens)
        idents = count_identifiers(tokens)
    print(f"regex_tokenize: {sum(kinds.values())} tokens, top identifier {idents.most_common(1)}")


if __name__ == "__main__":
    main()
