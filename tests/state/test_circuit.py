"""The circuit breaker's state machine, on a hand-driven clock."""

from __future__ import annotations

from gateway.circuit import Circuit, CircuitConfig


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def tripped(clock: Clock, failures: int = 3) -> Circuit:
    circuit = Circuit("dep", CircuitConfig(failures, backoff_s=1.0, max_backoff_s=4.0), clock)
    for _ in range(failures):
        assert circuit.allow()
        circuit.failed()
    return circuit


def test_opens_only_after_consecutive_failures():
    clock = Clock()
    circuit = Circuit("dep", CircuitConfig(3), clock)
    for _ in range(5):  # a success in between resets the count
        circuit.failed()
        circuit.failed()
        circuit.succeeded()
    assert circuit.state == "closed" and circuit.allow()
    circuit.failed()
    circuit.failed()
    circuit.failed()
    assert circuit.state == "open" and not circuit.allow() and circuit.opened == 1


def test_half_open_lets_exactly_one_probe_through_and_a_success_closes():
    clock = Clock()
    circuit = tripped(clock)
    clock.now += 1.0
    assert circuit.state == "half_open"
    assert circuit.allow() and not circuit.allow()  # one probe at a time
    circuit.succeeded()
    assert circuit.state == "closed" and circuit.allow()


def test_failed_probes_back_off_doubling_up_to_the_maximum():
    clock = Clock()
    circuit = tripped(clock)
    waits = []
    for _ in range(4):
        waits.append(circuit.view().retry_in_s)
        clock.now += waits[-1]
        assert circuit.allow()
        circuit.failed()
    assert waits == [1.0, 2.0, 4.0, 4.0]
    assert circuit.opened == 1  # one trip, several failed probes


def test_an_abandoned_probe_frees_the_slot():
    clock = Clock()
    circuit = tripped(clock)
    clock.now += 1.0
    assert circuit.allow()
    circuit.abandoned()  # e.g. the probing request was cancelled
    assert circuit.allow()


def test_calls_that_fail_after_the_circuit_opened_do_not_extend_the_backoff():
    clock = Clock()
    circuit = tripped(clock)
    for _ in range(5):  # stragglers: in flight when it opened, failing now
        circuit.failed()
    assert circuit.view().retry_in_s == 1.0
