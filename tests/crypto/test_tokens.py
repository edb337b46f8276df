from __future__ import annotations

from tnrwatch.crypto.tokens import display_prefix, is_well_formed, new_token, token_hash


def test_tokens_are_unique_well_formed_and_checksummed() -> None:
    tokens = {new_token() for _ in range(100)}
    assert len(tokens) == 100
    for token in tokens:
        assert token.startswith("tnr_")
        assert len(token) == 4 + 43 + 6
        assert is_well_formed(token)


def test_a_mistyped_token_fails_the_checksum() -> None:
    token = new_token()
    typo = token[:10] + ("A" if token[10] != "A" else "B") + token[11:]
    assert not is_well_formed(typo)
    assert not is_well_formed(token[:-1])
    assert not is_well_formed("Bearer " + token)


def test_only_a_digest_and_a_short_prefix_are_derived() -> None:
    token = new_token()
    assert len(token_hash(token)) == 64
    assert token not in token_hash(token)
    assert display_prefix(token) == token[:10]
