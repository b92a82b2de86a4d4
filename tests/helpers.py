"""Test helpers shared by several test modules (pytest puts tests/ on the import path)."""

from __future__ import annotations

import struct
import zlib
from pathlib import Path


def write_huge_blank_png(path: Path, side: int = 20_000) -> Path:
    """A valid 1-bit PNG of side x side pixels, ~50 kB on disk: a decompression bomb. Written
    row by row through zlib, so it never exists decoded in memory."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))

    compressor = zlib.compressobj(9)
    row = bytes(1 + (side + 7) // 8)  # filter byte 0, then the packed pixels, all black
    idat = b"".join(compressor.compress(row) for _ in range(side)) + compressor.flush()
    header = struct.pack(">IIBBBBB", side, side, 1, 0, 0, 0, 0)  # 1-bit greyscale
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", idat)
                     + chunk(b"IEND", b""))
    return path
