"""Credential detectors (``secrets.*``): tables per detector, look-alikes, Unicode tricks, guards.

Each table row is a text and the exact substrings of it the detector must report (through
the finding offsets, so rows with invisible or fullwidth characters also prove that offsets
point into the caller's text). Near misses and look-alikes expect nothing. A seeded corpus of
generated credentials and look-alikes checks recall and precision per detector.
"""

from __future__ import annotations

import random
import string
from collections.abc import Callable

import pytest

import aispm
from aispm import Action
from aispm.detectors import BUILTIN, ScanText, build
from aispm.detectors.secrets import DETECTORS, MIN_ENTROPY, shannon_entropy

from .strategies import secrets as gen

SECRET_IDS = sorted(DETECTORS)
THRESHOLD = 0.6  # the balanced policy level

ZWSP = "\u200b"
GHP = "ghp_" + "aB3dE5gH7jK9mN1pQ3sT5vW7yZ9bC1dE3fG5"
AWS_SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzq81Lk3Pzx"  # 40 characters, not AWS's documented example
SHA1 = "3f786850e387550fdab836ed7e6dc881de23001b"
SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
UUID = "550e8400-e29b-41d4-a716-446655440000"
TOKEN = "a8Fk2LmQ9zX4vB7nR1tYq3Wc"  # a random-looking 24-character value
JWT = (
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ"
    ".SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c"
)
ANTHROPIC = "sk-ant-api03-" + "Xy7_kP2-qR9sT4uV" * 5 + "abcdefghijklm" + "AA"
OPENAI_PROJECT = "sk-proj-" + "Ab3_De6-Gh9Jk2Mn5Pq8" * 4 + "T3BlbkFJ" + "Rs1Tu4Vw7Xy0Za3Bc6De" * 4
OPENAI_LEGACY = "sk-" + "Ab3De6Gh9Jk2Mn5Pq8Rs" + "T3BlbkFJ" + "Tu4Vw7Xy0Za3Bc6De9Fg"


def fullwidth(text: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text)


def matches(detector_id: str, text: str, threshold: float = 0.0) -> list[str]:
    """What one detector reports in ``text`` (confidence >= ``threshold``), as substrings."""
    out = []
    for f in build(detector_id).detect(ScanText(text)):
        assert f.detector == detector_id
        assert f.category == "secret"
        assert f.start is not None
        assert f.end is not None
        assert 0 <= f.start < f.end <= len(text)
        assert f.confidence is not None
        assert 0.0 <= f.confidence <= 1.0
        assert {"OWASP-LLM02:2025", "AML.T0057", "AML.T0055"} <= set(f.mappings)
        if f.confidence >= threshold:
            out.append(text[f.start : f.end])
    return out


def reported(text: str) -> list[tuple[str, str]]:
    """Every secrets finding at the balanced level: (detector id, substring)."""
    scan = ScanText(text)
    return [
        (d, text[f.start : f.end])
        for d in SECRET_IDS
        for f in build(d).detect(scan)
        if f.start is not None and f.end is not None and (f.confidence or 0.0) >= THRESHOLD
    ]


TABLES: dict[str, list[tuple[str, list[str]]]] = {
    "secrets.aws_access_key": [
        (fullwidth("AKIAIOSFODNN7EXAMPLE"), [fullwidth("AKIAIOSFODNN7EXAMPLE")]),
        (f"key AKIA{ZWSP}IOSFODNN7EXAMPLE.", [f"AKIA{ZWSP}IOSFODNN7EXAMPLE"]),
        ("AKIAXXXXXXXXXXXXXXXX", []),  # a placeholder in documentation
        ("AKIA2345234523452345", []),
    ],
    "secrets.aws_secret_key": [
        (f"aws_secret_access_key = {AWS_SECRET}", [AWS_SECRET]),
        (f"AWS_SECRET_ACCESS_KEY={AWS_SECRET}\n", [AWS_SECRET]),
        (f'{{"SecretAccessKey": "{AWS_SECRET}"}}', [AWS_SECRET]),
        (f"aws_secret_key: '{AWS_SECRET}'", [AWS_SECRET]),
        (f"Your AWS secret access key is {AWS_SECRET}.", [AWS_SECRET]),
        (f"Access key ID,Secret access key\nAKIAIOSFODNN7EXAMPLE,{AWS_SECRET}\n", [AWS_SECRET]),
        # AWS's documented example is reported: a guard cannot tell it from a real key
        (
            "aws_secret_access_key=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
            ["wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"],
        ),
        # near misses: no AWS context, wrong length, hex digests, references
        (AWS_SECRET, []),
        (f"secret = {AWS_SECRET}", []),
        (f"aws_secret_access_key = {AWS_SECRET[:39]}", []),
        (f"aws_secret_access_key = {AWS_SECRET}x", []),
        (f"aws_secret_access_key = {SHA1}", []),
        (f"AKIAIOSFODNN7EXAMPLE {SHA1}", []),
        ("aws_secret_access_key = ${AWS_SECRET_ACCESS_KEY}", []),
    ],
    "secrets.github_token": [
        (fullwidth(GHP), [fullwidth(GHP)]),
        (f"token: {GHP[:10]}{ZWSP}{GHP[10:]}", [f"{GHP[:10]}{ZWSP}{GHP[10:]}"]),
        ("ghp_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", []),
    ],
    "secrets.gitlab_token": [
        ("token glpat-Ab3De6Gh9Jk2Mn5Pq8Rs done", ["glpat-Ab3De6Gh9Jk2Mn5Pq8Rs"]),
        ("gldt-x7Y_k2M9pQ4r-T1sV8wZ", ["gldt-x7Y_k2M9pQ4r-T1sV8wZ"]),
        ("glrt-t1_Ab3De6Gh9Jk2Mn5Pq8Rs7Tu0Vw3Xy.01a2b3c4d", ["glrt-t1_Ab3De6Gh9Jk2Mn5Pq8Rs7Tu0Vw3Xy.01a2b3c4d"]),
        ("glptt-" + SHA1, ["glptt-" + SHA1]),
        ("glpat-Ab3De6Gh9Jk2Mn5Pq8R", []),  # 19 characters
        ("xglpat-Ab3De6Gh9Jk2Mn5Pq8Rs", []),
        ("glpat-xxxxxxxxxxxxxxxxxxxx", []),
        ("the glpat- prefix", []),
    ],
    "secrets.slack_token": [
        (
            "SLACK_BOT_TOKEN=xoxb-123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx",
            ["xoxb-123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx"],
        ),
        (
            "xoxp-123456789012-123456789012-1234567890123-0123456789abcdef0123456789abcdef",
            ["xoxp-123456789012-123456789012-1234567890123-0123456789abcdef0123456789abcdef"],
        ),
        ("xoxe.xoxp-1-Mi0yLTEyMzQ1Njc4OTAxMi0xMjM0", ["xoxe.xoxp-1-Mi0yLTEyMzQ1Njc4OTAxMi0xMjM0"]),
        ("xapp-1-A01BCDEFGHJ-1234567890123-" + "0a1b2c3d" * 8, ["xapp-1-A01BCDEFGHJ-1234567890123-" + "0a1b2c3d" * 8]),
        ("xoxb-not-a-token", []),
        ("the xoxb- prefix", []),
        ("xoxb-1-xxxxxxxxxxxx", []),
    ],
    "secrets.slack_webhook": [
        (
            "post to https://hooks.slack.com/services/T0123ABCD/B0456EFGH/AbCdEfGhIjKlMnOpQrStUvWx now",
            ["https://hooks.slack.com/services/T0123ABCD/B0456EFGH/AbCdEfGhIjKlMnOpQrStUvWx"],
        ),
        ("https://hooks.slack.com/services/", []),
        ("https://hooks.slack.com/services/T0123ABCD/B0456EFGH/short", []),
        ("https://api.slack.com/messaging/webhooks", []),
    ],
    "secrets.stripe_key": [
        ("STRIPE_KEY=sk_live_4eC39HqLyjWDarjtT1zdp7dc", ["sk_live_4eC39HqLyjWDarjtT1zdp7dc"]),
        ("rk_live_51H8x2Ab3De6Gh9Jk2Mn5Pq8Rs", ["rk_live_51H8x2Ab3De6Gh9Jk2Mn5Pq8Rs"]),
        ("whsec_" + "Ab3De6Gh9Jk2Mn5Pq8Rs1Tu4Vw7Xy0Za", ["whsec_" + "Ab3De6Gh9Jk2Mn5Pq8Rs1Tu4Vw7Xy0Za"]),
        ("sk_test_4eC39HqLyjWDarjtT1zdp7dc", ["sk_test_4eC39HqLyjWDarjtT1zdp7dc"]),  # at 0.8, see below
        ("pk_live_4eC39HqLyjWDarjtT1zdp7dc", []),  # publishable: meant to be public
        ("sk_live_4eC39Hq", []),
        ("task_live_4eC39HqLyjWDarjtT1zdp7dc", []),
    ],
    "secrets.google_api_key": [
        ("key=AIzaSyD-9tSrke72PouQMnMX-a7eZSW0jkFMBWY&q=x", ["AIzaSyD-9tSrke72PouQMnMX-a7eZSW0jkFMBWY"]),
        ("AIzaSyD-9tSrke72PouQMnMX-a7eZSW0jkFMBW", []),  # 34 after the prefix
        ("AIzaSyD-9tSrke72PouQMnMX-a7eZSW0jkFMBWYZ", []),  # 36
        ("AIzaSyXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX", []),
    ],
    "secrets.openai_key": [
        (f"OPENAI_API_KEY={OPENAI_PROJECT}", [OPENAI_PROJECT]),
        (f"key: {OPENAI_LEGACY}.", [OPENAI_LEGACY]),
        ("sk-svcacct-" + "Ab3_De6-Gh9Jk2Mn5Pq8" * 3, ["sk-svcacct-" + "Ab3_De6-Gh9Jk2Mn5Pq8" * 3]),
        ("sk-proj-short", []),
        ("sk-" + "Ab3De6Gh9Jk2Mn5Pq8Rs" * 2 + "Tu4Vw7Xy", []),  # no T3BlbkFJ: too generic (documented gap)
        ("task-proj-" + "Ab3_De6-Gh9Jk2Mn5Pq8" * 3, []),
    ],
    "secrets.anthropic_key": [
        (f"ANTHROPIC_API_KEY={ANTHROPIC}", [ANTHROPIC]),
        (ANTHROPIC.replace("api03", "admin01"), [ANTHROPIC.replace("api03", "admin01")]),
        ("sk-ant-api03-short", []),
        ("sk-ant-api03-" + "x" * 95, []),
    ],
    "secrets.huggingface_token": [
        ("HF_TOKEN=hf_AbCdEfGhIjKlMnOpQrStUvWxYzAbCdEfGh", ["hf_AbCdEfGhIjKlMnOpQrStUvWxYzAbCdEfGh"]),
        ("api_org_AbCdEfGhIjKlMnOpQrStUvWxYzAbCdEfGh", ["api_org_AbCdEfGhIjKlMnOpQrStUvWxYzAbCdEfGh"]),
        ("hf_AbCdEfGhIjKlMnOpQrStUvWxYzAbCdEfG", []),  # 33
        ("from huggingface_hub import hf_hub_download", []),
    ],
    "secrets.npm_token": [
        (
            "//registry.npmjs.org/:_authToken=npm_Ab3De6Gh9Jk2Mn5Pq8Rs1Tu4Vw7Xy0Za3Bc6",
            ["npm_Ab3De6Gh9Jk2Mn5Pq8Rs1Tu4Vw7Xy0Za3Bc6"],
        ),
        ("npm_config_cache=/tmp/npm", []),
        ("npm_Ab3De6Gh9Jk2Mn5Pq8Rs1Tu4Vw7Xy0Za3B", []),  # 35
    ],
    "secrets.sendgrid_key": [
        (
            "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",
            ["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"],
        ),
        ("SG.foo.bar", []),
        ("SSG.Ab3De6Gh9Jk2Mn5Pq8Rs1T.Ab3De6Gh9Jk2Mn5Pq8Rs1Tu4Vw7Xy0Za3Bc6De9Fg2H", []),
    ],
    "secrets.twilio_key": [
        ("TWILIO_API_KEY=SK0123456789abcdef0123456789abcdef", ["SK0123456789abcdef0123456789abcdef"]),
        ("SK0123456789ABCDEF0123456789ABCDEF", []),
        ("ASK0123456789abcdef0123456789abcdef", []),
        ("SK0123456789abcdef0123456789abcde", []),
    ],
    "secrets.jwt": [
        (f"Authorization: Bearer {JWT}", [JWT]),
        (f"token={JWT}.", [JWT]),
        ("eyJhbGciOiJub25lIn0.eyJzdWIiOiIxMjM0In0.", ["eyJhbGciOiJub25lIn0.eyJzdWIiOiIxMjM0In0."]),  # alg none
        (JWT.split(".")[0], []),  # a header alone
        ("eyJzdWIiOiIxMjM0NTY3ODkwIn0.eyJzdWIiOiIxMjM0In0.sig", []),  # no "alg" in the header
        ("eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9x.eyJzdWIiOiIxMjM0In0.sig", []),  # header not base64 JSON
        ("xeyJhbGciOiJub25lIn0.eyJzdWIiOiIxMjM0In0.", []),
    ],
    "secrets.private_key": [
        (
            "---- BEGIN SSH2 ENCRYPTED PRIVATE KEY ----\nP2/56wAAA\n---- END SSH2 ENCRYPTED PRIVATE KEY ----\nok",
            ["---- BEGIN SSH2 ENCRYPTED PRIVATE KEY ----\nP2/56wAAA\n---- END SSH2 ENCRYPTED PRIVATE KEY ----"],
        ),
        (
            "PuTTY-User-Key-File-3: ssh-ed25519\nEncryption: none\nPrivate-Lines: 1\nAAAAIFMp\nPrivate-MAC: 0a1b\nbye",
            ["PuTTY-User-Key-File-3: ssh-ed25519\nEncryption: none\nPrivate-Lines: 1\nAAAAIFMp\nPrivate-MAC: 0a1b"],
        ),
        ("PuTTY-User-Key-File-2: ssh-rsa\nPrivate-Lines: 1", ["PuTTY-User-Key-File-2: ssh-rsa\nPrivate-Lines: 1"]),
        (
            "AGE-SECRET-KEY-1" + "QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L" + "Q" * 26,
            ["AGE-SECRET-KEY-1" + "QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L" + "Q" * 26],
        ),
        (
            f"-----BEGIN RSA PRIVATE{ZWSP} KEY-----\nMIIE\n-----END RSA PRIVATE KEY-----",
            [f"-----BEGIN RSA PRIVATE{ZWSP} KEY-----\nMIIE\n-----END RSA PRIVATE KEY-----"],
        ),
        ("AGE-SECRET-KEY-1QPZRY", []),
        ("Save it as key.ppk (PuTTY private key format).", []),
    ],
    "secrets.database_url": [
        (
            "DATABASE_URL=postgres://app:s3cretPw9@db.internal:5432/prod",
            ["postgres://app:s3cretPw9@db.internal:5432/prod"],
        ),
        ("see postgresql+psycopg2://app:Xy7k2Lq@10.0.0.5/app.", ["postgresql+psycopg2://app:Xy7k2Lq@10.0.0.5/app"]),
        (
            "mongodb+srv://admin:Qw3rTy9z@cluster0.ab1cd.mongodb.net/?retryWrites=true",
            ["mongodb+srv://admin:Qw3rTy9z@cluster0.ab1cd.mongodb.net/?retryWrites=true"],
        ),
        ("jdbc:mysql://root:R00tPw7@db:3306/shop", ["mysql://root:R00tPw7@db:3306/shop"]),
        ("REDIS_URL=rediss://:hunter2x@cache:6380/0", ["rediss://:hunter2x@cache:6380/0"]),
        (f"(amqp://guest:Gu3st{ZWSP}Pw@mq:5672)", [f"amqp://guest:Gu3st{ZWSP}Pw@mq:5672"]),
        # placeholders, no password, no user info
        ("postgres://user:password@localhost:5432/db", []),
        ("postgres://${DB_USER}:${DB_PASSWORD}@db/app", []),
        ("postgres://app:<password>@db/app", []),
        ("postgres://app:****@db/app", []),
        ("postgres://localhost:5432/db", []),
        ("mysql://root@localhost/shop", []),
    ],
    "secrets.basic_auth_url": [
        ("git clone https://bob:Xy9k2Lq7@git.corp.local/repo.git", ["https://bob:Xy9k2Lq7@git.corp.local/repo.git"]),
        ("ftp://anon:Pw7xK2q@files.example.org/pub", ["ftp://anon:Pw7xK2q@files.example.org/pub"]),
        (f"https://x-access-token:{GHP}@github.com/o/r", [f"https://x-access-token:{GHP}@github.com/o/r"]),
        ("https://user@example.com/repo.git", []),
        ("https://example.com:8443/path?x=1", []),
        ("https://user:<password>@example.com", []),
        ("https://user:pass@example.com", []),
        ("postgres://app:s3cretPw9@db/prod", []),  # a database URL, named by its own detector
    ],
    "secrets.password": [
        ('password = "Hunter2!x"', ["Hunter2!x"]),
        ("PASSWORD=S3cr3t!pw", ["S3cr3t!pw"]),
        ("export DB_PASSWORD='abc123XYZ'", ["abc123XYZ"]),
        ("db:\n  password: p4ssW0rd\n  user: app\n", ["p4ssW0rd"]),
        ('{"user": "app", "password": "Tr0ub4dor&3"}', ["Tr0ub4dor&3"]),
        ("mysql --user=root --password Tr1cky9 shop", ["Tr1cky9"]),
        ("run --db-password=Tr1cky9 now", ["Tr1cky9"]),
        ("Server=db;User Id=sa;Password=Pa55w0rd!;", ["Pa55w0rd!"]),
        ("https://api.example.com/login?user=bob&pwd=Zx81kq&x=1", ["Zx81kq"]),
        ("<password>Hunter22</password>", ["Hunter22"]),
        ("$settings['password'] = 'Pw9k2Lq';", ["Pw9k2Lq"]),
        ("smtpPassword: 'Mx9Lq2'", ["Mx9Lq2"]),
        # after a PEM armour line: "-----" is no flag, and must not swallow the assignment
        ('-----END PGP PRIVATE KEY BLOCK-----  smtpPassword="21fH^!ZM9"', ["21fH^!ZM9"]),
        ("PGPASSWORD=Pg7xw2 psql", ["Pg7xw2"]),
        ("passphrase = 'correct horse battery staple'", ["correct horse battery staple"]),
        ("password = user_input", ["user_input"]),  # at 0.5: reads like code, see below
        # Unicode: fullwidth, leetspeak and Cyrillic look-alikes in the key
        (fullwidth("PASSWORD=Hunter2x"), [fullwidth("Hunter2x")]),
        ("p4ssw0rd=Hunter2x", ["Hunter2x"]),
        ("p\u0430ssword=Hunter2x", ["Hunter2x"]),
        # placeholders and references
        ('password = "changeme"', []),
        ("password: <password>", []),
        ("password: <your-password>", []),
        ("password = ${DB_PASSWORD}", []),
        ("password = $DB_PASSWORD", []),
        ("password: '{{ vault_db_password }}'", []),
        ("password: ${{ secrets.DB_PASSWORD }}", []),
        ('password = os.environ["DB_PASSWORD"]', []),
        ("password = os.getenv('DB_PASSWORD')", []),
        ("const password = process.env.DB_PASSWORD;", []),
        ("password=****", []),
        ("password: xxx", []),
        ("password: null", []),
        ("password = None", []),
        ('password = ""', []),
        ("password = [REDACTED:PASSWORD]", []),
        ("password: !vault |", []),
        ("password = settings.db_password", []),
        ("password = getpass()", []),
        ('password = request.form["password"]', []),
        # code and prose that is not an assignment
        ("if password == confirm:", []),
        ("def check_password(password: str) -> bool:", []),
        ("password_hash = bcrypt.hashpw(pw, salt)", []),
        ("PASSWORD_MIN_LENGTH = 12", []),
        # a password stated in prose: a token that is not a word, a number or a placeholder
        ("The password is hunter2", ["hunter2"]),
        ("The admin password is Xk9#pq2!, please change it.", ["Xk9#pq2!"]),
        ("Login: bob / password: Tr0ub4dor&3, then press enter", ["Tr0ub4dor&3"]),
        ("The password is incorrect.", []),
        ("Your password is case-sensitive.", []),
        ("The password is 8 characters long", []),
        ("The password was reset on 2024-01-05", []),
        ("Password: see https://wiki.example.com/passwords", []),
        ("Enter your password: ********", []),
        ("Passwords must contain 1 digit and 1 symbol", []),
        ("Password: see the team vault for the current one", []),
        ("Forgot your password? Reset it here.", []),
        ("bypass = True", []),
        ("postgres://user:password@localhost:5432/db", []),  # "@" is not part of a key
        ("passport: X1234567", []),
    ],
    "secrets.generic_secret": [
        (f'api_key = "{TOKEN}"', [TOKEN]),
        (f"CLIENT_SECRET={TOKEN}", [TOKEN]),
        (f'{{"auth_token": "{TOKEN}"}}', [TOKEN]),
        (f"apiKey: '{TOKEN}'", [TOKEN]),
        (f"SECRET_KEY = '{TOKEN}'", [TOKEN]),
        (f'"Authorization": "Bearer {TOKEN}"', [TOKEN]),
        (f"access_token={TOKEN}&expires_in=3600", [TOKEN]),
        (f"token: {TOKEN}\n", [TOKEN]),
        ('secret = "/W3OG0Poe8myNA8Coa/HtBUt5Du46UB"', ["/W3OG0Poe8myNA8Coa/HtBUt5Du46UB"]),
        (fullwidth(f"API_KEY={TOKEN}"), [fullwidth(TOKEN)]),
        # look-alikes: hash-shaped values count only at strict level (0.5), see below
        (f"token: {UUID}", [UUID]),
        (f"secret = {SHA1}", [SHA1]),
        # look-alikes that are never reported
        ('api_key = "short1A"', []),
        ("api_key = aaaaaaaaaaaaaaaaaaaaaaaa", []),
        ('version = "1.24.3-beta.1"', []),
        ("token_version: 2", []),
        ("secret_path: secret/data/app", []),
        ("private_key: ./keys/id_rsa.pem", []),
        ("key_file = /etc/ssl/private/server.key", []),
        ("auth_url = https://auth.example.com/oauth/token", []),
        ("token_type: bearer", []),
        ("secret_name: my-app-production-secret", []),
        ("api_key: MyApplicationApiKeyName", []),
        ("auth_code = 4000123412341234", []),  # numbers: order, tracking, Luhn-invalid
        ("secret_created: 2024-05-01T10:00:00Z", []),
        ("api_key_hash = " + SHA256, []),
        ("max_tokens = 4096", []),
        ("tokenizer = AutoTokenizer.from_pretrained(name)", []),
        ("self.api_key = api_key", []),
        ("primary_key = 'a8Fk2LmQ9zX4vB7nR1tYq3Wc'", []),
        ('api_key = "YOUR_API_KEY_HERE_1234567"', []),
        (f"api_key = {GHP}", []),  # a provider token is named by its own detector
        ("Rotate the key: it is the most important step.", []),
    ],
}


CASES = [(detector_id, text, expected) for detector_id, rows in TABLES.items() for text, expected in rows]


@pytest.mark.parametrize(("detector_id", "text", "expected"), CASES)
def test_table(detector_id: str, text: str, expected: list[str]) -> None:
    assert matches(detector_id, text) == expected


def _fullwidth(text: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text)


GITHUB_PAT = "github_pat_" + ("Ab1_cD2_eF3_" * 7)[:82]  # no 20 characters in a row without "_"
WHSEC = "whsec_" + "Ab+/Cd9/" * 4  # "+" and "/" from the first character on
TWILIO = "SK" + "0123456789abcdef" * 2


@pytest.mark.parametrize(
    ("detector_id", "text", "expected"),
    [
        # The cheap checks that run before a pattern (characters every match holds, a run of the
        # family's alphabet after "_" or "-") must hold for every shape the patterns accept.
        ("secrets.github_token", f"export GH={GITHUB_PAT}", [GITHUB_PAT]),
        ("secrets.stripe_key", f"secret: {WHSEC}", [WHSEC]),
        ("secrets.openai_key", f"key {OPENAI_LEGACY}.", [OPENAI_LEGACY]),
        ("secrets.twilio_key", f"sid {_fullwidth('SK')}{TWILIO[2:]} ok", [_fullwidth("SK") + TWILIO[2:]]),
        ("secrets.twilio_key", f"sid {TWILIO[:1]}{ZWSP}{TWILIO[1:]} ok", [TWILIO[:1] + ZWSP + TWILIO[1:]]),
        ("secrets.jwt", f"Bearer {JWT[:2]}{ZWSP}{JWT[2:]}", [JWT[:2] + ZWSP + JWT[2:]]),
        (
            "secrets.google_api_key",
            f"k={_fullwidth('AIza')}{'Xy7_kP2-qR9sT4uV' * 2}abc",
            [_fullwidth("AIza") + "Xy7_kP2-qR9sT4uV" * 2 + "abc"],
        ),
        (
            "secrets.private_key",
            f"-----BEGIN PRIVATE {_fullwidth('KEY')}-----\nMIIE\n-----END PRIVATE KEY-----",
            [f"-----BEGIN PRIVATE {_fullwidth('KEY')}-----\nMIIE\n-----END PRIVATE KEY-----"],
        ),
        ("secrets.twilio_key", "SK in prose, 0123456789abcdef0123456789abcdef elsewhere", []),
    ],
)
def test_prefilters_never_hide_a_match(detector_id: str, text: str, expected: list[str]) -> None:
    assert matches(detector_id, text) == expected


def test_tables_cover_every_secrets_detector() -> None:
    assert set(TABLES) == set(DETECTORS)
    assert set(DETECTORS) <= set(BUILTIN)
    assert set(gen.SAMPLES) == set(DETECTORS)
    assert all(name.startswith("secrets_") for name in gen.ADVERSARIAL)


@pytest.mark.parametrize(
    ("detector_id", "text", "confidence"),
    [
        ("secrets.stripe_key", "sk_test_4eC39HqLyjWDarjtT1zdp7dc", 0.8),
        ("secrets.stripe_key", "sk_live_4eC39HqLyjWDarjtT1zdp7dc", 0.95),
        ("secrets.openai_key", OPENAI_LEGACY, 0.99),
        ("secrets.password", "password = user_input", 0.5),
        ("secrets.password", "password = user_input2", 0.9),
        ("secrets.password", 'password = "user_input"', 0.9),
        ("secrets.password", "DB_PASSWORD=letmein", 0.9),
        ("secrets.password", "password: letmein\n", 0.9),
        ("secrets.generic_secret", f"token: {UUID}", 0.5),
        ("secrets.generic_secret", f"secret = {SHA256}", 0.5),
        ("secrets.generic_secret", f"secret = {TOKEN}", 0.85),
        ("secrets.private_key", "-----BEGIN EC PRIVATE KEY-----\nMHc", 0.9),
    ],
)
def test_confidence(detector_id: str, text: str, confidence: float) -> None:
    [finding] = build(detector_id).detect(ScanText(text))
    assert finding.confidence == confidence


def test_entropy() -> None:
    assert shannon_entropy("") == 0.0
    assert shannon_entropy("aaaa") == 0.0
    assert shannon_entropy("abcd") == 2.0
    assert shannon_entropy("abababababababab") == 1.0
    assert shannon_entropy(TOKEN) > MIN_ENTROPY


# --- guards ---------------------------------------------------------------------------------------

CONFIG = f"""\
# deploy settings
DATABASE_URL=postgres://app:s3cretPw9@db.internal:5432/prod
AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE
AWS_SECRET_ACCESS_KEY={AWS_SECRET}
STRIPE_KEY=sk_live_4eC39HqLyjWDarjtT1zdp7dc
ADMIN_PASSWORD="Hunter2!x"
API_KEY={TOKEN}
SESSION_TOKEN={JWT}
DEBUG=false
VERSION=1.24.3
"""

REDACTED_CONFIG = """\
# deploy settings
DATABASE_URL=[REDACTED:DATABASE_URL]
AWS_ACCESS_KEY_ID=[REDACTED:AWS_ACCESS_KEY]
AWS_SECRET_ACCESS_KEY=[REDACTED:AWS_SECRET_KEY]
STRIPE_KEY=[REDACTED:STRIPE_KEY]
ADMIN_PASSWORD="[REDACTED:PASSWORD]"
API_KEY=[REDACTED:GENERIC_SECRET]
SESSION_TOKEN=[REDACTED:JWT]
DEBUG=false
VERSION=1.24.3
"""


@pytest.fixture(scope="module")
def guard() -> aispm.Guard:
    return aispm.Guard({"output": {"detectors": SECRET_IDS}})


def test_guard_redacts_values_and_keeps_keys(guard: aispm.Guard) -> None:
    decision = guard.output.scan(CONFIG)
    assert decision.action is Action.REDACT
    assert decision.text == REDACTED_CONFIG
    assert sorted(set(decision.rule_ids)) == sorted(
        {
            "secrets.aws_access_key",
            "secrets.aws_secret_key",
            "secrets.database_url",
            "secrets.generic_secret",
            "secrets.jwt",
            "secrets.password",
            "secrets.stripe_key",
        }
    )
    # idempotent: placeholders are not secrets
    again = guard.output.scan(decision.text)
    assert again.action is Action.ALLOW
    assert again.findings == ()


def test_partial_redaction_keeps_prefixes() -> None:
    guard = aispm.Guard({"output": {"detectors": SECRET_IDS, "redaction": {"mode": "partial"}}})
    text = "use sk_live_4eC39HqLyjWDarjtT1zdp7dc or postgres://app:s3cretPw9@db/prod"
    assert guard.output.scan(text).text == "use sk_live_**** or postgres://****"


def test_strict_level_reports_hash_shaped_values() -> None:
    text = f"token: {UUID}"
    balanced = aispm.Guard({"output": {"detectors": SECRET_IDS}})
    strict = aispm.Guard({"output": {"detectors": SECRET_IDS, "level": "strict"}})
    assert balanced.output.scan(text).action is Action.ALLOW
    assert strict.output.scan(text).text == "token: [REDACTED:GENERIC_SECRET]"


def test_guard_finds_secrets_hidden_in_base64(guard: aispm.Guard) -> None:
    import base64

    hidden = base64.b64encode(f"here: {GHP}".encode()).decode()
    decision = guard.output.scan(f"blob {hidden} end")
    assert "secrets.github_token" in decision.rule_ids
    assert hidden not in decision.text


@pytest.mark.parametrize("detector_id", SECRET_IDS)
def test_generated_samples_are_redacted(guard: aispm.Guard, detector_id: str) -> None:
    make = gen.GENERATORS[detector_id]
    for seed in range(25):
        value = make(random.Random(seed))
        text = f"Here you go:\n{value}\nAnything else?"
        decision = guard.output.scan(text)
        assert detector_id in decision.rule_ids, value
        assert value not in decision.text
        assert decision.text.startswith("Here you go:\n")
        assert decision.text.endswith("\nAnything else?")


@pytest.mark.parametrize("detector_id", SECRET_IDS)
def test_streamed_output_matches_one_shot_redaction(guard: aispm.Guard, detector_id: str) -> None:
    # long credentials (JWTs, OpenAI project keys, PEM blocks) outgrow the stream's holdback
    for seed in range(4):
        value = gen.GENERATORS[detector_id](random.Random(seed))
        text = "x " * 80 + value + "\nAnything else?"
        one_shot = guard.output.scan(text).text
        for size in (1, 13):
            streamed = "".join(guard.output.scan_stream([text[i : i + size] for i in range(0, len(text), size)]))
            assert streamed == one_shot
            assert value not in streamed


# --- recall and precision on generated credentials and look-alikes -------------------------------


def _hex(rng: random.Random, n: int) -> str:
    return "".join(rng.choice(gen.HEX) for _ in range(n))


def _uuid(rng: random.Random) -> str:
    h = _hex(rng, 32)
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def _digits(rng: random.Random, n: int) -> str:
    return "".join(rng.choice(string.digits) for _ in range(n))


LOOK_ALIKES: list[Callable[[random.Random], str]] = [
    lambda r: f"commit {_hex(r, 40)}",
    lambda r: f"GITHUB_SHA={_hex(r, 40)}",
    lambda r: f"request_id = {_uuid(r)}",
    lambda r: f"token: {_uuid(r)}",  # 0.5: below the balanced level
    lambda r: f"trace {_uuid(r)} done",
    lambda r: f"sha256:{_hex(r, 64)}",
    lambda r: f'"digest": "sha256:{_hex(r, 64)}"',
    lambda r: f"checksum = {_hex(r, 64)}",
    lambda r: f"secret_hash = {_hex(r, 32)}",
    lambda r: f'<img src="data:image/png;base64,{gen._pick(r, gen.BASE64, 400)}=">',
    lambda r: f'version = "{r.randint(0, 9)}.{r.randint(0, 40)}.{r.randint(0, 99)}"',
    lambda r: f"Order #{_digits(r, 3)}-{_digits(r, 7)}-{_digits(r, 7)}",
    lambda r: f"tracking: 1Z{gen._pick(r, string.ascii_uppercase + string.digits, 16)}",
    lambda r: f"card {_digits(r, 16)}",
    lambda r: f"token_expiry = 2024-0{r.randint(1, 9)}-1{r.randint(0, 9)}T10:00:00Z",
    lambda r: f"key_file = /etc/ssl/private/{gen._pick(r, string.ascii_lowercase, 6)}.key",
    lambda r: f"auth_url = https://auth.{gen._pick(r, string.ascii_lowercase, 6)}.com/oauth/token",
    lambda r: f"https://{gen._pick(r, string.ascii_lowercase, 5)}@example.com/repo.git",
    lambda r: f"secret_name: {gen._pick(r, string.ascii_lowercase, 5)}-app-secret",
    lambda r: "token_type: bearer",
    lambda r: f"password: <{r.choice(['password', 'your-password', 'db_password'])}>",
    lambda r: f"password = ${{{r.choice(['DB_PASSWORD', 'PW', 'SECRET'])}}}",
    lambda r: f"password: '{{{{ {gen._pick(r, string.ascii_lowercase, 6)} }}}}'",
    lambda r: 'password = os.environ["DB_PASSWORD"]',
    lambda r: "postgres://user:password@localhost:5432/db",
    lambda r: f"api_key = YOUR_API_KEY_{_digits(r, 4)}",
    lambda r: "AKIAXXXXXXXXXXXXXXXX",
    lambda r: "ghp_" + "x" * 36,
    lambda r: f"pk_live_{gen.random_body(r, gen.ALNUM, 24)}",
    lambda r: f"max_tokens = {r.randint(1, 9000)}",
    lambda r: "self.api_key = api_key",
    lambda r: "def check_password(password: str) -> bool:",
    lambda r: f"#{_hex(r, 6)}",
    lambda r: f"eyJ{gen._pick(r, gen.ALNUM, 30)}.{gen._pick(r, gen.ALNUM, 30)}.{gen._pick(r, gen.ALNUM, 20)}",
    lambda r: f"SK{_hex(r, 32).upper()}",
    lambda r: "The password must be at least 12 characters and the API key rotates monthly.",
    lambda r: f"-----BEGIN PUBLIC KEY-----\n{gen._pick(r, gen.BASE64, 64)}\n-----END PUBLIC KEY-----",
]

FILLER = "Sure, here is what you asked for.\n{}\nLet me know if you need anything else."


def test_recall_and_precision_on_generated_data() -> None:
    rng = random.Random(2024)
    found_right = 0
    found_wrong = 0
    for detector_id, make in gen.GENERATORS.items():
        hits = 0
        for _ in range(60):
            value = make(rng)
            text = FILLER.format(value)
            findings = reported(text)
            if any(d == detector_id for d, _ in findings):
                hits += 1
            for _, span in findings:
                # a finding is right when it lies within the planted credential
                if span in value:
                    found_right += 1
                else:
                    found_wrong += 1
        assert hits / 60 >= 0.98, f"{detector_id}: recall {hits / 60:.2f}"
    for make_negative in LOOK_ALIKES:
        for _ in range(10):
            text = FILLER.format(make_negative(rng))
            found_wrong += len(reported(text))
    precision = found_right / (found_right + found_wrong)
    assert precision >= 0.97, f"precision {precision:.3f}"
