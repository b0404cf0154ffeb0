"""Generators of credentials (one per ``secrets.*`` detector) and adversarial near-matches.

Every value is built from a seeded `random.Random`, so Hypothesis explores seeds while each
value keeps the shape of a real credential (random bodies, never ``aaaa...``, which the
detectors rightly treat as placeholders). `tests/test_secrets.py` uses the same generators
for its recall and precision check.
"""

from __future__ import annotations

import base64
import json
import random
import string
from collections.abc import Callable

from hypothesis import strategies as st
from hypothesis.strategies import SearchStrategy

ALNUM = string.ascii_letters + string.digits
BASE32 = string.ascii_uppercase + "234567"
BASE64 = ALNUM + "+/"
URLSAFE = ALNUM + "-_"
HEX = "0123456789abcdef"
PASSWORD_CHARS = ALNUM + "!@#^-_+=~"


def _pick(rng: random.Random, alphabet: str, n: int) -> str:
    return "".join(rng.choice(alphabet) for _ in range(n))


def random_body(rng: random.Random, alphabet: str, n: int) -> str:
    """``n`` random characters of ``alphabet``, of at least two character classes when it has two."""
    groups = [g for g in (string.ascii_lowercase, string.ascii_uppercase, string.digits) if set(g) & set(alphabet)]
    while True:
        body = _pick(rng, alphabet, n)
        if sum(1 for g in groups if set(g) & set(body)) >= min(2, len(groups)):
            return body


def aws_access_key(rng: random.Random) -> str:
    return rng.choice(["AKIA", "ASIA"]) + random_body(rng, BASE32, 16)


def aws_secret_value(rng: random.Random) -> str:
    while True:
        value = _pick(rng, BASE64, 40)
        if any(c.isupper() for c in value) and any(c.islower() for c in value) and len(set(value)) >= 16:
            return value


def aws_secret_key(rng: random.Random) -> str:
    value = aws_secret_value(rng)
    return rng.choice(
        [
            f"aws_secret_access_key = {value}",
            f"AWS_SECRET_ACCESS_KEY={value}",
            f'"SecretAccessKey": "{value}"',
            f"aws_secret_key: '{value}'",
        ]
    )


def github_token(rng: random.Random) -> str:
    if rng.random() < 0.2:
        return "github_pat_" + random_body(rng, ALNUM + "_", 82)
    return "gh" + rng.choice("pousr") + "_" + random_body(rng, ALNUM, 36)


def gitlab_token(rng: random.Random) -> str:
    prefix = rng.choice(["glpat-", "gldt-", "glrt-", "glptt-", "glcbt-", "glft-", "glsoat-"])
    return prefix + random_body(rng, URLSAFE, 20)


def slack_token(rng: random.Random) -> str:
    if rng.random() < 0.2:
        return f"xapp-1-A{_pick(rng, BASE32, 10)}-{_pick(rng, string.digits, 13)}-{_pick(rng, HEX, 64)}"
    kind = rng.choice("bpars")
    return f"xox{kind}-{_pick(rng, string.digits, 12)}-{_pick(rng, string.digits, 13)}-{random_body(rng, ALNUM, 24)}"


def slack_webhook(rng: random.Random) -> str:
    team = "T" + _pick(rng, BASE32, 10)
    hook = "B" + _pick(rng, BASE32, 10)
    return f"https://hooks.slack.com/services/{team}/{hook}/{random_body(rng, ALNUM, 24)}"


def stripe_key(rng: random.Random) -> str:
    prefix = rng.choice(["sk_live_", "rk_live_"])
    return prefix + random_body(rng, ALNUM, rng.choice([24, 99]))


def google_api_key(rng: random.Random) -> str:
    return "AIza" + random_body(rng, URLSAFE, 35)


def openai_key(rng: random.Random) -> str:
    if rng.random() < 0.3:
        return "sk-" + random_body(rng, ALNUM, 20) + "T3BlbkFJ" + random_body(rng, ALNUM, 20)
    prefix = rng.choice(["sk-proj-", "sk-svcacct-", "sk-admin-"])
    return prefix + random_body(rng, URLSAFE, 74) + "T3BlbkFJ" + random_body(rng, URLSAFE, 74)


def anthropic_key(rng: random.Random) -> str:
    kind = rng.choice(["api03", "admin01"])
    return f"sk-ant-{kind}-" + random_body(rng, URLSAFE, 93) + "AA"


def huggingface_token(rng: random.Random) -> str:
    return "hf_" + random_body(rng, string.ascii_letters, 34)


def npm_token(rng: random.Random) -> str:
    return "npm_" + random_body(rng, ALNUM, 36)


def sendgrid_key(rng: random.Random) -> str:
    return "SG." + random_body(rng, URLSAFE, 22) + "." + random_body(rng, URLSAFE, 43)


def twilio_key(rng: random.Random) -> str:
    return "SK" + _pick(rng, HEX, 32)


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def jwt(rng: random.Random) -> str:
    header = {"alg": rng.choice(["HS256", "RS256", "ES256"]), "typ": "JWT"}
    if rng.random() < 0.5:
        header["kid"] = _pick(rng, ALNUM, 8)
    claims = {
        "sub": _pick(rng, string.digits, 10),
        "name": _pick(rng, string.ascii_letters, 8),
        "iat": rng.randrange(10**9, 2 * 10**9),
    }
    signature = _pick(rng, URLSAFE, 43 if header["alg"] == "HS256" else 86)
    parts = [
        _b64url(json.dumps(header, separators=(",", ":")).encode()),
        _b64url(json.dumps(claims).encode()),
        signature,
    ]
    return ".".join(parts)


def private_key(rng: random.Random) -> str:
    kind = rng.choice(["RSA ", "EC ", "DSA ", "", "ENCRYPTED ", "OPENSSH ", "PGP ", "putty", "age"])
    if kind == "putty":
        return (
            "PuTTY-User-Key-File-3: ssh-ed25519\nEncryption: none\nComment: eddsa-key\nPublic-Lines: 2\n"
            f"{_pick(rng, BASE64, 64)}\n{_pick(rng, BASE64, 16)}\nPrivate-Lines: 1\n{_pick(rng, BASE64, 44)}\n"
            f"Private-MAC: {_pick(rng, HEX, 64)}"
        )
    if kind == "age":
        return "AGE-SECRET-KEY-1" + _pick(rng, "QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L", 58)
    label = f"{kind}PRIVATE KEY BLOCK" if kind == "PGP " else f"{kind}PRIVATE KEY"
    body = "\n".join(_pick(rng, BASE64, 64) for _ in range(rng.randint(1, 4)))
    return f"-----BEGIN {label}-----\n{body}\n-----END {label}-----"


def _password_value(rng: random.Random) -> str:
    while True:
        value = rng.choice(ALNUM) + _pick(rng, PASSWORD_CHARS, rng.randint(7, 23)) + rng.choice(string.digits)
        lower = value.lower()
        if not any(word in lower for word in ("your", "example", "xxxx", "test", "pass", "secret")):
            return value


def database_url(rng: random.Random) -> str:
    scheme = rng.choice(
        ["postgres", "postgresql", "mysql", "mariadb", "mongodb", "mongodb+srv", "redis", "rediss", "amqp", "mssql"]
    )
    password = random_body(rng, ALNUM, rng.randint(8, 24))
    host = rng.choice(["db.internal", "10.0.3.7", "cluster0.ab1cd.mongodb.net", "cache"])
    port = rng.choice(["", ":5432", ":3306", ":6379"])
    user, db = _pick(rng, string.ascii_lowercase, 6), _pick(rng, string.ascii_lowercase, 5)
    return f"{scheme}://{user}:{password}@{host}{port}/{db}"


def basic_auth_url(rng: random.Random) -> str:
    scheme = rng.choice(["https", "http", "ftp", "sftp"])
    password = random_body(rng, ALNUM, rng.randint(8, 24))
    host = rng.choice(["example.org", "git.corp.local"])
    return f"{scheme}://{_pick(rng, string.ascii_lowercase, 5)}:{password}@{host}/x"


def password(rng: random.Random) -> str:
    value = _password_value(rng)
    key = rng.choice(["password", "PASSWORD", "db_password", "DB_PASSWORD", "passwd", "smtpPassword", "pwd"])
    form = rng.choice(['{k}="{v}"', "{k}='{v}'", '"{k}": "{v}"', "{k} = {v}", "{k}={v}", "--{k}={v}", "export {k}={v}"])
    return form.format(k=key, v=value)


def generic_value(rng: random.Random) -> str:
    return random_body(rng, rng.choice([ALNUM, URLSAFE, BASE64]), rng.randint(20, 48))


def generic_secret(rng: random.Random) -> str:
    value = generic_value(rng)
    key = rng.choice(
        ["api_key", "API_KEY", "apiKey", "client_secret", "CLIENT_SECRET", "auth_token", "secret", "access_token"]
    )
    form = rng.choice(['{k}="{v}"', "{k}='{v}'", '"{k}": "{v}"', "{k} = {v}", "{k}={v}"])
    return form.format(k=key, v=value)


GENERATORS: dict[str, Callable[[random.Random], str]] = {
    "secrets.anthropic_key": anthropic_key,
    "secrets.aws_access_key": aws_access_key,
    "secrets.aws_secret_key": aws_secret_key,
    "secrets.basic_auth_url": basic_auth_url,
    "secrets.database_url": database_url,
    "secrets.generic_secret": generic_secret,
    "secrets.github_token": github_token,
    "secrets.gitlab_token": gitlab_token,
    "secrets.google_api_key": google_api_key,
    "secrets.huggingface_token": huggingface_token,
    "secrets.jwt": jwt,
    "secrets.npm_token": npm_token,
    "secrets.openai_key": openai_key,
    "secrets.password": password,
    "secrets.private_key": private_key,
    "secrets.sendgrid_key": sendgrid_key,
    "secrets.slack_token": slack_token,
    "secrets.slack_webhook": slack_webhook,
    "secrets.stripe_key": stripe_key,
    "secrets.twilio_key": twilio_key,
}
"""By detector id: a function making one credential the detector must find."""


def _strategy(make: Callable[[random.Random], str]) -> SearchStrategy[str]:
    return st.integers(0, 2**32 - 1).map(lambda seed: make(random.Random(seed)))


SAMPLES: dict[str, SearchStrategy[str]] = {detector_id: _strategy(make) for detector_id, make in GENERATORS.items()}


def _repeat(unit: str, n: int) -> str:
    return unit * max(1, n // len(unit))


ADVERSARIAL: dict[str, Callable[[int], str]] = {
    # key words and operators with nothing (or nothing closed) after them
    "secrets_assign": lambda n: _repeat("password=api_key: token=> secret := --pwd ", n),
    "secrets_open_quote": lambda n: _repeat('password = "' + "a" * 300, n),
    "secrets_key_runs": lambda n: _repeat("passwordtokensecretkey", n),
    "secrets_aws_context": lambda n: _repeat("aws secret secret access key = ", n),
    # provider prefixes with bodies one character short, or runs of prefixes
    "secrets_prefixes": lambda n: _repeat(
        "sk-ant-api03-sk-proj-xoxb-1-glpat-AIzaSyhf_npm_SG.sk_live_whsec_SKghp_AKIA2345", n
    ),
    "secrets_jwt": lambda n: _repeat("eyJ" + "a" * 1990 + "." + "b" * 20 + " ", n),
    "secrets_jwt_dots": lambda n: _repeat("eyJhbGciOiJIUzI1NiJ9.", n),
    # URLs that almost carry credentials, PEM headers without bodies
    "secrets_urls": lambda n: _repeat("postgres://user:pass https://a:b ://@", n),
    "secrets_pem": lambda n: _repeat("-----BEGIN RSA PRIVATE KEY----- PuTTY-User-Key-File- ", n),
    "secrets_base64": lambda n: _repeat(_pick(random.Random(7), BASE64, 997) + " ", n),
}
"""By name: an adversarial text of about ``n`` characters for the linear-time property."""
