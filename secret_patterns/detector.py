"""Credentials in text, found by shape: detect-secrets' detectors of credential formats and its
entropy measure of random-looking strings, plus the few formats it does not know, written as
detectors of its own kind.

Three rules on top of the detectors, each for a reason:
- a format match is widened to the end of the token it starts (detectors match a fixed length or
  stop early, e.g. a JWT's signature; a longer token must not leak its tail);
- a private key is hidden whole, from its `BEGIN` line to its `END` line (the detector names the
  first line only), or to the end of the text when the key is cut;
- identifiers stay readable: a hex digest after `sha256:` or `@` (image digests, action pins),
  a bare SHA-1/SHA-256 hex (commit SHAs, checksums), a UUID, and words without both letters and
  digits (names, paths) are not measured for entropy.

Every step is one pass over the text (no regular expression here backtracks beyond a fixed
width), so a 5 MB live value costs about what reading it does.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from detect_secrets.filters.heuristic import is_potential_uuid, is_sequential_string
from detect_secrets.plugins.artifactory import ArtifactoryDetector
from detect_secrets.plugins.aws import AWSKeyDetector
from detect_secrets.plugins.azure_storage_key import AzureStorageKeyDetector
from detect_secrets.plugins.base import RegexBasedDetector
from detect_secrets.plugins.basic_auth import BasicAuthDetector
from detect_secrets.plugins.discord import DiscordBotTokenDetector
from detect_secrets.plugins.github_token import GitHubTokenDetector
from detect_secrets.plugins.gitlab_token import GitLabTokenDetector
from detect_secrets.plugins.high_entropy_strings import (
    Base64HighEntropyString,
    HexHighEntropyString,
)
from detect_secrets.plugins.jwt import JwtTokenDetector
from detect_secrets.plugins.mailchimp import MailchimpDetector
from detect_secrets.plugins.npm import NpmDetector
from detect_secrets.plugins.openai import OpenAIDetector
from detect_secrets.plugins.private_key import PrivateKeyDetector
from detect_secrets.plugins.pypi_token import PypiTokenDetector
from detect_secrets.plugins.sendgrid import SendGridDetector
from detect_secrets.plugins.slack import SlackDetector
from detect_secrets.plugins.square_oauth import SquareOAuthDetector
from detect_secrets.plugins.stripe import StripeDetector
from detect_secrets.plugins.telegram_token import TelegramBotTokenDetector
from detect_secrets.plugins.twilio import TwilioKeyDetector

REDACTED = "[redacted]"


# Formats detect-secrets 1.5.0 does not know, by the prefixes their issuers document, as
# detectors of its own kind: (the kind they are, the regular expression, why it is here).
_OWN_FORMATS = (
    ("Pulumi Access Token", r"pul-[0-9a-f]{40}", "unknown to detect-secrets"),
    ("GitHub Token", r"github_pat_[A-Za-z0-9_]{22,}|gh[pousr]_[A-Za-z0-9]{30,}",
     "detect-secrets knows `ghp_` and its kin at exactly 36 characters, not `github_pat_`"),
    ("Google API Key", r"AIza[0-9A-Za-z_-]{35}", "unknown to detect-secrets"),
    ("NPM tokens", r"npm_[A-Za-z0-9]{36}", "detect-secrets finds them in an `.npmrc` line only"),
    ("Private Key", r"BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY",
     "detect-secrets lists seven PEM headers; PKCS#8's `ENCRYPTED PRIVATE KEY` is not one"),
    ("Slack Token", r"hooks\.slack\.com/(?:services|workflows|triggers)/[A-Za-z0-9/_-]+",
     "detect-secrets knows `services/T…/B…/…` webhooks, not workflow or trigger ones"),
)  # fmt: skip


def _own_detector(kind: str, regex: str) -> RegexBasedDetector:
    name = "".join(word.capitalize() for word in kind.split()) + "FormatDetector"
    attributes = {"secret_type": kind, "denylist": (re.compile(regex),)}
    detector: RegexBasedDetector = type(name, (RegexBasedDetector,), attributes)()
    return detector


# detect-secrets' format detectors, less those for what is no credential here (public IPs) and
# those that read source code rather than text: `<vendor>_key = "…"` assignments (keyword,
# Cloudant, IBM Cloud IAM and COS, SoftLayer; 0.2-1 s per MB each, for vendors not used here).
FORMATS: tuple[RegexBasedDetector, ...] = (
    ArtifactoryDetector(), AWSKeyDetector(), AzureStorageKeyDetector(), BasicAuthDetector(),
    DiscordBotTokenDetector(), GitHubTokenDetector(), GitLabTokenDetector(), JwtTokenDetector(),
    MailchimpDetector(), NpmDetector(), OpenAIDetector(), PrivateKeyDetector(),
    PypiTokenDetector(), SendGridDetector(), SlackDetector(), SquareOAuthDetector(),
    StripeDetector(), TelegramBotTokenDetector(), TwilioKeyDetector(),
    *(_own_detector(kind, regex) for kind, regex, _ in _OWN_FORMATS),
)  # fmt: skip
_PRIVATE_KEYS = tuple(d for d in FORMATS if d.secret_type == PrivateKeyDetector.secret_type)
_BASE64, _HEX = Base64HighEntropyString(), HexHighEntropyString()

# What a token is made of (base64, base64url, JWT dots): a match is widened over these.
_TOKEN_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_+/=.")
# Delimiters some detectors include in their match (`(?:\s|=|:|"|^)AKC…(?:\s|"|$)`).
_EDGE = " \t\r\n=:\"'"
# Entropy candidates: runs of the Base64 detector's alphabet (padding only at the end, so that
# `NAME=value` is two words), at least as long as the shortest random token worth measuring.
_MIN_LENGTH = 20
_CANDIDATE = re.compile(rf"[A-Za-z0-9+/_-]{{{_MIN_LENGTH},}}={{0,2}}")
_HEX_WORD = re.compile(r"[0-9a-fA-F]+")
_HEX_RUN = re.compile(rf"[0-9a-fA-F]{{{_MIN_LENGTH},}}")
_DIGEST_BEFORE = re.compile(r"(?:sha\d{1,3}:|@)$")
_SHA_LENGTHS = (40, 64)
_SEPARATORS = re.compile(r"[-_/+=]")
_RANDOM_RUN = 12
# The fixed hex signatures that mark secrets, assets and resources in the engine's JSON
# (pulumi.runtime.rpc's `_special_*_sig`; tests/test_redaction.py checks them against the SDK,
# which this module does not import: reports must not pay for the SDK).
PULUMI_SIGNATURES = frozenset({
    "4dabf18193072939515e22adb298388d", "1b47061264138c4ac30d75fd1eb44270",
    "c44067f5952c0a294b673a41bacd8c17", "0def7320c3a5731c473e5ecbe6d01bc7",
    "5cf8f73096256a8f31e491e813e4eb8e", "d0e6a833031e9bbcd3f4e8bde6ca49a4",
})  # fmt: skip
_PEM_END = re.compile(r"-----END [A-Z0-9 ]*(?:PRIVATE KEY|PRIVATE KEY BLOCK)-----")


def _required_literal(regex: re.Pattern[str]) -> str:
    """The longest run of plain characters every match of `regex` contains ("" if unsure): a
    text without it cannot match, and `in` finds that at memory speed while the engine tries a
    character class at every position (a 1 MB run of letters took 0.2 s per detector)."""
    if regex.flags & re.IGNORECASE:
        return ""
    longest, run = "", ""
    for op, argument in re._parser.parse(regex.pattern, regex.flags):  # type: ignore[attr-defined]
        if op is re._constants.LITERAL:  # type: ignore[attr-defined]
            run += chr(argument)
        else:
            longest, run = max(longest, run, key=len), ""
    return max(longest, run, key=len)


_LITERALS: dict[re.Pattern[str], str] = {}


def _spans_of(detector: RegexBasedDetector, text: str) -> Iterator[tuple[int, int]]:
    for regex in detector.denylist:
        literal = _LITERALS.get(regex)
        if literal is None:
            literal = _LITERALS[regex] = _required_literal(regex)
        if literal not in text:
            continue
        for match in regex.finditer(text):
            # The secret is the last group that matched (a URL's password, not the URL).
            groups = [i for i in range(1, (regex.groups or 0) + 1) if match.group(i)]
            start, end = match.span(groups[-1] if groups else 0)
            while start < end and text[start] in _EDGE:
                start += 1
            while end > start and text[end - 1] in _EDGE:
                end -= 1
            if start < end:
                yield start, end


def _widen(text: str, end: int) -> int:
    while end < len(text) and text[end] in _TOKEN_CHARS:
        end += 1
    return end


def _private_key(text: str, start: int) -> tuple[int, int]:
    """The whole key around a `BEGIN … PRIVATE KEY` match: from its dashes to its END line."""
    begin = text.rfind("-----", max(0, start - 6), start)
    end = _PEM_END.search(text, start)
    return (begin if begin >= 0 else start), (end.end() if end else len(text))


def _format_spans(text: str) -> Iterator[tuple[int, int]]:
    for detector in FORMATS:
        for start, end in _spans_of(detector, text):
            if detector in _PRIVATE_KEYS:
                yield _private_key(text, start)
            else:
                yield start, _widen(text, end)


def _random_hex(word: str, after_digest_prefix: bool) -> bool:
    if len(word) in _SHA_LENGTHS or word in PULUMI_SIGNATURES or after_digest_prefix:
        return False
    return _HEX.calculate_shannon_entropy(word) > _HEX.entropy_limit


def _random_base64(word: str, parts: list[str]) -> bool:
    # A name joins short parts (`tbcoin-engine-prod-7f9c8d6b5-x2k4p`); a random token has a long
    # run of mixed letters and digits between its rare `-`, `_`, `/` or `+`. A hex part is
    # measured as hex (below): names carry short digests (`managed-files-72010cf50695`).
    mixed = any(
        len(p) >= _RANDOM_RUN and not p.isalpha() and not p.isdigit() and not _HEX_WORD.fullmatch(p)
        for p in parts
    )
    if not mixed or is_potential_uuid(word) or is_sequential_string(word):
        return False
    return _BASE64.calculate_shannon_entropy(word) > _BASE64.entropy_limit


def _prefixed_hex(word: str) -> bool:
    """A hex key behind a vendor's prefix (`dapi<32 hex>`, `dop_v1_<64 hex>`), measured as hex:
    as base64 it looks plain. A digest-long run counts only behind `_`, the prefixes' joint (a
    name joins a commit SHA or digest with `-`)."""
    for run in _HEX_RUN.finditer(word):
        key = run.group()
        if run.start() == 0 or key.isdigit():
            continue
        if len(key) in _SHA_LENGTHS and word[run.start() - 1] != "_":
            continue
        entropy = _HEX.calculate_shannon_entropy(key)
        if key not in PULUMI_SIGNATURES and entropy > _HEX.entropy_limit:
            return True
    return False


def _is_random(text: str, start: int, word: str) -> bool:
    if _HEX_WORD.fullmatch(word):
        return _random_hex(word, bool(_DIGEST_BEFORE.search(text, max(0, start - 8), start)))
    parts = _SEPARATORS.split(word)
    # A hex key inside a name (`repo-<hex>-prod`) is measured as hex: as base64 it looks plain.
    return (
        _random_base64(word, parts)
        or any(
            len(p) >= _MIN_LENGTH
            and not p.isdigit()
            and _HEX_WORD.fullmatch(p)
            and _random_hex(p, False)
            for p in parts
        )
        or _prefixed_hex(word)
    )


def _entropy_spans(text: str) -> Iterator[tuple[int, int]]:
    for match in _CANDIDATE.finditer(text):
        if _is_random(text, match.start(), match.group()):
            yield match.span()


def redact(text: str) -> str:
    """`text` with every credential-shaped part replaced by `[redacted]`."""
    merged: list[list[int]] = []
    for start, end in sorted([*_format_spans(text), *_entropy_spans(text)]):
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    parts, position = [], 0
    for start, end in merged:
        parts += [text[position:start], REDACTED]
        position = end
    parts.append(text[position:])
    return "".join(parts)


def token_format(text: str) -> str | None:
    """The kind of the first well-known credential format in `text` (no entropy guess: config
    holds digests and pins)."""
    for detector in FORMATS:
        if next(_spans_of(detector, text), None) is not None:
            return str(detector.secret_type)
    return None
