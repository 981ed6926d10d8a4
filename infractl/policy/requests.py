"""Analyzer requests built from a synth's captured registrations, as the engine would send them."""

from __future__ import annotations

from pulumi.runtime.proto import analyzer_pb2

from infractl.synth.capture import Captured


def _options(resource: Captured) -> analyzer_pb2.AnalyzerResourceOptions:
    opts = resource.options
    options = analyzer_pb2.AnalyzerResourceOptions(
        protect=bool(opts.get("protect", False)),
        ignoreChanges=opts.get("ignoreChanges", []),
        additionalSecretOutputs=opts.get("additionalSecretOutputs", []),
        parent=opts.get("parent", ""),
    )
    if "deleteBeforeReplace" in opts:
        options.deleteBeforeReplace = bool(opts["deleteBeforeReplace"])
        options.deleteBeforeReplaceDefined = True
    return options


def _provider(
    resource: Captured, by_urn: dict[str, Captured]
) -> analyzer_pb2.AnalyzerProviderResource | None:
    provider = by_urn.get(resource.options.get("provider", ""))
    if provider is None:
        return None
    return analyzer_pb2.AnalyzerProviderResource(
        type=provider.type, urn=provider.urn, name=provider.name, properties=provider.raw
    )


def analyze_requests(resources: list[Captured]) -> list[analyzer_pb2.AnalyzeRequest]:
    by_urn = {r.urn: r for r in resources}
    requests = []
    for r in resources:
        request = analyzer_pb2.AnalyzeRequest(
            type=r.type, urn=r.urn, name=r.name, properties=r.raw, options=_options(r)
        )
        provider = _provider(r, by_urn)
        if provider is not None:
            request.provider.CopyFrom(provider)
        requests.append(request)
    return requests


def analyze_stack_request(resources: list[Captured]) -> analyzer_pb2.AnalyzeStackRequest:
    by_urn = {r.urn: r for r in resources}
    request = analyzer_pb2.AnalyzeStackRequest()
    for r in resources:
        item = analyzer_pb2.AnalyzerResource(
            type=r.type,
            urn=r.urn,
            name=r.name,
            properties=r.raw,
            options=_options(r),
            parent=r.options.get("parent", ""),
            dependencies=r.options.get("dependsOn", []),
        )
        provider = _provider(r, by_urn)
        if provider is not None:
            item.provider.CopyFrom(provider)
        # As the engine sends them (pulumi pkg/resource/plugin/analyzer_plugin.go, AnalyzeStack):
        # only properties that have dependencies. The SDK records every input property, mostly
        # with none, and pulumi_policy copies each entry once per stack policy.
        for key, urns in r.property_dependencies.items():
            if urns:
                item.propertyDependencies[key].urns.extend(urns)
        request.resources.append(item)
    return request
