"""argon2id for every secret we keep: passwords, secret answers, history entries."""

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

# OWASP / ASVS 5.0 minimum for argon2id.
hasher = PasswordHasher(time_cost=2, memory_cost=19456, parallelism=1)

# Verified against for unknown login IDs, so they cost the same time as known ones.
DUMMY_HASH = hasher.hash("not a real password")


def hash_secret(secret: str) -> str:
    return hasher.hash(secret)


def verify_secret(secret_hash: str | None, secret: str) -> bool:
    try:
        return hasher.verify(secret_hash or DUMMY_HASH, secret) and secret_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(secret_hash: str) -> bool:
    return hasher.check_needs_rehash(secret_hash)
