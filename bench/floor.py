"""The floor a parse is measured against, and timing interleaved with it.

Absolute milliseconds move with the machine (an Intel and an AMD VM of the same size differ by
half) and with its load; a ratio to a floor measured *in the same run, interleaved* does not:
each round times the floor and the figure back to back (alternating which goes first), and the
reported ratio is the median over rounds of figure / floor of that round.

Floors (issue 23):
- JSON: `orjson.loads` of the same bodies: the least any parse into Python objects costs.
- XML: expat (`pyexpat`) parsing the same body to events with no handlers set: the C parser
  tokenises, checks well-formedness and raises every event, and nothing is called back. That
  is the least "expat parsing to events" costs; with a handler per event (even a C built-in)
  the floor is 2.5-3 times higher and the target would be met by any parse.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Sequence
from xml.parsers import expat

import orjson


def json_floor(bodies: Sequence[bytes]) -> None:
    """orjson.loads of each body."""
    for body in bodies:
        orjson.loads(body)


def xml_floor(bodies: Sequence[bytes]) -> None:
    """expat over each body, no handlers: events raised, none delivered."""
    for body in bodies:
        expat.ParserCreate().Parse(body, True)


def cpu_ms(call: Callable[[], object]) -> float:
    started = time.process_time()
    call()
    return (time.process_time() - started) * 1000


def interleaved(floor: Callable[[], object], figures: dict[str, Callable[[], object]], rounds: int,
                ) -> tuple[list[float], dict[str, list[float]]]:
    """CPU ms of the floor and of each figure, round by round, the order flipped every round."""
    floors: list[float] = []
    samples: dict[str, list[float]] = {name: [] for name in figures}
    for i in range(rounds):
        if i % 2:
            for name, call in figures.items():
                samples[name].append(cpu_ms(call))
            floors.append(cpu_ms(floor))
        else:
            floors.append(cpu_ms(floor))
            for name, call in figures.items():
                samples[name].append(cpu_ms(call))
    return floors, samples


def ratio(samples: Sequence[float], floors: Sequence[float]) -> float:
    """Median over rounds of figure / that round's floor."""
    return statistics.median(s / f for s, f in zip(samples, floors, strict=True) if f > 0)
