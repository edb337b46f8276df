"""Cryptography (PyNaCl / libsodium): the identity vault, API tokens."""
