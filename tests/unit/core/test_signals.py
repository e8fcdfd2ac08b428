"""One signal handling (`iter8_action.core.signals`): the first signal raises, naming itself;
inside an event loop it only sets the stop event; later ones never cut cleanup short."""

from __future__ import annotations

import asyncio
import os
import signal
import threading
import time

import pytest

from iter8_action.core import signals
from iter8_action.core.errors import Interrupted


def _deliver(sig: signal.Signals) -> None:
    os.kill(os.getpid(), sig)
    time.sleep(0.05)  # Python runs the handler at the next bytecode boundary


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_the_first_signal_raises_interrupted_naming_it(sig: signal.Signals) -> None:
    with pytest.raises(Interrupted) as info, signals.handling() as stop:
        _deliver(sig)
    assert str(info.value) == f"interrupted by {sig.name}"
    assert info.value.exit_code == 130
    assert stop.is_set()
    assert stop.signal_name == sig.name


def test_a_second_signal_does_not_cut_the_cleanup_short() -> None:
    cleaned = False
    with signals.handling() as stop:
        try:
            _deliver(signal.SIGTERM)
        except Interrupted:
            _deliver(signal.SIGINT)  # during the cleanup: recorded, not raised
            cleaned = True
    assert cleaned
    assert stop.signal_name == "SIGTERM"


def test_inside_an_event_loop_the_signal_only_sets_the_event() -> None:
    async def load(stop: threading.Event) -> str:
        os.kill(os.getpid(), signal.SIGTERM)
        while not stop.is_set():  # as the load generators poll
            await asyncio.sleep(0.01)
        return "stopped cleanly"

    with signals.handling() as stop:
        assert asyncio.run(load(stop)) == "stopped cleanly"
    assert stop.signal_name == "SIGTERM"


def test_nested_handling_shares_the_outer_one_and_sets_a_watched_event() -> None:
    mine = threading.Event()
    with signals.handling() as outer:
        with signals.handling(watch=mine) as inner:
            assert inner is outer
            with pytest.raises(Interrupted):
                _deliver(signal.SIGTERM)
        assert mine.is_set()
        # still handled after the inner block: a later signal does not kill the process
        _deliver(signal.SIGTERM)


def test_the_previous_handlers_come_back() -> None:
    before = signal.getsignal(signal.SIGTERM), signal.getsignal(signal.SIGINT)
    with signals.handling():
        assert signal.getsignal(signal.SIGTERM) is not before[0]
    assert (signal.getsignal(signal.SIGTERM), signal.getsignal(signal.SIGINT)) == before
