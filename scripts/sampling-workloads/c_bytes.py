"""C-heavy: hashlib, zlib and bytes/str methods over large buffers."""

import hashlib
import os
import zlib


def main():
    data = bytes(range(256)) * 4000 + b"tachygate" * 50000
    total = 0
    for i in range(int(os.environ.get("BYTES_ROUNDS", "60"))):
        total += len(hashlib.sha256(data).hexdigest())
        comp = zlib.compress(data, 6)
        total += len(zlib.decompress(comp))
        text = data.hex()
        total += text.count("ab") + len(text.upper().split("FF"))
        total += len(hashlib.md5(text.encode()).digest())
    print(f"c_bytes: {total}")


if __name__ == "__main__":
    main()
