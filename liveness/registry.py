"""Registries map names given on the command line to the code that builds them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Generic, TypeVar

from liveness.errors import UnknownComponentError

T = TypeVar("T")


class Registry(Generic[T]):
    """Named factories of one kind (detectors, model architectures, ...)."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._factories: dict[str, Callable[..., T]] = {}

    def register(self, name: str) -> Callable[[Callable[..., T]], Callable[..., T]]:
        """Decorator that files a factory under `name`."""

        def decorate(factory: Callable[..., T]) -> Callable[..., T]:
            if name in self._factories:
                raise ValueError(f"{self.kind} {name!r} is registered twice")
            self._factories[name] = factory
            return factory

        return decorate

    def get(self, name: str) -> Callable[..., T]:
        """The factory for `name`; the error lists the names that do exist."""
        try:
            return self._factories[name]
        except KeyError:
            known = ", ".join(self.names()) or "none"
            raise UnknownComponentError(f"unknown {self.kind} {name!r}; known: {known}") from None

    def create(self, name: str, **kwargs: object) -> T:
        """Build the component registered as `name`."""
        return self.get(name)(**kwargs)

    def names(self) -> list[str]:
        return sorted(self._factories)
