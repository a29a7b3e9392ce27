"""HDF5 file structures, decoded from bytes already fetched: what refers to what.

`Decoder` reads the structures libhdf5 reads to walk a file's metadata (superblock v0-v3,
object headers v1 and v2 with their continuation chunks, symbol tables: v1 group B-trees,
symbol-table nodes and local heaps; compact link messages; dense link storage when its
fractal heap is one direct block indexed by a one-node v2 B-tree, as libhdf5 writes it for
groups of modest size with ``libver="latest"`` (AqNWB); attribute messages and the global
heap collections that hold their variable-length strings; the data of small datasets a caller
asks for). Each structure is an `Item` (kind, address, path, the byte ranges it needs);
decoding one returns the items it refers to. Bytes not fetched yet raise `NeedBytes`; bytes
that do not decode raise `ValueError` (the caller leaves such structures to h5py).

`PARSERS` maps each kind to its decoder: the dispatch table the prefetch planner runs.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

SIGNATURE = b"\x89HDF\r\n\x1a\n"
UNDEF = 0xFFFFFFFFFFFFFFFF
HEADER_GUESS = 512  # libhdf5's own speculative read of an object header
BTREE_GUESS = 544  # a v1 group B-tree node with K=16
SNOD_GUESS = 328  # a symbol-table node with K=4
GCOL_MIN = 4096
MAX_NEED = 1 << 20  # never ask for more than this for one structure

u16 = struct.Struct("<H").unpack_from
u32 = struct.Struct("<I").unpack_from
u64 = struct.Struct("<Q").unpack_from


class NeedBytes(Exception):
    """Parsing needs bytes that are not fetched yet: ``ranges`` of ``(offset, length)``."""

    def __init__(self, *ranges: tuple[int, int]) -> None:
        super().__init__(*ranges)
        self.ranges = ranges


@dataclass
class Item:
    kind: str
    addr: int
    path: str = "/"
    fetch: tuple[tuple[int, int], ...] = ()
    ctx: dict[str, Any] = field(default_factory=dict)


class Decoder:
    """Structure decoders over a byte source with ``size`` and ``cached(offset, length)``
    (None when not fetched); `follow`, `attribute` and `value_limit` say which objects,
    attribute values and dataset values the caller's walk reads."""

    def __init__(
        self,
        source: Any,
        follow: Callable[[str], bool],
        attribute: Callable[[str], bool],
        value_limit: Callable[[str], int],
    ) -> None:
        self.rf = source
        self.follow = follow
        self.attribute = attribute
        self.value_limit = value_limit

    # -- bytes -------------------------------------------------------------------------

    def get(self, offset: int, length: int) -> bytes:
        if offset < 0 or offset >= self.rf.size or length <= 0:
            raise ValueError(f"address {offset} outside the file")
        length = min(length, self.rf.size - offset)
        data = self.rf.cached(offset, length)
        if data is None:
            raise NeedBytes((offset, length))
        return bytes(data)

    def get_all(self, *ranges: tuple[int, int]) -> list[bytes]:
        """Several structures at once: if any is missing, ask for all the missing ones."""
        missing = [
            (o, n) for o, n in ranges if 0 <= o < self.rf.size and self.rf.cached(o, n) is None
        ]
        if missing:
            raise NeedBytes(*missing)
        return [self.get(o, n) for o, n in ranges]

    # -- structures ----------------------------------------------------------------------

    def _superblock(self, it: Item) -> list[Item]:
        b = self.get(0, 96)
        if b[:8] != SIGNATURE:
            return []  # a user block: rare, leave it to h5py
        version = b[8]
        if version in (0, 1):
            if b[13] != 8 or b[14] != 8:
                return []
            entry = 56 if version == 0 else 60
            return self._entry(b, entry, "/")
        if version in (2, 3):
            if b[9] != 8 or b[10] != 8:
                return []
            return [self._header_item(u64(b, 36)[0], "/")]
        return []

    def _entry(self, b: bytes, pos: int, path: str) -> list[Item]:
        """A symbol-table entry: the object header, and its group's B-tree/heap if cached."""
        ohdr = u64(b, pos + 8)[0]
        cache_type = u32(b, pos + 16)[0]
        if cache_type == 2 or ohdr == UNDEF:  # a soft link: its target is walked elsewhere
            return []
        out = [self._header_item(ohdr, path)]
        if cache_type == 1:
            btree, heap = u64(b, pos + 24)[0], u64(b, pos + 32)[0]
            out += self._group_items(btree, heap, path)
        return out

    def _header_item(self, addr: int, path: str) -> Item:
        return Item("ohdr", addr, path, ((addr, HEADER_GUESS),))

    def _group_items(self, btree: int, heap: int, path: str) -> list[Item]:
        return [
            Item("btree", btree, path, ((btree, BTREE_GUESS),), {"heap": heap}),
            Item("heap", heap, path, ((heap, 32),)),
        ]

    def _heap(self, it: Item) -> list[Item]:
        b = self.get(it.addr, 32)
        if b[:4] != b"HEAP":
            raise ValueError("not a local heap")
        size, data = u64(b, 8)[0], u64(b, 24)[0]
        return [Item("raw", data, it.path, ((data, size),))]

    def _raw(self, it: Item) -> list[Item]:
        return []

    def _gcol(self, it: Item) -> list[Item]:
        b = self.get(it.addr, 16)
        if b[:4] != b"GCOL":
            raise ValueError("not a global heap collection")
        size = u64(b, 8)[0]
        self.get(it.addr, size)  # raises NeedBytes until the whole collection is here
        return []

    def _btree(self, it: Item) -> list[Item]:
        b = self.get(it.addr, 24)
        if b[:4] != b"TREE" or b[4] != 0:
            raise ValueError("not a group B-tree node")
        level, used = b[5], u16(b, 6)[0]
        body = self.get(it.addr, 24 + 8 + used * 16)
        children = [u64(body, 24 + 8 + i * 16)[0] for i in range(used)]
        heap = it.ctx["heap"]
        if level > 0:
            return [
                Item("btree", c, it.path, ((c, BTREE_GUESS),), {"heap": heap}) for c in children
            ]
        return [Item("snod", c, it.path, ((c, SNOD_GUESS),), {"heap": heap}) for c in children]

    def _snod(self, it: Item) -> list[Item]:
        b = self.get(it.addr, 8)
        if b[:4] != b"SNOD":
            raise ValueError("not a symbol-table node")
        n = u16(b, 6)[0]
        body = self.get(it.addr, 8 + n * 40)
        hb = self.get(it.ctx["heap"], 32)
        if hb[:4] != b"HEAP":
            raise ValueError("not a local heap")
        names = self.get(u64(hb, 24)[0], u64(hb, 8)[0])
        out: list[Item] = []
        for i in range(n):
            pos = 8 + i * 40
            off = u64(body, pos)[0]
            name = names[off : names.index(b"\0", off)].decode("utf-8", "replace")
            child = f"{it.path.rstrip('/')}/{name}"
            if self.follow(child):
                out += self._entry(body, pos, child)
        return out

    # -- object headers ------------------------------------------------------------------

    def _ohdr(self, it: Item) -> list[Item]:
        b = self.get(it.addr, 16)
        if b[:4] == b"OHDR":
            flags = b[5]
            pos = 6 + (16 if flags & 0x20 else 0) + (4 if flags & 0x10 else 0)
            width = 1 << (flags & 3)
            head = self.get(it.addr, pos + width)
            size = int.from_bytes(head[pos : pos + width], "little")
            start = it.addr + pos + width
            chunk = self.get(start, size)
            it.ctx["v2flags"] = flags
            return self._messages(it, chunk, 2)
        if b[0] != 1:
            raise ValueError("unknown object header version")
        size = u32(b, 8)[0]
        chunk = self.get(it.addr + 16, size)
        return self._messages(it, chunk, 1)

    def _ochk(self, it: Item) -> list[Item]:
        chunk = self.get(it.addr, it.ctx["length"])
        if it.ctx["version"] == 2:
            if chunk[:4] != b"OCHK":
                raise ValueError("not an object header continuation chunk")
            chunk = chunk[4:-4]
        return self._messages(it, chunk, it.ctx["version"])

    def _messages(self, it: Item, chunk: bytes, version: int) -> list[Item]:
        out: list[Item] = []
        pos = 0
        if version == 1:
            hsize = 8
        else:
            hsize = 4 + (2 if it.ctx.get("v2flags", 0) & 0x04 else 0)
        while pos + hsize <= len(chunk):
            if version == 1:
                mtype, msize = u16(chunk, pos)[0], u16(chunk, pos + 2)[0]
                mflags = chunk[pos + 4]
            else:
                mtype, msize, mflags = chunk[pos], u16(chunk, pos + 1)[0], chunk[pos + 3]
            data = chunk[pos + hsize : pos + hsize + msize]
            pos += hsize + msize
            if mflags & 0x02:  # shared message: stored elsewhere
                continue
            out += self._message(it, mtype, data, version)
        out += self._dataset_value(it)
        return out

    def _message(self, it: Item, mtype: int, data: bytes, version: int) -> list[Item]:
        if mtype == 0x11:  # symbol table: this is an old-style group
            return self._group_items(u64(data, 0)[0], u64(data, 8)[0], it.path)
        if mtype == 0x10:  # continuation
            addr, length = u64(data, 0)[0], u64(data, 8)[0]
            ctx = {**it.ctx, "length": length, "version": version, "requeued": False}
            return [Item("ochk", addr, it.path, ((addr, length),), ctx)]
        if mtype == 0x06:  # link (compact storage)
            return self._link(it, data)
        if mtype in (0x02, 0x15):  # link info / attribute info: dense storage headers
            return self._dense(it, data, mtype)
        if mtype == 0x0C:
            return self._attribute(it, data)
        if mtype == 0x03:
            it.ctx["dtype"] = data
        elif mtype == 0x01:
            it.ctx["space"] = data
        elif mtype == 0x08:
            it.ctx["layout"] = data
        return []

    def _link(self, it: Item, d: bytes) -> list[Item]:
        flags = d[1]
        pos = 2
        ltype = 0
        if flags & 0x08:
            ltype = d[pos]
            pos += 1
        if flags & 0x04:
            pos += 8
        if flags & 0x10:
            pos += 1
        width = 1 << (flags & 3)
        nlen = int.from_bytes(d[pos : pos + width], "little")
        pos += width
        name = d[pos : pos + nlen].decode("utf-8", "replace")
        pos += nlen
        if ltype != 0:
            return []
        child = f"{it.path.rstrip('/')}/{name}"
        return [self._header_item(u64(d, pos)[0], child)] if self.follow(child) else []

    def _dense(self, it: Item, d: bytes, mtype: int) -> list[Item]:
        """Link info / attribute info: dense storage in a fractal heap + v2 B-tree name index."""
        flags = d[1]
        pos = 2 + (8 if mtype == 0x02 and flags & 0x01 else 0)
        if mtype == 0x15 and flags & 0x01:
            pos += 2
        heap, index = u64(d, pos)[0], u64(d, pos + 8)[0]
        if heap == UNDEF or index == UNDEF:
            return []
        if mtype == 0x02:  # links: parse them, to walk on to the group's members
            return [Item("dense_links", heap, it.path, ((heap, 512), (index, 512)), {"bt": index})]
        return [Item("raw", a, "", ((a, 512),)) for a in (heap, index)]

    def _dense_links(self, it: Item) -> list[Item]:
        """A group's links in a fractal heap whose root is a direct block, indexed by a v2
        B-tree of depth 0 (what libhdf5 writes for groups of modest size). Larger heaps
        (indirect blocks, deeper B-trees) are left to h5py."""
        fh, bt = self.get_all((it.addr, 512), (it.ctx["bt"], 512))
        if fh[:4] != b"FRHP" or bt[:4] != b"BTHD":
            raise ValueError("not a fractal heap / v2 B-tree header")
        id_len, io_filters, max_managed = u16(fh, 5)[0], u16(fh, 7)[0], u32(fh, 10)[0]
        start_size, max_dblock = u64(fh, 112)[0], u64(fh, 120)[0]
        max_heap_bits, root, rows = u16(fh, 128)[0], u64(fh, 132)[0], u16(fh, 140)[0]
        if rows != 0 or io_filters or root == UNDEF:
            raise ValueError("fractal heap with an indirect or filtered root")
        bt_type, node_size, rec_size = bt[5], u32(bt, 6)[0], u16(bt, 10)[0]
        depth, bt_root, nrec = u16(bt, 12)[0], u64(bt, 16)[0], u16(bt, 24)[0]
        if bt_type != 5 or depth != 0 or bt_root == UNDEF:
            raise ValueError("not a depth-0 link name index")
        block, leaf = self.get_all((root, start_size), (bt_root, node_size))
        if block[:4] != b"FHDB" or leaf[:4] != b"BTLF":
            raise ValueError("not a fractal heap direct block / v2 B-tree leaf")
        off_bytes = (max_heap_bits + 7) // 8
        len_bytes = (min(max_dblock, max_managed).bit_length() + 7) // 8
        out: list[Item] = []
        for i in range(nrec):
            hid = leaf[6 + i * rec_size + 4 : 6 + i * rec_size + 4 + id_len]
            if (hid[0] >> 4) & 0x03 != 0:  # huge or tiny object: not a plain link message
                raise ValueError("unmanaged fractal heap object")
            off = int.from_bytes(hid[1 : 1 + off_bytes], "little")
            n = int.from_bytes(hid[1 + off_bytes : 1 + off_bytes + len_bytes], "little")
            if off + n > len(block):
                raise ValueError("heap object outside the root block")
            out += self._link(it, block[off : off + n])
        return out

    def _attribute(self, it: Item, d: bytes) -> list[Item]:
        version = d[0]
        nsize, tsize, ssize = u16(d, 2)[0], u16(d, 4)[0], u16(d, 6)[0]
        if version == 1:
            pos = 8

            def pad(n: int) -> int:
                return (n + 7) & ~7
        elif version in (2, 3):
            pos = 8 + (1 if version == 3 else 0)

            def pad(n: int) -> int:
                return n
        else:
            return []
        if version > 1 and d[1] & 0x03:  # shared datatype or dataspace
            return []
        name = d[pos : pos + nsize].rstrip(b"\0").decode("utf-8", "replace")
        pos += pad(nsize)
        dtype = d[pos : pos + tsize]
        pos += pad(tsize)
        space = d[pos : pos + ssize]
        pos += pad(ssize)
        if not self.attribute(name):
            return []
        return self._heap_refs(dtype, space, d[pos:])

    def _heap_refs(self, dtype: bytes, space: bytes, data: bytes) -> list[Item]:
        """Global heap collections that variable-length values (or region refs) point to."""
        cls = dtype[0] & 0x0F
        if cls == 9:  # variable length: 4-byte length + heap address + index
            step, at = 16, 4
        elif cls == 7 and dtype[1] & 0x0F == 1:  # dataset region reference
            step, at = 12, 0
        else:
            return []
        n = min(_elements(space), len(data) // step)
        addrs = {u64(data, i * step + at)[0] for i in range(n)}
        return [Item("gcol", a, "", ((a, GCOL_MIN),)) for a in sorted(addrs) if 0 < a != UNDEF]

    def _dataset_value(self, it: Item) -> list[Item]:
        layout, dtype, space = it.ctx.get("layout"), it.ctx.get("dtype"), it.ctx.get("space")
        limit = self.value_limit(it.path)
        if layout is None or dtype is None or space is None or limit <= 0:
            return []
        if layout[0] not in (3, 4):
            return []
        if layout[1] == 0:  # compact: the data is in the header
            size = u16(layout, 2)[0]
            return self._heap_refs(dtype, space, layout[4 : 4 + size])
        if layout[1] == 1:  # contiguous
            addr, size = u64(layout, 2)[0], u64(layout, 10)[0]
            if addr == UNDEF or size > limit:
                return []
            ctx = {"dtype": dtype, "space": space, "size": size}
            return [Item("contiguous", addr, it.path, ((addr, size),), ctx)]
        return []

    def _contiguous(self, it: Item) -> list[Item]:
        data = self.get(it.addr, it.ctx["size"])
        return self._heap_refs(it.ctx["dtype"], it.ctx["space"], data)


def _elements(space: bytes) -> int:
    version, rank = space[0], space[1]
    if version == 1:
        pos = 8
    elif version == 2:
        if space[3] == 2:  # null dataspace
            return 0
        pos = 4
    else:
        return 0
    n = 1
    for i in range(rank):
        n *= u64(space, pos + 8 * i)[0]
    return n


PARSERS: dict[str, Callable[[Decoder, Item], list[Item]]] = {
    "superblock": Decoder._superblock,
    "heap": Decoder._heap,
    "raw": Decoder._raw,
    "gcol": Decoder._gcol,
    "btree": Decoder._btree,
    "snod": Decoder._snod,
    "ohdr": Decoder._ohdr,
    "ochk": Decoder._ochk,
    "dense_links": Decoder._dense_links,
    "contiguous": Decoder._contiguous,
}
