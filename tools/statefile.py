#!/usr/bin/env python3
"""agentd's state files (DIR/containers/<id>.state), read and written
outside the agent (agentd/store.c has the format and its reasons).

  statefile.py FILE...   print each file's current state (its JSON)

Two slots of equal size; each a 32-byte header (magic "HFWSTAT1", le32
slot size, le32 length, le64 sequence, le32 zlib crc32 of bytes 8-23 and
the JSON, le32 0) and the JSON. The intact slot with the higher sequence
is the state.
"""
import struct
import sys
import zlib

MAGIC = b"HFWSTAT1"
HDR = 32
BLOCK = 4096


def _crc(fields, payload):
    return zlib.crc32(payload, zlib.crc32(fields)) & 0xFFFFFFFF


def read(path):
    """The current state's JSON text of a state file; ValueError if none is intact."""
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < 2 * BLOCK or len(data) % (2 * BLOCK):
        raise ValueError(f"{path}: not a state file (size {len(data)})")
    size = len(data) // 2
    best = None
    for i in (0, 1):
        h = data[i * size:i * size + HDR]
        ssize, length, seq, crc = struct.unpack_from("<IIQI", h, 8)
        if h[:8] != MAGIC or ssize != size or length > size - HDR:
            continue
        payload = data[i * size + HDR:i * size + HDR + length]
        if _crc(h[8:24], payload) == crc and (best is None or seq > best[0]):
            best = (seq, payload)
    if best is None:
        raise ValueError(f"{path}: no intact slot")
    return best[1].decode()


def write(path, text, seq=1):
    """A new state file holding text in slot 0, as agentd makes one."""
    payload = text.encode()
    size = (HDR + len(payload) + len(payload) // 2 + BLOCK - 1) // BLOCK * BLOCK
    fields = struct.pack("<IIQ", size, len(payload), seq)
    h = MAGIC + fields + struct.pack("<II", _crc(fields, payload), 0)
    with open(path, "wb") as f:
        f.write(h + payload + bytes(2 * size - HDR - len(payload)))


if __name__ == "__main__":
    if len(sys.argv) < 2 or sys.argv[1].startswith("-"):
        sys.exit(__doc__)
    for p in sys.argv[1:]:
        print(read(p))
