"""Drum parts: grooves on a step grid, variations, fills at section ends, crashes.

Keys are General MIDI percussion: 36 kick, 38 snare, 37 side stick, 39 clap, 42 closed
hat, 44 pedal hat, 46 open hat, 49 crash, 51 ride, 41/45/48/50 toms, 56 cowbell.
"""

from __future__ import annotations

import numpy as np

from bandmate.synth.plan import SongPlan
from bandmate.synth.score import BeatNote
from bandmate.synth.theory import Meter

KICK, SIDE_STICK, SNARE, CLAP, CLOSED_HAT, PEDAL_HAT, OPEN_HAT = 36, 37, 38, 39, 42, 44, 46
CRASH, RIDE, COWBELL = 49, 51, 56
TOMS = (50, 48, 45, 41)  # high to low

# Grooves, one per line: drum=pattern, 16 steps a bar of 4/4 (12 of 3/4); x accent,
# o normal, g ghost, . rest.
DRUM_NAMES = {
    "kick": KICK, "side": SIDE_STICK, "snare": SNARE, "clap": CLAP, "hat": CLOSED_HAT,
    "pedal": PEDAL_HAT, "open": OPEN_HAT, "ride": RIDE, "crash": CRASH, "cowbell": COWBELL,
}  # fmt: skip


def _grooves(table: str) -> dict[str, dict[int, str]]:
    """`name drum=pattern ...` lines -> {name: {GM drum key: pattern}}."""
    grooves = {}
    for line in table.strip().splitlines():
        name, *parts = line.split()
        grooves[name] = {
            DRUM_NAMES[d]: pattern for d, _, pattern in (p.partition("=") for p in parts)
        }
    return grooves


GROOVES_4_4 = _grooves("""
rock       kick=x.....o.x.o..... snare=....x.......x... hat=x.o.x.o.x.o.x.o.
pop        kick=x.....o...x..... snare=....x.......x... hat=x.o.x.o.x.o.x.o.
punk       kick=x...o...x...o... snare=..x...x...x...x. hat=x.x.x.x.x.x.x.x.
halftime   kick=x.........o..... snare=........x....... hat=x.o.x.o.x.o.x.o.
four_floor kick=x...x...x...x... clap=....x.......x... open=..o...o...o...o.
funk       kick=x..o..o...x..o.. snare=....x..g.g..x..g hat=xoooxoooxoooxooo
hiphop     kick=x......o..x..... snare=....x.......x... hat=x.o.x.o.x.o.x.o.
swing      kick=x.......o....... pedal=....o.......o... ride=x...o.oox...o.oo
ballad     kick=x.......o.o..... side=....o.......o... hat=o.o.o.o.o.o.o.o.
one_drop   kick=........x....... side=........x....... hat=o.o.o.o.o.o.o.o.
shuffle    kick=x.....o.x....... snare=....x.......x... hat=x.o.x.o.x.o.x.o.
metal      kick=xoxoxoxoxoxoxoxo snare=....x.......x... ride=x...x...x...x...
bossa      kick=x..ox..ox..ox..o side=x..o..o...o..o.. hat=oooooooooooooooo
""")
GROOVES_3_4 = _grooves("""
waltz      kick=x........... snare=....o...o... hat=x.o.x.o.x.o.
""")
VELOCITY = {"x": 112, "o": 88, "g": 42}


def _generic(meter: Meter, rng: np.random.Generator) -> dict[int, str]:
    """A groove for any meter: kick on the first pulse, snare on every other pulse, 8th hats."""
    steps = meter.steps_per_bar
    kick, snare, hats = ["."] * steps, ["."] * steps, ["."] * steps
    for i, pulse in enumerate(meter.pulses):
        if i % 2 == 0:
            kick[pulse] = "x" if i == 0 else "o"
        else:
            snare[pulse] = "x"
    if len(meter.pulses) == 2 or meter.name == "3/4":
        snare[meter.pulses[-1]] = "x"
    for step in range(0, steps, 2):
        hats[step] = "x" if step in meter.pulses else "o"
    if rng.random() < 0.5:  # a pick-up kick before the last pulse
        kick[max(meter.pulses[-1] - 2, 1)] = "o"
    return {KICK: "".join(kick), SNARE: "".join(snare), CLOSED_HAT: "".join(hats)}


def choose_groove(plan: SongPlan, rng: np.random.Generator) -> dict[int, str]:
    """The song's main groove: a named one fitting its meter, else the generic one."""
    meter = plan.meter
    table = {"4/4": GROOVES_4_4, "3/4": GROOVES_3_4}.get(meter.name, {})
    names = [name for name in plan.style.grooves if name in table]
    if not names:
        return _generic(meter, rng)
    return dict(table[names[int(rng.integers(len(names)))]])


def _bar_hits(
    groove: dict[int, str], rng: np.random.Generator, swap: dict[int, int]
) -> list[tuple[int, int, int]]:
    """(step, key, velocity) of one bar, with small random variations.

    Args:
        swap: keys played by other keys in this bar (hats on the ride in a chorus, ...);
            a key mapped to -1 is left out.
    """
    hits = []
    for groove_key, pattern in groove.items():
        key = swap.get(groove_key, groove_key)
        if key < 0:
            continue
        for step, mark in enumerate(pattern):
            if mark == "." or (mark in "og" and rng.random() < 0.06):
                continue
            hits.append((step, key, VELOCITY[mark]))
    if KICK not in swap and rng.random() < 0.15:  # an extra syncopated kick
        hits.append((int(rng.integers(len(next(iter(groove.values()))))), KICK, 80))
    return hits


def _fill(meter: Meter, rng: np.random.Generator) -> list[tuple[int, int, int]]:
    """A fill over the last pulse(s) of a bar: snare and toms, loud to louder."""
    start = meter.pulses[-2] if len(meter.pulses) > 2 and rng.random() < 0.4 else meter.pulses[-1]
    stride = 1 if rng.random() < 0.6 else 2
    steps = list(range(start, meter.steps_per_bar, stride))
    voices = [SNARE, *TOMS] if rng.random() < 0.6 else [SNARE]
    out = []
    for i, step in enumerate(steps):
        voice = voices[min(i * len(voices) // max(len(steps), 1), len(voices) - 1)]
        out.append((step, voice, 80 + 35 * i // max(len(steps), 1)))
    return out


def drum_part(plan: SongPlan, rng: np.random.Generator) -> list[BeatNote]:
    """The whole drum part of a song, in beats."""
    meter = plan.meter
    groove = choose_groove(plan, rng)
    step_b = meter.beats_per_step
    # Per song: ride instead of hats in loud sections; a sparse intro (no kick, no snare).
    loud = {CLOSED_HAT: RIDE} if rng.random() < 0.5 else {}
    quiet = {KICK: -1, SNARE: -1, CLAP: -1, SIDE_STICK: -1} if rng.random() < 0.4 else {}
    notes: list[BeatNote] = []
    for index, bar in enumerate(plan.bars):
        if bar.section in ("chorus", "b", "bridge"):
            swap = loud
        else:
            swap = quiet if bar.section == "intro" else {}
        hits = _bar_hits(groove, rng, swap)
        if bar.last_in_section and index < len(plan.bars) - 1:
            fill = _fill(meter, rng)
            first = fill[0][0]
            hits = [h for h in hits if h[0] < first or h[1] in (KICK, CLOSED_HAT, RIDE)] + fill
        if bar.first_in_section and index > 0:
            hits.append((0, CRASH, 110))
        start = plan.bar_start(index)
        notes += [BeatNote(start + step * step_b, step_b, key, vel) for step, key, vel in hits]
    return notes
