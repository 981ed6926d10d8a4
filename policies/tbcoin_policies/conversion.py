"""Each resource's properties converted once per request, not once per policy.

pulumi_policy turns a request's properties (a protobuf Struct) into a dict and then into an
unknown-checking proxy inside its loop over policies, and its provider's properties likewise:
for the 89 resources of a prod preview that is 4,732 conversions, about four fifths of the
pack's time (measured in-process; bench/engine.py has the pack's cost under the engine). The
conversion is a pure function of the message, so `install()` makes the SDK's own functions
remember their answer for the message object at hand, for the duration of one request; every
policy then reads the same read-only result (no policy here writes to its properties). The
runtime settings the SDK re-reads from the environment on every call are read once.
`uninstall()` restores the SDK.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from typing import Any

import pulumi_policy.policy as sdk

_originals: dict[str, Any] = {}
# Per thread (the SDK serves requests on a thread pool), emptied when each request ends: what a
# request converted is kept alive, so an id cannot be reused by another object meanwhile.
_local = threading.local()
REQUESTS = ("Analyze", "AnalyzeStack", "Remediate")
# What AnalyzeStack rebuilds for every resource in its loop over stack policies (a dozen here):
# a resource's options and provider, the same for each policy, are built once per request.
PER_RESOURCE = ("_get_resource_options", "_get_provider_resource")


def _answers() -> dict[tuple[str, int], tuple[Any, Any]]:
    if not hasattr(_local, "answers"):
        _local.answers = {}
    answers: dict[tuple[str, int], tuple[Any, Any]] = _local.answers
    return answers


def _recall(name: str, argument: Any, compute: Callable[[], Any]) -> Any:
    """What `compute` answers for `argument`, computed once per request."""
    answers = _answers()
    key = (name, id(argument))
    hit = answers.get(key)
    if hit is not None and hit[0] is argument:
        return hit[1]
    answer = compute()
    answers[key] = (argument, answer)
    return answer


def _remembered(function: Callable[..., Any]) -> Callable[..., Any]:
    """`function` of one argument, remembered by the argument's identity within a request."""

    @functools.wraps(function)
    def once(argument: Any, *rest: Any, **options: Any) -> Any:
        if rest or options:
            return function(argument, *rest, **options)
        return _recall(function.__name__, argument, lambda: function(argument))

    return once


def _remembered_method(method: Callable[[Any, Any], Any]) -> Callable[[Any, Any], Any]:
    """A servicer's `method(self, resource)`, remembered by the resource's identity likewise."""

    @functools.wraps(method)
    def once(self: Any, resource: Any) -> Any:
        return _recall(method.__name__, resource, lambda: method(self, resource))

    return once


def _one_request(method: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(method)
    def serve(*args: Any, **kwargs: Any) -> Any:
        _answers().clear()
        try:
            return method(*args, **kwargs)
        finally:
            _answers().clear()

    return serve


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
    servicer = sdk._PolicyAnalyzerServicer
    _originals.update(
        json_format=sdk.json_format,
        deserialize_properties=sdk.deserialize_properties,
        unknown_checking_proxy=sdk.unknown_checking_proxy,
        configure=servicer._configure_runtime_settings,
        **{name: getattr(servicer, name) for name in PER_RESOURCE},
        **{name: getattr(servicer, name) for name in REQUESTS},
    )
    sdk.json_format = _JsonFormat(sdk.json_format)
    sdk.deserialize_properties = _remembered(sdk.deserialize_properties)
    sdk.unknown_checking_proxy = _remembered(sdk.unknown_checking_proxy)
    for name in REQUESTS:
        setattr(servicer, name, _one_request(_originals[name]))
    for name in PER_RESOURCE:
        setattr(servicer, name, _remembered_method(_originals[name]))
    configured: list[bool] = []
    configure = _originals["configure"]

    def configure_once(self: Any) -> None:
        if not configured:
            configure(self)
            configured.append(True)

    servicer._configure_runtime_settings = configure_once  # type: ignore[method-assign]


def uninstall() -> None:
    if not _originals:
        return
    servicer = sdk._PolicyAnalyzerServicer
    sdk.json_format = _originals["json_format"]
    sdk.deserialize_properties = _originals["deserialize_properties"]
    sdk.unknown_checking_proxy = _originals["unknown_checking_proxy"]
    servicer._configure_runtime_settings = _originals["configure"]  # type: ignore[method-assign]
    for name in REQUESTS + PER_RESOURCE:
        setattr(servicer, name, _originals[name])
    _originals.clear()
