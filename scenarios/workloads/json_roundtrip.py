"""JSON encode/decode of nested, generated documents (deterministic: fixed seed).

Hot functions: build_document, encode_documents, decode_documents, checksum.
"""

import json
import random

import demo_knobs

WORDS = "alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu".split()


def build_document(rng, depth=0):
    doc = {
        "id": rng.randrange(1_000_000),
        "name": " ".join(rng.choice(WORDS) for _ in range(3)),
        "score": round(rng.random() * 100, 3),
        "tags": [rng.choice(WORDS) for _ in range(rng.randrange(1, 6))],
        "active": rng.random() < 0.5,
    }
    if depth < 3:
        doc["children"] = [build_document(rng, depth + 1) for _ in range(rng.randrange(1, 4))]
    return doc


def encode_documents(docs):
    out = []
    for _ in range(demo_knobs.factor("encode_documents")):
        out = [json.dumps(d, sort_keys=True) for d in docs]
    return out


def decode_documents(texts):
    out = []
    for _ in range(demo_knobs.factor("decode_documents")):
        out = [json.loads(t) for t in texts]
    return out


def checksum(docs):
    total = 0
    for _ in range(demo_knobs.factor("checksum")):
        stack = list(docs)
        total = 0
        while stack:
            d = stack.pop()
            total = (total * 31 + d["id"] + len(d["name"])) % 1_000_000_007
            stack.extend(d.get("children", ()))
    return total


def main():
    rng = random.Random(1234)
    docs = [build_document(rng) for _ in range(120)]
    rounds = max(1, int(150 * demo_knobs.scale()))
    result = 0
    for _ in range(rounds):
        texts = encode_documents(docs)
        decoded = decode_documents(texts)
        result = (result * 7 + checksum(decoded)) % 1_000_000_007
    print(f"json_roundtrip: {len(docs)} documents x {rounds} rounds, checksum {result}")


if __name__ == "__main__":
    main()
