"""Fetch an HDF5 file's metadata ahead of h5py, one level of the object graph per round trip.

h5py (libhdf5) reads metadata one structure at a time: an object header, then its group's
B-tree, then a symbol-table node, then the local heap with the names, then each child's header,
and so on, each read waiting for the one before. Over HTTP that is one round trip per
structure. `dandindex.nwb.h5struct` decodes the same structures itself; the planner here
fetches every structure found so far in one concurrent burst per step, so the number of round
trips is the depth of the dependency graph, not the number of objects. Nothing here is
required for correctness: anything not decoded (dense attribute storage, large dense link
storage, shared messages, chunked small datasets, odd versions) is simply left to h5py, which
reads it itself. Each (kind, address) is decoded once, so a file whose links loop back into
themselves ends like any other.

It fetches only structures that h5py will read for the same walk (`follow` decides which
groups are walked, `attribute` which attribute values, `value_limit` which datasets' data),
so the bytes fetched stay at what the walk needs.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from dandindex.nwb.h5struct import MAX_NEED, PARSERS, Decoder, Item, NeedBytes

# new metadata regions (see _Planner._regions), in blocks
REGION_RADIUS = 64
REGION_SPAN = 16
REGION_MARGIN = 3
REGION_GROUPS = 2
REGION_ALLOWANCE = 24


@dataclass
class PrefetchStats:
    rounds: int = 0
    structures: int = 0
    unparsed: int = 0


def _everything(path: str) -> bool:
    return True


def _no_values(path: str) -> int:
    return 0


class _Planner:
    """The fetch plan: which blocks each round fetches, and when to stop."""

    def __init__(
        self,
        rf: Any,
        follow: Callable[[str], bool],
        attribute: Callable[[str], bool],
        value_limit: Callable[[str], int],
        budget: float = 1.9,
        spread: int = 16,
        floor: int = 8,
    ) -> None:
        self.rf = rf
        self.decoder = Decoder(rf, follow, attribute, value_limit)
        self.stats = PrefetchStats()
        self.needed: set[int] = set()
        self.speculative: set[int] = set()
        self.last_speculative: set[int] = set()
        self.spread = spread
        self.max_spread = 32
        self.budget = budget
        self.floor = floor
        self.region_blocks = 0  # blocks fetched by `_regions` so far

    # -- the loop ----------------------------------------------------------------------

    def run(self, max_rounds: int = 64) -> PrefetchStats:
        items = [Item("superblock", 0, "/", ((0, 4096),))]
        seen: set[tuple[str, int]] = set()
        steps = 0
        while items and steps < max_rounds:
            steps += 1
            self._fetch([r for it in items for r in it.fetch])
            found: list[Item] = []
            for it in items:
                try:
                    found += PARSERS[it.kind](self.decoder, it)
                    self.stats.structures += 1
                except NeedBytes as e:
                    want = tuple((o, min(n, MAX_NEED)) for o, n in e.ranges)
                    if set(want) <= set(it.fetch):  # fetched and still missing: give up
                        self.stats.unparsed += 1
                    else:
                        it.fetch = want
                        it.ctx["requeued"] = True
                        found.append(it)
                except (ValueError, IndexError, struct.error, KeyError):
                    self.stats.unparsed += 1  # not ours to judge: h5py will read it itself
            items = []
            for it in found:
                if not it.ctx.get("requeued"):
                    if (it.kind, it.addr) in seen:
                        continue
                    seen.add((it.kind, it.addr))
                items.append(it)
        return self.stats

    def _fetch(self, ranges: list[tuple[int, int]]) -> None:
        """One burst: the missing blocks, plus neighbours of each missing run while that pays.

        HDF5 metadata sits in runs of adjacent blocks (libhdf5 allocates it in aggregated
        blocks), so a structure's neighbours are likely the next level's structures. The
        spread doubles while speculative blocks turn out needed and halves when they do not,
        and speculative blocks never take the total past `budget` x the blocks needed (or
        `floor` blocks, whichever is more). Apart from that budget, a new region (see
        `_regions`) is fetched whole at once.
        """
        rf = self.rf
        want = rf.blocks_of(ranges)
        self.needed |= want
        if want & self.speculative:
            self.spread = min(self.max_spread, self.spread * 2)
            self.speculative -= want
        missing = sorted(b for b in want if not rf.has_block(b))
        if not missing:
            return
        if self.last_speculative and not (self.last_speculative & self.needed):
            self.spread = max(1, self.spread // 2)
        top = (rf.size - 1) // rf.block_size
        # candidates by distance from the nearest missing block, nearest first
        dist: dict[int, int] = {}
        for b in missing:
            for d in range(1, self.spread + 1):
                for c in (b + d, b - d):
                    if 0 <= c <= top and not rf.has_block(c) and c not in want:
                        dist[c] = min(d, dist.get(c, d))
        # the floor: an NWB walk reads at least 4 blocks (superblock, root group, the
        # required datasets), so 8 blocks early on stay within 2x of any file's need
        allowed = max(int(self.budget * len(self.needed)), self.floor)
        room = allowed - rf.blocks_fetched - len(missing)
        extra = set(sorted(dist, key=lambda c: (dist[c], c))[: max(0, room)])
        region = self._regions(missing, want, top) - extra
        region = set(sorted(region)[: max(0, REGION_ALLOWANCE - self.region_blocks)])
        self.region_blocks += len(region)
        extra |= region
        self.last_speculative = extra
        self.speculative |= extra
        rf.fetch_blocks(missing + sorted(extra))
        self.stats.rounds += 1

    def _regions(self, missing: list[int], want: set[int], top: int) -> set[int]:
        """Blocks around wanted blocks that lie in a region nothing was fetched from yet.

        Writers put much of a file's metadata in one or two dense runs (pynwb with data
        written before the metadata: a run at the end); the first structure found in such a
        run says little about how far it goes, and growing the spread from it costs a round
        trip per step. So a new region (nothing fetched within `REGION_RADIUS` blocks) is
        fetched from its first to its last wanted block plus a margin, at once. Only when a
        round finds at most `REGION_GROUPS` of them (many small ones mean metadata between
        the data of every dataset: there a window would be mostly data), the margin shrinks
        with the spread, and a file spends at most `REGION_ALLOWANCE` blocks on this.
        """
        rf = self.rf
        fresh = [
            b
            for b in missing
            if not any(rf.has_block(c) for c in range(b - REGION_RADIUS, b + REGION_RADIUS + 1))
        ]
        groups: list[list[int]] = []
        for b in fresh:
            if groups and b - groups[-1][-1] <= REGION_SPAN:
                groups[-1].append(b)
            else:
                groups.append([b])
        if not groups or len(groups) > REGION_GROUPS:
            return set()
        margin = min(REGION_MARGIN, self.spread // 4)
        out: set[int] = set()
        for g in groups:
            if g[-1] - g[0] <= REGION_SPAN:
                lo, hi = max(0, g[0] - margin), min(top, g[-1] + margin)
                out.update(c for c in range(lo, hi + 1) if c not in want and not rf.has_block(c))
        return out


def prefetch_metadata(
    rf: Any,
    *,
    follow: Callable[[str], bool] = _everything,
    attribute: Callable[[str], bool] = _everything,
    value_limit: Callable[[str], int] = _no_values,
    max_rounds: int = 64,
) -> PrefetchStats:
    """Fetch the metadata a walk of `rf` (a `RangeFile`) will read, level by level.

    `follow(path)`: whether the object at `path` is walked (its header, and for a group its
    members). `attribute(name)`: whether attribute values of that name are read (their
    variable-length strings live in global heap collections). `value_limit(path)`: the size
    up to which the data of the dataset at `path` is read (0: not read).
    """
    return _Planner(rf, follow, attribute, value_limit).run(max_rounds)
