"""Technical indicators of digital repression (spyware, phishing, account compromise): the values forensic labs
publish, as in Amnesty's MVT indicator sets, each in one canonical form so that the same indicator compares equal
wherever it was written down.

Kinds are the STIX 2.1 cyber-observables a lab's indicator names (interop/stix.py writes each as a STIX pattern):
a domain name, an IPv4 or IPv6 address, a URL, a file's SHA-256 and an e-mail address. Phone numbers used for threats
are not among them: STIX 2.1 has no phone-number observable, so no pattern could carry one to a partner; they belong
in the incident's summary or a source.

`normalise_indicator` is the one normaliser (pure, no I/O, idempotent): it returns the canonical value or raises
`ValueError` with a message a coder can act on. Lab reports often publish "defanged" values that cannot be clicked
(`example[.]com`, `hxxps://...`, `someone[@]example.com`); those are read as what they stand for.
"""

from __future__ import annotations

import ipaddress
import re
from typing import Literal, get_args
from urllib.parse import quote, urlsplit, urlunsplit

IndicatorKind = Literal["domain-name", "ipv4-addr", "ipv6-addr", "url", "file-sha256", "email-addr"]
INDICATOR_KINDS: tuple[str, ...] = get_args(IndicatorKind)
MAX_VALUE_LENGTH = 2000  # a URL; the others are far shorter

_LABEL = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_LOCAL_PART = re.compile(r"^[a-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[a-z0-9!#$%&'*+/=?^_`{|}~-]+)*$")
_CONTROL_OR_SPACE = re.compile(r"[\x00-\x20\x7f]")
# What `quote` leaves alone in a URL's path, query and fragment: RFC 3986's reserved and unreserved characters and
# "%" (an escape already made), so that quoting twice changes nothing.
# "%" (an escape already made), so that quoting twice changes nothing. Brackets belong only around an IPv6 host.
_URL_SAFE = "!#$%&'()*+,/:;=?@~-._"


def normalise_indicator(kind: str, value: str) -> str:
    """The canonical form of an indicator `value` of `kind`; ValueError saying what is wrong with it."""
    text = _refang(value.strip(), kind)
    if kind == "domain-name":
        return normalise_domain(text)
    if kind == "ipv4-addr":
        return _ipv4(text)
    if kind == "ipv6-addr":
        return _ipv6(text)
    if kind == "url":
        return _url(text)
    if kind == "file-sha256":
        return _sha256(text)
    if kind == "email-addr":
        return _email(text)
    raise ValueError(f"unknown indicator kind {kind!r}; the kinds are: {', '.join(INDICATOR_KINDS)}")


def indicator_kinds_of(value: str) -> list[tuple[str, str]]:
    """Every (kind, canonical value) `value` reads as, in `INDICATOR_KINDS` order: what a lookup that is not told
    the kind searches for."""
    found = []
    for kind in INDICATOR_KINDS:
        try:
            found.append((kind, normalise_indicator(kind, value)))
        except ValueError:
            continue
    return found


def _refang(text: str, kind: str) -> str:
    """`example[.]com` -> `example.com`, `someone[@]example.com` -> `someone@example.com`, and for a URL
    `hxxps://` -> `https://`."""
    text = text.replace("[.]", ".").replace("[@]", "@")
    return "http" + text[4:] if kind == "url" and text[:4].lower() == "hxxp" else text


def normalise_domain(text: str) -> str:
    """A domain name in lower case with its labels in ASCII (IDNA: `bücher.example` -> `xn--bcher-kva.example`),
    without a trailing dot; at least two labels, and a last label that is not a number (that is an address)."""
    name = text.lower().removesuffix(".")
    if not name or _CONTROL_OR_SPACE.search(name):
        raise ValueError("must be a domain name like example.com, without spaces")
    try:
        ascii_name = name.encode("idna").decode("ascii")
    except UnicodeError:
        raise ValueError("must be a domain name like example.com (each label 1 to 63 characters)") from None
    labels = ascii_name.lower().split(".")
    if len(labels) < 2 or len(ascii_name) > 253:
        raise ValueError("must be a domain name like example.com: two labels or more, at most 253 characters")
    if not all(_LABEL.match(label) for label in labels):
        raise ValueError("must be a domain name like example.com: letters, digits and inner hyphens in each label")
    if labels[-1].isdigit():
        raise ValueError("must be a domain name, not an address (use kind ipv4-addr)")
    return ".".join(labels)


def _ipv4(text: str) -> str:
    try:
        return str(ipaddress.IPv4Address(text))
    except ValueError:
        raise ValueError("must be one IPv4 address like 192.0.2.1 (no network, no port)") from None


def _ipv6(text: str) -> str:
    try:
        address = ipaddress.IPv6Address(text.removeprefix("[").removesuffix("]"))
    except ValueError:
        raise ValueError("must be one IPv6 address like 2001:db8::1 (no network, no port)") from None
    if address.scope_id is not None:
        raise ValueError("must be an IPv6 address without a zone (%...): a zone names one machine's interface")
    return str(address)  # the compressed, lower-case form


def _url(text: str) -> str:
    """A web address with its scheme and host in canonical form and anything outside ASCII %-escaped in its path,
    query and fragment (as RFC 3986 asks, and as STIX's url value must be); the rest as given."""
    if len(text) > MAX_VALUE_LENGTH or _CONTROL_OR_SPACE.search(text):
        raise ValueError(f"must be a web address without spaces, at most {MAX_VALUE_LENGTH} characters")
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError:
        raise ValueError("must be a web address like https://example.com/path (its host or port is wrong)") from None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("must be a web address starting with http:// or https:// and naming a host")
    host = _url_host(parts.hostname)
    userinfo = parts.netloc.rpartition("@")[0]
    netloc = (f"{quote(userinfo, safe=_URL_SAFE)}@" if userinfo else "") + host
    if port is not None:
        netloc += f":{port}"
    path = quote(parts.path, safe=_URL_SAFE) or "/"
    canonical = urlunsplit(
        (scheme, netloc, path, quote(parts.query, safe=_URL_SAFE), quote(parts.fragment, safe=_URL_SAFE))
    )
    if len(canonical) > MAX_VALUE_LENGTH:
        raise ValueError(f"is longer than {MAX_VALUE_LENGTH} characters once written in ASCII")
    return canonical


def _url_host(hostname: str) -> str:
    try:
        address = ipaddress.ip_address(hostname)
    except ValueError:
        return normalise_domain(hostname)
    return f"[{address}]" if address.version == 6 else str(address)


def _sha256(text: str) -> str:
    digest = text.lower()
    if not _SHA256.match(digest):
        raise ValueError("must be a SHA-256 digest: 64 hexadecimal digits")
    return digest


def _email(text: str) -> str:
    """An e-mail address in lower case (mail providers ignore case, and so must a lookup), its domain in IDNA."""
    local, at, domain = text.lower().rpartition("@")
    if not at or not _LOCAL_PART.match(local) or len(local) > 64:
        raise ValueError("must be an e-mail address like someone@example.com")
    return f"{local}@{normalise_domain(domain)}"
