"""Each resource's properties converted once per request, not once per policy.

pulumi_policy turns a request's properties (a protobuf Struct) into a dict and then into an
unknown-checking proxy inside its loop over policies, and its provider's properties likewise:
for the 89 resources of a prod preview that is 4,732 conversions, about four fifths of the
pack's time (measured in-process, bench/engine.py has the figure under the engine). The
conversion is a pure function of the request, so `install()` makes the SDK's own functions
remember their answer for the message object at hand; every policy then reads the same
read-only result (no policy here writes to its properties). The runtime settings the SDK
re-reads from the environment on every call are read once. `uninstall()` restores the SDK.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

import pulumi_policy.policy as sdk

# Enough for the largest request (AnalyzeStack: every resource and its provider) many times over.
REMEMBERED = 4096
_originals: dict[str, Any] = {}
_local = threading.local()  # the SDK serves requests on a thread pool


def _remembered(function: Callable[..., Any]) -> Callable[..., Any]:
    """`function` of one argument, remembered by the argument's identity. The argument is kept
    alive with its answer, so its id cannot be reused by another object meanwhile."""

    def once(argument: Any, *rest: Any, **options: Any) -> Any:
        if rest or options:
            return function(argument, *rest, **options)
        cache: OrderedDict[int, tuple[Any, Any]] | None = getattr(_local, function.__name__, None)
        if cache is None:
            cache = OrderedDict()
            setattr(_local, function.__name__, cache)
        hit = cache.get(id(argument))
        if hit is not None and hit[0] is argument:
            return hit[1]
        answer = function(argument)
        cache[id(argument)] = (argument, answer)
        if len(cache) > REMEMBERED:
            cache.popitem(last=False)
        return answer

    return once


class _JsonFormat:
    """The SDK module's view of protobuf's json_format, with MessageToDict remembered."""

    def __init__(self, module: Any) -> None:
        self._module = module
        self.MessageToDict = _remembered(module.MessageToDict)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._module, name)


def install() -> None:
    if _originals:
        return
    _originals.update(
        json_format=sdk.json_format,
        deserialize_properties=sdk.deserialize_properties,
        unknown_checking_proxy=sdk.unknown_checking_proxy,
        configure=sdk._PolicyAnalyzerServicer._configure_runtime_settings,
    )
    sdk.json_format = _JsonFormat(sdk.json_format)
    sdk.deserialize_properties = _remembered(sdk.deserialize_properties)
    sdk.unknown_checking_proxy = _remembered(sdk.unknown_checking_proxy)
    configured: list[bool] = []
    configure = _originals["configure"]

    def configure_once(servicer: Any) -> None:
        if not configured:
            configure(servicer)
            configured.append(True)

    sdk._PolicyAnalyzerServicer._configure_runtime_settings = configure_once  # type: ignore[method-assign]


def uninstall() -> None:
    if not _originals:
        return
    sdk.json_format = _originals["json_format"]
    sdk.deserialize_properties = _originals["deserialize_properties"]
    sdk.unknown_checking_proxy = _originals["unknown_checking_proxy"]
    sdk._PolicyAnalyzerServicer._configure_runtime_settings = _originals["configure"]  # type: ignore[method-assign]
    _originals.clear()
