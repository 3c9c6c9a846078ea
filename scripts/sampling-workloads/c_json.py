"""C-heavy: json.dumps/json.loads of nested documents (the C accelerator does the work)."""

import json
import os


def main():
    docs = [
        {"id": i, "name": f"user{i}", "tags": [f"t{j}" for j in range(12)],
         "scores": [i * 0.5 + j for j in range(20)], "nested": {"a": {"b": [i, i + 1, {"c": "x" * 30}]}}}
        for i in range(2000)
    ]
    total = 0
    for _ in range(int(os.environ.get("JSON_ROUNDS", "60"))):
        text = json.dumps(docs)
        back = json.loads(text)
        total += len(text) + len(back)
    print(f"c_json: {total}")


if __name__ == "__main__":
    main()
