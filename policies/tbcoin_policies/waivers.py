"""Waivers: reviewed, expiring exceptions to one policy for the resources one selector picks,
read from `policies/waivers/<stack>.json` beside this pack.

infra/config/waivers.py states each field and rule (infractl validates the file through it, exit
2); the pack imports neither pydantic nor the config layer, so this module applies the same rules
in plain code, and tests/test_waivers_agree.py holds both to the same verdict on every input.

Under the engine and offline alike, `install()` wraps the SDK's analyzer service:
- ConfigureStack (the engine names the stack there; the Python SDK keeps only its tags) reads
  and checks the stack's file;
- Analyze and AnalyzeStack report a violation a live waiver selects at advisory level, its
  message opened by `Waived by '<name>' ...` (WAIVED); a violation an expired waiver selects
  counts as before and says which waiver expired;
- AnalyzeStack then adds the notices of POLICY: each problem of a malformed file (mandatory:
  then no waiver applies at all), each expired waiver and each live waiver that waives nothing
  (stale; advisory: tidying the file must not hold up a deploy).
Every answer is a function of the request, the file and the day, so a pack kept between checks
(`check --watch`) answers as a fresh one would.
"""

from __future__ import annotations

import datetime
import json
import os
import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any

import pulumi_policy.policy as sdk
from pulumi.runtime.proto import analyzer_pb2
from pulumi_policy import EnforcementLevel, Severity

from tbcoin_policies.common import NotWaivable, project_rule, stack_policy

POLICY = "policy-waivers"
PACK_DIR = Path(__file__).resolve().parent.parent
FOLDER = "waivers"
NAMESPACE = "waiver"
# The same figures as infra/config/waivers.py (a test compares them).
MAX_DAYS = 90
MIN_LITERAL = 3
MIN_REASON, MAX_REASON = 10, 500
MAX_BYTES = 1 << 20
TODAY_VARIABLE = "TBCOIN_WAIVERS_TODAY"
FIELDS = ("policy", "urn", "name", "reason", "approvedBy", "granted", "expires", "ticket")
REQUIRED = ("policy", "reason", "approvedBy", "granted", "expires")
STACK_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,99}")
_PLAIN_KEY = re.compile(r"^[A-Za-z0-9_/-][A-Za-z0-9_./-]*$")
_WAIVER_NAME = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")
_DATE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")
_URN = re.compile(r"^urn:pulumi:[!-9;-~]+::[!-9;-~]+::[!-~]+::[!-9;-~]+$")
_NAME = re.compile(r"^[A-Za-z0-9._*?-]{1,100}$")
_APPROVER = re.compile(r"^@[A-Za-z0-9](-?[A-Za-z0-9])*(/[A-Za-z0-9._-]+)?$")
_HTTPS = re.compile(r"^https://[A-Za-z0-9.-]+(:[0-9]+)?(/[A-Za-z0-9._~%/+-]*)?$")
_CONTROLS = frozenset({"Cc", "Cf", "Zl", "Zp", "Cs"})


@dataclass(frozen=True)
class Waiver:
    name: str
    policy: str
    urn: str | None
    pattern: str | None
    reason: str
    approved_by: str
    granted: datetime.date
    expires: datetime.date
    ticket: str | None

    def selects(self, urn: str) -> bool:
        if self.urn is not None:
            return urn == self.urn
        return self.pattern is not None and fnmatchcase(urn.rsplit("::", 1)[-1], self.pattern)

    def live(self, today: datetime.date) -> bool:
        return self.granted <= today < self.expires

    @property
    def selector(self) -> str:
        return f"urn {self.urn}" if self.urn is not None else f"name {self.pattern}"


@dataclass(frozen=True)
class Problem:
    path: str  # below the file: `<waiver>.<field>`
    message: str


def key_path(*parts: str) -> str:
    """`a.b`, with a key that is not a plain word quoted, as config messages name keys."""
    out = ""
    for part in parts:
        out += (
            (f".{part}" if out else part) if _PLAIN_KEY.fullmatch(part) else f"[{json.dumps(part)}]"
        )
    return out


def _string(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _date(value: str) -> datetime.date | None:
    if not _DATE.fullmatch(value):
        return None
    try:
        return datetime.date.fromisoformat(value)
    except ValueError:
        return None


def _one_line(text: str) -> bool:
    return not any(unicodedata.category(c) in _CONTROLS for c in text)


def _field_problem(
    key: str, value: Any, *, stack: str, project: str, policies: Mapping[str, bool]
) -> str | None:
    """What is wrong with one field's value, or None."""
    text = _string(value)
    if text is None:
        return f"must be a string (got {value!r})"
    if key == "policy":
        if text not in policies:
            return "no such policy in the pack"
        return None if policies[text] else "is not waivable (docs/reference/policies.md says why)"
    if key == "urn":
        if not _URN.fullmatch(text) or len(text) > 1000:
            return "must be a Pulumi URN (urn:pulumi:<stack>::<project>::<type>::<name>)"
        prefix = f"urn:pulumi:{stack}::{project}::"
        return None if text.startswith(prefix) else f"is not a resource of this stack ({prefix})"
    if key == "name":
        if not _NAME.fullmatch(text):
            return "must be a resource name pattern of letters, digits, '.', '_', '-', * and ?"
        literal = len(re.sub(r"[*?]", "", text))
        return None if literal >= MIN_LITERAL else f"needs {MIN_LITERAL} characters besides * and ?"
    if key == "reason":
        if not _one_line(text):
            return "must be one line of text without control characters"
        if len(text) > MAX_REASON:
            return f"must be at most {MAX_REASON} characters"
        return (
            None if len(text.strip()) >= MIN_REASON else f"must say why in {MIN_REASON}+ characters"
        )
    if key == "approvedBy":
        return None if _APPROVER.fullmatch(text) else "must be a GitHub @user or @org/team"
    if key in ("granted", "expires"):
        return None if _date(text) else "must be a calendar date as YYYY-MM-DD"
    return None if _HTTPS.fullmatch(text) else "must be an https:// URL"  # ticket


def _waiver(
    name: str,
    entry: Any,
    *,
    stack: str,
    project: str,
    policies: Mapping[str, bool],
    clock: datetime.date,
) -> tuple[Waiver | None, list[Problem]]:
    problems = []
    if not isinstance(entry, dict):
        return None, [Problem(key_path(name), "must be a mapping")]
    for key in entry:
        if key not in FIELDS:
            problems.append(Problem(key_path(name, key), "unknown key"))
    given = {
        k: v for k, v in entry.items() if k in FIELDS and not (v is None and k not in REQUIRED)
    }
    for key in REQUIRED:
        if key not in given:
            problems.append(Problem(key_path(name, key), "required key is missing"))
    for key, value in given.items():
        wrong = _field_problem(key, value, stack=stack, project=project, policies=policies)
        if wrong:
            problems.append(Problem(key_path(name, key), wrong))
    if problems:
        return None, problems
    granted, expires = _date(given["granted"]), _date(given["expires"])
    assert granted is not None and expires is not None  # checked above
    if ("urn" in given) == ("name" in given):
        return None, [Problem(key_path(name), "give exactly one selector: `urn` or `name`")]
    if granted > clock:
        return None, [Problem(key_path(name, "granted"), f"is after today ({clock})")]
    if expires <= granted:
        return None, [Problem(key_path(name, "expires"), "must be after `granted`")]
    if (expires - granted).days > MAX_DAYS:
        return None, [
            Problem(key_path(name, "expires"), f"must be at most {MAX_DAYS} days after `granted`")
        ]
    waiver = Waiver(
        name, given["policy"], given.get("urn"), given.get("name"), given["reason"],
        given["approvedBy"], granted, expires, given.get("ticket"),
    )  # fmt: skip
    return waiver, []


def validate(
    data: Any,
    *,
    stack: str,
    project: str,
    policies: Mapping[str, bool],
    clock: datetime.date,
) -> tuple[list[Waiver], list[Problem]]:
    """The waivers of a parsed file, or every problem with it (then no waiver at all)."""
    if not isinstance(data, dict):
        return [], [Problem("", "must be a JSON object of waiver name -> waiver")]
    waivers, problems = [], []
    for name, entry in data.items():
        if not _WAIVER_NAME.fullmatch(name):  # judged apart from the waiver, as a key
            problems.append(
            Problem(key_path(name), "the key itself must be a DNS label: lowercase letters, "
                    "digits and '-', at most 63 characters")
        )  # fmt: skip
        waiver, wrong = _waiver(
            name, entry, stack=stack, project=project, policies=policies, clock=clock
        )
        problems += wrong
        if waiver is not None:
            waivers.append(waiver)
    return ([], problems) if problems else (waivers, [])


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    keys = [key for key, _ in pairs]
    repeated = sorted({key for key in keys if keys.count(key) > 1})
    if repeated:
        raise ValueError(f"duplicate key {repeated[0]!r}")
    return dict(pairs)


def _refuse(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def parse(raw: bytes) -> Any:
    """The file's JSON; ValueError (one line) for what the config layer's reader refuses too."""
    if len(raw) > MAX_BYTES:
        raise ValueError(f"larger than {MAX_BYTES} bytes")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ValueError("not UTF-8 text") from None
    try:
        return json.loads(text, object_pairs_hook=_no_duplicates, parse_constant=_refuse)
    except RecursionError:
        raise ValueError("nested too deeply") from None
    except json.JSONDecodeError as exc:
        raise ValueError(
            f"not valid JSON: line {exc.lineno}, column {exc.colno}: {exc.msg}"
        ) from None


def today(environ: Mapping[str, str], clock: datetime.date) -> datetime.date:
    """The UTC date, or TBCOIN_WAIVERS_TODAY if later: it may make a waiver expire early, never
    revive one. ValueError if it is not a date."""
    given = environ.get(TODAY_VARIABLE, "")
    if not given:
        return clock
    moved = _date(given)
    if moved is None:
        raise ValueError(f"{TODAY_VARIABLE} must be a date as YYYY-MM-DD (got {given!r})")
    return max(clock, moved)


@dataclass
class Session:
    """What the pack knows of the stack it was last configured for."""

    stack: str = ""
    source: str = ""  # the file, as messages name it
    today: datetime.date = datetime.date.min
    waivers: list[Waiver] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # one line each; any: no waiver applies

    def live(self) -> list[Waiver]:
        return [w for w in self.waivers if w.live(self.today)]

    def expired(self) -> list[Waiver]:
        return [w for w in self.waivers if self.today >= w.expires]


def open_session(stack: str, project: str, policies: Mapping[str, bool]) -> Session:
    """Read and check the stack's waivers file; every problem becomes one line of the session."""
    clock = datetime.datetime.now(datetime.UTC).date()
    source = f"{PACK_DIR.name}/{FOLDER}/{stack}.json"
    session = Session(stack, source, clock)
    try:
        session.today = today(os.environ, clock)
    except ValueError as exc:
        session.problems.append(f"environment: {exc}")
        return session
    if not STACK_NAME.fullmatch(stack):
        session.problems.append(f"the engine named no usable stack ({stack!r})")
        return session
    path = PACK_DIR / FOLDER / f"{stack}.json"
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return session  # no file: no waivers
    except OSError as exc:
        session.problems.append(f"{source}: cannot read it: {exc.strerror or exc}")
        return session
    try:
        data = parse(raw)
    except ValueError as exc:
        session.problems.append(f"{source}: {NAMESPACE}: {exc}")
        return session
    waivers, problems = validate(data, stack=stack, project=project, policies=policies, clock=clock)
    session.waivers = waivers
    session.problems = [
        f"{source}: {NAMESPACE}:{p.path}: {p.message}"
        if p.path
        else f"{source}: {NAMESPACE}: {p.message}"
        for p in problems
    ]
    return session


# --- what the pack reports ------------------------------------------------------------------

WAIVED = "Waived by '{name}' (expires {expires}, approved by {approver}): "


def waived_message(description: str, message: str, waiver: Waiver) -> str:
    """The SDK's message is `<description>\\n<what and fix>`: the waiver goes before the what."""
    mark = WAIVED.format(name=waiver.name, expires=waiver.expires, approver=waiver.approved_by)
    head, newline, rest = message.partition("\n")
    if newline and head == description:
        return f"{head}\n{mark}{rest}"
    return mark + message


def _apply(
    session: Session, diagnostics: Iterable[analyzer_pb2.AnalyzeDiagnostic], urn: str
) -> None:
    """Waive what a live waiver selects; say so where an expired one would have."""
    if session.problems:
        return
    for d in diagnostics:
        target = d.urn or urn
        if not target or d.policyName == POLICY:
            continue
        chosen = [w for w in session.waivers if w.policy == d.policyName and w.selects(target)]
        live = [w for w in chosen if w.live(session.today)]
        if live:
            d.enforcementLevel = analyzer_pb2.ADVISORY
            d.message = waived_message(d.description, d.message, live[0])
        elif chosen:
            names = ", ".join(f"'{w.name}' expired on {w.expires}" for w in chosen)
            d.message += f" (Waiver {names}: this counts again.)"


def _selected(
    diagnostics: Iterable[analyzer_pb2.AnalyzeDiagnostic], waiver: Waiver, urn: str
) -> bool:
    return any(d.policyName == waiver.policy and waiver.selects(d.urn or urn) for d in diagnostics)


def _analyze_request(resource: analyzer_pb2.AnalyzerResource) -> analyzer_pb2.AnalyzeRequest:
    request = analyzer_pb2.AnalyzeRequest(
        type=resource.type, urn=resource.urn, name=resource.name, properties=resource.properties
    )
    if resource.HasField("options"):
        request.options.CopyFrom(resource.options)
    if resource.HasField("provider"):
        request.provider.CopyFrom(resource.provider)
    return request


def _unused(
    session: Session,
    request: analyzer_pb2.AnalyzeStackRequest,
    stack_diagnostics: list[analyzer_pb2.AnalyzeDiagnostic],
    analyze: Callable[[analyzer_pb2.AnalyzeRequest], analyzer_pb2.AnalyzeResponse],
    kinds: Mapping[str, str],
) -> list[tuple[Waiver, str]]:
    """Live waivers that waive nothing in this stack, and why. A resource policy's waiver is
    judged by asking the pack again about the resources it selects (few), so the answer needs
    nothing remembered from earlier calls."""
    answers: dict[str, list[analyzer_pb2.AnalyzeDiagnostic]] = {}
    resources = {r.urn: r for r in request.resources}
    unused = []
    for waiver in session.live():
        if kinds.get(waiver.policy) == "stack":
            if not _selected(stack_diagnostics, waiver, ""):
                unused.append((waiver, f"{waiver.policy} reports nothing on what it selects"))
            continue
        chosen = [urn for urn in resources if waiver.selects(urn)]
        if not chosen:
            unused.append((waiver, "it selects no resource of the stack"))
            continue
        for urn in chosen:
            if urn not in answers:
                answers[urn] = list(analyze(_analyze_request(resources[urn])).diagnostics)
        if not any(_selected(answers[urn], waiver, urn) for urn in chosen):
            unused.append((waiver, f"{waiver.policy} reports nothing on what it selects"))
    return unused


Notice = tuple[EnforcementLevel, Severity, str, str]


def notices(session: Session, unused: list[tuple[Waiver, str]]) -> list[Notice]:
    """(level, severity, message, urn) of each notice of POLICY."""
    if session.problems:
        fix = "No waiver applies until the file is fixed."
        return [
            (EnforcementLevel.MANDATORY, Severity.HIGH, f"{p}. {fix}", "") for p in session.problems
        ]
    found: list[Notice] = [
        (
            EnforcementLevel.ADVISORY,
            Severity.MEDIUM,
            f"Waiver '{w.name}' ({w.policy} on {w.selector}) expired on {w.expires}: the "
            "violations it covered count again. Fix: fix them and remove the waiver, or renew "
            f"it with a new review in {session.source}.",
            w.urn or "",
        )
        for w in session.expired()
    ]
    found += [
        (
            EnforcementLevel.ADVISORY,
            Severity.LOW,
            f"Waiver '{w.name}' ({w.policy} on {w.selector}) is stale, it waives nothing: {why}. "
            f"Fix: remove it from {session.source}.",
            w.urn or "",
        )
        for w, why in unused
    ]
    return found


_session = Session()
_originals: dict[str, Any] = {}


def install(policies: Mapping[str, bool], kinds: Mapping[str, str]) -> None:
    """Wrap the SDK's analyzer service (see the module). `policies`: name -> waivable;
    `kinds`: name -> "resource" or "stack"."""
    if _originals:
        return
    servicer = sdk._PolicyAnalyzerServicer
    _originals.update(
        ConfigureStack=servicer.ConfigureStack,
        Analyze=servicer.Analyze,
        AnalyzeStack=servicer.AnalyzeStack,
    )

    def configure_stack(self: Any, request: Any, context: Any) -> Any:
        global _session
        _session = open_session(request.stack, request.project, policies)
        return _originals["ConfigureStack"](self, request, context)

    def analyze(self: Any, request: Any, context: Any) -> Any:
        response = _originals["Analyze"](self, request, context)
        _apply(_session, response.diagnostics, request.urn)
        return response

    def analyze_stack(self: Any, request: Any, context: Any) -> Any:
        response = _originals["AnalyzeStack"](self, request, context)

        def again(r: analyzer_pb2.AnalyzeRequest) -> Any:
            return _originals["Analyze"](self, r, context)

        unused = [] if _session.problems else _unused(
            _session, request, list(response.diagnostics), again, kinds
        )  # fmt: skip
        _apply(_session, response.diagnostics, "")
        for level, severity, message, urn in notices(_session, unused):
            # The SDK's own reporter: the pack's name and version, as every violation has.
            report = self._create_report_violation(response, POLICY, DESCRIPTION, level, severity)
            report(message, urn or None)
        return response

    servicer.ConfigureStack = configure_stack  # type: ignore[method-assign,assignment]
    servicer.Analyze = analyze  # type: ignore[method-assign]
    servicer.AnalyzeStack = analyze_stack  # type: ignore[method-assign]


DESCRIPTION = (
    "The stack's waivers file is well-formed (else no waiver applies); expired and stale "
    "waivers are named."
)

waivers_policy = stack_policy(
    POLICY,
    area="waivers",
    description=DESCRIPTION,
    severity=Severity.HIGH,
    standard=project_rule("reviewed-expiring-waivers"),
    remediation="fix the line it names in policies/waivers/<stack>.json (docs/runbooks/"
    "waivers.md); a malformed file is always mandatory, expired and stale waivers advisory.",
    # What it reports comes from `install()`, which sees every other policy's answers.
    check=lambda resources, config: (),
    waiver=NotWaivable("it reports on the waivers themselves."),
)
POLICIES = [waivers_policy]
