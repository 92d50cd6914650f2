"""QR codes (ISO/IEC 18004, versions 1-40) as SVG images, for the `qr` shortcode.

Small and dependency-free, and module for module what Hugo's images.QR draws: the text in
numeric, alphanumeric or byte mode (the first that can hold it), in the smallest version that
holds it at the error-correction level asked for, under mask 0 (Hugo's library always takes that
one: any mask reads alike), with a quiet zone of four modules.
"""

from __future__ import annotations

import base64
from functools import lru_cache

LEVELS = {"low": 0, "medium": 1, "quartile": 2, "high": 3}
_FORMAT_BITS = (1, 0, 3, 2)  # the level's two bits in the format information: L, M, Q, H
# Per level (L, M, Q, H), per version 1-40: error-correction codewords per block, and blocks.
_ECC_PER_BLOCK = (
    (7, 10, 15, 20, 26, 18, 20, 24, 30, 18, 20, 24, 26, 30, 22, 24, 28, 30, 28, 28, 28, 28, 30, 30, 26, 28, 30, 30,
     30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30),
    (10, 16, 26, 18, 24, 16, 18, 22, 22, 26, 30, 22, 22, 24, 24, 28, 28, 26, 26, 26, 26, 28, 28, 28, 28, 28, 28, 28,
     28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28),
    (13, 22, 18, 26, 18, 24, 18, 22, 20, 24, 28, 26, 24, 20, 30, 24, 28, 28, 26, 30, 28, 30, 30, 30, 30, 28, 30, 30,
     30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30),
    (17, 28, 22, 16, 22, 28, 26, 26, 24, 28, 24, 28, 22, 24, 24, 30, 28, 28, 26, 28, 30, 24, 30, 30, 30, 30, 30, 30,
     30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30),
)
_BLOCKS = (
    (1, 1, 1, 1, 1, 2, 2, 2, 2, 4, 4, 4, 4, 4, 6, 6, 6, 6, 7, 8, 8, 9, 9, 10, 12, 12, 12, 13, 14, 15, 16, 17, 18, 19,
     19, 20, 21, 22, 24, 25),
    (1, 1, 1, 2, 2, 4, 4, 4, 5, 5, 5, 8, 9, 9, 10, 10, 11, 13, 14, 16, 17, 17, 18, 20, 21, 23, 25, 26, 28, 29, 31, 33,
     35, 37, 38, 40, 43, 45, 47, 49),
    (1, 1, 2, 2, 4, 4, 6, 6, 8, 8, 8, 10, 12, 16, 12, 17, 16, 18, 21, 20, 23, 23, 25, 27, 29, 34, 34, 35, 38, 40, 43,
     45, 48, 51, 53, 56, 59, 62, 65, 68),
    (1, 1, 2, 4, 4, 4, 5, 6, 8, 8, 11, 11, 16, 16, 18, 16, 19, 21, 25, 25, 25, 34, 30, 32, 35, 37, 40, 42, 45, 48, 51,
     54, 57, 60, 63, 66, 70, 74, 77, 81),
)
QUIET = 4


def svg_data_url(text: str, level: str = "medium", scale: int = 4) -> tuple[str, int]:
    """The QR code of `text` as a `data:image/svg+xml` URL, and its width in pixels; raises
    ValueError when the text is too long for any version."""
    modules = encode(text.encode("utf-8"), LEVELS[level])
    size = len(modules)
    path = "".join(f"M{x + QUIET},{y + QUIET}h1v1h-1z" for y, row in enumerate(modules)
                   for x, dark in enumerate(row) if dark)
    full = size + 2 * QUIET
    svg = (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {full} {full}" shape-rendering="crispEdges">'
           f'<rect width="{full}" height="{full}" fill="#fff"/><path d="{path}" fill="#000"/></svg>')
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode("ascii")).decode("ascii"), full * scale


_ALPHANUMERIC = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:"


def encode(data: bytes, level: int) -> list[list[bool]]:
    """The module matrix (rows of dark = True) of `data`."""
    text = data.decode("latin-1")
    if text and text.isdigit() and text.isascii():
        mode, counts = 0b0001, (10, 12, 14)
        groups = [(int(text[i:i + 3]), (4, 7, 10)[len(text[i:i + 3]) - 1]) for i in range(0, len(text), 3)]
    elif text and all(char in _ALPHANUMERIC for char in text):
        mode, counts = 0b0010, (9, 11, 13)
        values = [_ALPHANUMERIC.index(char) for char in text]
        groups = [(values[i] * 45 + values[i + 1], 11) if i + 1 < len(values) else (values[i], 6)
                  for i in range(0, len(values), 2)]
    else:
        mode, counts = 0b0100, (8, 16, 16)
        groups = [(byte, 8) for byte in data]
    payload = sum(length for _, length in groups)
    for version in range(1, 41):
        count_bits = counts[0 if version < 10 else 1 if version < 27 else 2]
        capacity = _data_codewords(version, level) * 8
        if 4 + count_bits + payload <= capacity:
            break
    else:
        raise ValueError(f"the text is too long for a QR code ({len(data)} bytes)")
    bits: list[int] = []

    def put(value: int, length: int) -> None:
        bits.extend((value >> i) & 1 for i in reversed(range(length)))

    put(mode, 4)
    put(len(text) if mode != 0b0100 else len(data), count_bits)
    for value, length in groups:
        put(value, length)
    put(0, min(4, capacity - len(bits)))
    put(0, -len(bits) % 8)
    codewords = [int("".join(map(str, bits[i:i + 8])), 2) for i in range(0, len(bits), 8)]
    pad = 0xEC
    while len(codewords) < capacity // 8:
        codewords.append(pad)
        pad ^= 0xEC ^ 0x11
    return _Symbol(version, level).draw(_with_ecc(codewords, version, level))


def _raw_modules(version: int) -> int:
    """The modules of a version left for data and error correction."""
    result = (16 * version + 128) * version + 64
    if version >= 2:
        count = version // 7 + 2
        result -= (25 * count - 10) * count - 55
        if version >= 7:
            result -= 36
    return result


def _data_codewords(version: int, level: int) -> int:
    return _raw_modules(version) // 8 - _ECC_PER_BLOCK[level][version - 1] * _BLOCKS[level][version - 1]


def _gf_multiply(x: int, y: int) -> int:
    """Multiplication in GF(2^8) modulo x^8 + x^4 + x^3 + x^2 + 1."""
    product = 0
    for i in reversed(range(8)):
        product = (product << 1) ^ ((product >> 7) * 0x11D)
        product ^= ((y >> i) & 1) * x
    return product


@lru_cache(maxsize=32)
def _divisor(degree: int) -> tuple[int, ...]:
    """The Reed-Solomon generator polynomial of `degree`, leading term left out."""
    result = [0] * (degree - 1) + [1]
    root = 1
    for _ in range(degree):
        for j in range(degree):
            result[j] = _gf_multiply(result[j], root)
            if j + 1 < degree:
                result[j] ^= result[j + 1]
        root = _gf_multiply(root, 2)
    return tuple(result)


def _remainder(data: list[int], divisor: tuple[int, ...]) -> list[int]:
    result = [0] * len(divisor)
    for byte in data:
        factor = byte ^ result.pop(0)
        result.append(0)
        for i, coefficient in enumerate(divisor):
            result[i] ^= _gf_multiply(coefficient, factor)
    return result


def _with_ecc(data: list[int], version: int, level: int) -> list[int]:
    """The data split into blocks, each with its error correction, interleaved."""
    blocks_count = _BLOCKS[level][version - 1]
    ecc_length = _ECC_PER_BLOCK[level][version - 1]
    raw = _raw_modules(version) // 8
    short_count = blocks_count - raw % blocks_count
    short_length = raw // blocks_count
    divisor = _divisor(ecc_length)
    blocks = []
    at = 0
    for i in range(blocks_count):
        length = short_length - ecc_length + (0 if i < short_count else 1)
        chunk = data[at:at + length]
        at += length
        ecc = _remainder(chunk, divisor)
        if i < short_count:
            chunk = chunk + [-1]  # a gap, so every block has the same length while interleaving
        blocks.append(chunk + ecc)
    return [block[i] for i in range(len(blocks[0])) for block in blocks if block[i] != -1]


class _Symbol:
    """The module grid of one version and level: function patterns, then data under a mask."""

    def __init__(self, version: int, level: int) -> None:
        self.version, self.level = version, level
        self.size = size = version * 4 + 17
        self.dark = [[False] * size for _ in range(size)]
        self.fixed = [[False] * size for _ in range(size)]
        for i in range(size):
            self.set(6, i, i % 2 == 0)
            self.set(i, 6, i % 2 == 0)
        for x, y in ((3, 3), (size - 4, 3), (3, size - 4)):
            for dy in range(-4, 5):
                for dx in range(-4, 5):
                    if 0 <= x + dx < size and 0 <= y + dy < size:
                        self.set(x + dx, y + dy, max(abs(dx), abs(dy)) not in (2, 4))
        positions = self._alignment_positions()
        last = len(positions) - 1
        for i, x in enumerate(positions):
            for j, y in enumerate(positions):
                if (i, j) not in ((0, 0), (0, last), (last, 0)):
                    for dy in range(-2, 3):
                        for dx in range(-2, 3):
                            self.set(x + dx, y + dy, max(abs(dx), abs(dy)) != 1)
        self._format(0)
        if version >= 7:
            remainder = version
            for _ in range(12):
                remainder = (remainder << 1) ^ ((remainder >> 11) * 0x1F25)
            bits = version << 12 | remainder
            for i in range(18):
                bit = (bits >> i) & 1 == 1
                self.set(size - 11 + i % 3, i // 3, bit)
                self.set(i // 3, size - 11 + i % 3, bit)

    def set(self, x: int, y: int, dark: bool) -> None:
        self.dark[y][x] = dark
        self.fixed[y][x] = True

    def _alignment_positions(self) -> list[int]:
        if self.version == 1:
            return []
        count = self.version // 7 + 2
        step = 26 if self.version == 32 else (self.version * 4 + count * 2 + 1) // (count * 2 - 2) * 2
        return [6] + sorted(self.size - 7 - i * step for i in range(count - 1))

    def _format(self, mask: int) -> None:
        data = _FORMAT_BITS[self.level] << 3 | mask
        remainder = data
        for _ in range(10):
            remainder = (remainder << 1) ^ ((remainder >> 9) * 0x537)
        bits = (data << 10 | remainder) ^ 0x5412
        bit = lambda i: (bits >> i) & 1 == 1  # noqa: E731
        size = self.size
        for i in range(6):
            self.set(8, i, bit(i))
        self.set(8, 7, bit(6))
        self.set(8, 8, bit(7))
        self.set(7, 8, bit(8))
        for i in range(9, 15):
            self.set(14 - i, 8, bit(i))
        for i in range(8):
            self.set(size - 1 - i, 8, bit(i))
        for i in range(8, 15):
            self.set(8, size - 15 + i, bit(i))
        self.set(8, size - 8, True)

    def draw(self, codewords: list[int]) -> list[list[bool]]:
        size = self.size
        at = 0
        right = size - 1
        while right >= 1:
            if right == 6:
                right = 5
            for vertical in range(size):
                for column in (right, right - 1):
                    upward = (right + 1) & 2 == 0
                    y = size - 1 - vertical if upward else vertical
                    if not self.fixed[y][column] and at < len(codewords) * 8:
                        self.dark[y][column] = (codewords[at >> 3] >> (7 - (at & 7))) & 1 == 1
                        at += 1
            right -= 2
        self._mask(0)
        self._format(0)
        return self.dark

    def _mask(self, mask: int) -> None:
        """Mask 0: the data modules where x + y is even are flipped."""
        assert mask == 0
        for y in range(self.size):
            row, fixed = self.dark[y], self.fixed[y]
            for x in range(y % 2, self.size, 2):
                if not fixed[x]:
                    row[x] = not row[x]
