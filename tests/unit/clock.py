"""A settable clock for unit tests: pass it where the code takes `clock: () -> float`."""


class Clock:
    """Returns `now` until a test moves it."""

    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now
