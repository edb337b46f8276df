"""The indicator normalisers: one canonical form per indicator, idempotent, and a clear message for what is not one."""

from __future__ import annotations

import ipaddress
import re
import string

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tnrwatch.domain.indicators import INDICATOR_KINDS, indicator_kinds_of, normalise_indicator


@pytest.mark.parametrize(
    ("kind", "given_value", "canonical"),
    [
        ("domain-name", "Evil.Example.COM.", "evil.example.com"),
        ("domain-name", "  example[.]org ", "example.org"),
        ("domain-name", "bücher.example", "xn--bcher-kva.example"),
        ("domain-name", "xn--bcher-kva.example", "xn--bcher-kva.example"),
        ("ipv4-addr", "192.0.2.7", "192.0.2.7"),
        ("ipv4-addr", "198[.]51[.]100[.]1", "198.51.100.1"),
        ("ipv6-addr", "2001:DB8:0:0::1", "2001:db8::1"),
        ("ipv6-addr", "[2001:db8::2]", "2001:db8::2"),
        ("url", "HTTPS://Evil.Example/Path?q=1", "https://evil.example/Path?q=1"),
        ("url", "hxxp://evil[.]example", "http://evil.example/"),
        ("url", "https://bücher.example/päth", "https://xn--bcher-kva.example/p%C3%A4th"),
        ("url", "http://[2001:DB8::1]:8080/x", "http://[2001:db8::1]:8080/x"),
        ("url", "https://evil.example/it's", "https://evil.example/it's"),
        ("file-sha256", "A" * 64, "a" * 64),
        ("email-addr", "Phish[@]Evil.Example", "phish@evil.example"),
        ("email-addr", "first.last+tag@bücher.example", "first.last+tag@xn--bcher-kva.example"),
    ],
)
def test_values_take_their_canonical_form(kind: str, given_value: str, canonical: str) -> None:
    assert normalise_indicator(kind, given_value) == canonical


@pytest.mark.parametrize(
    ("kind", "given_value", "message"),
    [
        ("domain-name", "localhost", "two labels or more"),
        ("domain-name", "evil_site.example", "letters, digits and inner hyphens"),
        ("domain-name", "-evil.example", "letters, digits and inner hyphens"),
        ("domain-name", "a..example", "each label 1 to 63 characters"),
        ("domain-name", "192.0.2.1", "not an address"),
        ("domain-name", "evil example.com", "without spaces"),
        ("domain-name", "x" * 64 + ".example", "each label 1 to 63 characters"),
        ("ipv4-addr", "192.0.2.256", "one IPv4 address"),
        ("ipv4-addr", "192.0.2.0/24", "no network"),
        ("ipv4-addr", "010.0.0.1", "one IPv4 address"),
        ("ipv6-addr", "2001:db8::g", "one IPv6 address"),
        ("ipv6-addr", "fe80::1%eth0", "without a zone"),
        ("url", "ftp://evil.example/file", "http:// or https://"),
        ("url", "https:///path", "naming a host"),
        ("url", "https://evil.example/a b", "without spaces"),
        ("url", "https://evil.example:99999/", "host or port is wrong"),
        ("url", "https://" + "a" * 2000 + ".example/", "at most 2000 characters"),
        ("file-sha256", "a" * 63, "64 hexadecimal digits"),
        ("file-sha256", "g" * 64, "64 hexadecimal digits"),
        ("email-addr", "no-at-sign.example", "like someone@example.com"),
        ("email-addr", "two words@evil.example", "like someone@example.com"),
        ("email-addr", "someone@localhost", "two labels or more"),
        ("phone", "+1 555 0100", "unknown indicator kind 'phone'"),
    ],
)
def test_what_is_not_an_indicator_is_refused_with_a_reason(kind: str, given_value: str, message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        normalise_indicator(kind, given_value)


def test_a_value_without_a_kind_is_read_as_every_kind_it_can_be() -> None:
    assert indicator_kinds_of("Example[.]COM") == [("domain-name", "example.com")]
    assert indicator_kinds_of("192.0.2.1") == [("ipv4-addr", "192.0.2.1")]
    assert indicator_kinds_of("https://example.com") == [("url", "https://example.com/")]
    assert indicator_kinds_of("someone@example.com") == [("email-addr", "someone@example.com")]
    assert indicator_kinds_of("F" * 64) == [("file-sha256", "f" * 64)]
    assert indicator_kinds_of("not an indicator") == []


# -- properties ---------------------------------------------------------------------------------------------------

labels = st.text(string.ascii_letters + string.digits, min_size=1, max_size=20)
unicode_labels = st.text(st.characters(min_codepoint=0xC0, max_codepoint=0x24F), min_size=1, max_size=10)
ascii_domains = st.lists(labels, min_size=1, max_size=3).map(lambda parts: ".".join([*parts, "example"]))
domains = st.lists(labels | unicode_labels, min_size=1, max_size=3).map(lambda parts: ".".join([*parts, "example"]))
anything = st.text(max_size=80)


@settings(max_examples=200)
@given(st.sampled_from(INDICATOR_KINDS), anything)
def test_any_text_is_refused_or_canonical_and_normalising_again_changes_nothing(kind: str, text: str) -> None:
    refusal = ""
    try:
        once = normalise_indicator(kind, text)
    except ValueError as exc:  # refused with a message, never another exception
        refusal = str(exc)
    if refusal:
        return
    assert normalise_indicator(kind, once) == once
    assert once == once.strip()
    assert once.isascii()


@settings(max_examples=200)
@given(ascii_domains, st.sampled_from([str.lower, str.upper, str.title]))
def test_domains_compare_equal_whatever_their_case(domain: str, case: object) -> None:
    canonical = normalise_indicator("domain-name", domain)
    assert normalise_indicator("domain-name", case(domain)) == canonical  # type: ignore[operator]
    assert normalise_indicator("domain-name", canonical + ".") == canonical
    assert canonical == domain.lower()


@settings(max_examples=200)
@given(domains)
def test_domains_in_any_script_are_kept_in_ascii_and_read_back_the_same(domain: str) -> None:
    try:
        canonical = normalise_indicator("domain-name", domain)
    except ValueError:
        return  # a label IDNA refuses (e.g. too long once encoded)
    assert canonical.isascii()
    assert canonical == canonical.lower()
    assert normalise_indicator("domain-name", canonical) == canonical


@given(st.ip_addresses(v=4))
def test_every_ipv4_address_is_its_own_canonical_form(address: ipaddress.IPv4Address) -> None:
    assert normalise_indicator("ipv4-addr", str(address)) == str(address)
    assert indicator_kinds_of(str(address))[0] == ("ipv4-addr", str(address))


@given(st.ip_addresses(v=6))
def test_every_ipv6_address_reads_in_any_spelling(address: ipaddress.IPv6Address) -> None:
    assert normalise_indicator("ipv6-addr", address.exploded.upper()) == str(address)


@given(st.binary(min_size=32, max_size=32))
def test_digests_compare_equal_whatever_their_case(digest: bytes) -> None:
    assert normalise_indicator("file-sha256", digest.hex().upper()) == digest.hex()


@settings(max_examples=200)
@given(ascii_domains, st.text(string.ascii_letters + string.digits + "/-._~%!$&'()*+,;=:@?#äü ", max_size=30))
def test_urls_are_ascii_and_stable(domain: str, rest: str) -> None:
    url = f"https://{domain}/{rest}"
    if " " in url.strip():
        with pytest.raises(ValueError, match="without spaces"):
            normalise_indicator("url", url)
        return
    once = normalise_indicator("url", url)
    assert once.startswith("https://")
    assert once.isascii()
    assert normalise_indicator("url", once) == once
