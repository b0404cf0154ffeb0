"""Seeded generator of labelled PII and secrets in realistic sentences, with look-alike negatives.

Each positive sample holds exactly one labelled value (its span and type) in one or two
sentences, sometimes next to a look-alike that must not be reported (a UUID, a git SHA, an
order number ...). Negative samples hold only look-alikes. Secrets are syntactically valid
but random (generated here, never real); card numbers pass Luhn, IBANs their mod-97 check,
routing numbers their ABA checksum, SSNs and NINOs the issuing rules.
"""

from __future__ import annotations

import base64
import hashlib
import json
import random
import string
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

from faker import Faker

TYPES = (
    "email",
    "phone",
    "credit_card",
    "us_ssn",
    "iban",
    "ip_address",
    "uk_nino",
    "aba_routing",
    "aws_access_key",
    "aws_secret_key",
    "github_token",
    "gitlab_token",
    "slack_token",
    "stripe_key",
    "google_api_key",
    "openai_key",
    "anthropic_key",
    "huggingface_token",
    "jwt",
    "private_key",
    "database_url",
    "password",
)
PII_TYPES = frozenset(TYPES[:8])

ALNUM = string.ascii_letters + string.digits
B32 = string.ascii_uppercase + "234567"


@dataclass(frozen=True, slots=True)
class Span:
    start: int
    end: int
    type: str


@dataclass(slots=True)
class LabelledText:
    """A text with its labelled values (empty for a look-alike-only negative)."""

    text: str
    spans: list[Span] = field(default_factory=list)
    lookalikes: list[str] = field(default_factory=list)


class Generator:
    """Seeded source of values, look-alikes and the sentences around them."""

    def __init__(self, seed: int = 1234) -> None:
        self.rng = random.Random(seed)  # noqa: S311 - reproducible test data, not security
        Faker.seed(seed)
        self.fake = Faker(["en_US", "en_GB", "de_DE", "fr_FR", "nl_NL", "es_ES"])
        self.us = self.fake["en_US"]

    # ------------------------------------------------------------ helpers

    def _s(self, alphabet: str, n: int) -> str:
        return "".join(self.rng.choice(alphabet) for _ in range(n))

    def _pick(self, items: list[str] | tuple[str, ...]) -> str:
        return self.rng.choice(items)

    # ------------------------------------------------------------ values

    def email(self) -> str:
        return self._pick([self.us.email(), self.us.company_email(), self.us.free_email(), self.fake.email()])

    def phone(self) -> str:
        area = self.rng.randint(201, 989)
        while area % 100 == 11 or str(area)[1] == "9":
            area = self.rng.randint(201, 989)
        ex, line = self.rng.randint(200, 999), self.rng.randint(0, 9999)
        forms = [
            f"({area}) {ex}-{line:04d}",
            f"{area}-{ex}-{line:04d}",
            f"{area}.{ex}.{line:04d}",
            f"+1 {area} {ex} {line:04d}",
            f"+1-{area}-{ex}-{line:04d}",
            f"+44 20 {self.rng.randint(7000, 8999)} {self.rng.randint(0, 9999):04d}",
            f"+44 7{self.rng.randint(100, 999)} {self.rng.randint(100000, 999999)}",
            f"+49 30 {self.rng.randint(1000000, 99999999)}",
            "+33 6 " + " ".join(str(self.rng.randint(10, 99)) for _ in range(4)),
            f"+31 6 {self.rng.randint(10000000, 99999999)}",
        ]
        return self._pick(forms)

    def credit_card(self) -> str:
        number = self.us.credit_card_number(card_type=self._pick(["visa16", "mastercard", "amex", "discover"]))
        style = self.rng.random()
        if style < 0.35 and len(number) == 16:
            return " ".join(number[i : i + 4] for i in range(0, 16, 4))
        if style < 0.5 and len(number) == 16:
            return "-".join(number[i : i + 4] for i in range(0, 16, 4))
        return number

    def us_ssn(self) -> str:
        return str(self.us.ssn())

    def iban(self) -> str:
        locale = self._pick(["de_DE", "fr_FR", "en_GB", "nl_NL", "es_ES"])
        value = str(self.fake[locale].iban())
        if self.rng.random() < 0.5:
            value = " ".join(value[i : i + 4] for i in range(0, len(value), 4))
        return value

    def ip_address(self) -> str:
        return self.us.ipv4_public() if self.rng.random() < 0.75 else self.us.ipv6()

    def uk_nino(self) -> str:
        first = "ABCEGHJKLMNOPRSTWXYZ"
        second = "ABCEGHJKLMNPRSTWXYZ"
        while True:
            prefix = self.rng.choice(first) + self.rng.choice(second)
            if prefix not in {"BG", "GB", "NK", "KN", "TN", "NT", "ZZ"}:
                break
        digits = self._s(string.digits, 6)
        suffix = self.rng.choice("ABCD")
        if self.rng.random() < 0.4:
            return f"{prefix} {digits[:2]} {digits[2:4]} {digits[4:]} {suffix}"
        return f"{prefix}{digits}{suffix}"

    def aba_routing(self) -> str:
        prefix = self._pick(
            [f"{self.rng.randint(1, 12):02d}", f"{self.rng.randint(21, 32)}", f"{self.rng.randint(61, 72)}"]
        )
        digits = prefix + self._s(string.digits, 6)
        weights = (3, 7, 1, 3, 7, 1, 3, 7)
        check = (10 - sum(int(d) * w for d, w in zip(digits, weights, strict=True)) % 10) % 10
        return digits + str(check)

    def aws_access_key(self) -> str:
        return self._pick(["AKIA", "ASIA"]) + self._s(string.ascii_uppercase + "234567", 16)

    def aws_secret_key(self) -> str:
        return self._s(ALNUM + "+/", 40)

    def github_token(self) -> str:
        kind = self.rng.random()
        if kind < 0.2:
            return "github_pat_" + self._s(ALNUM, 22) + "_" + self._s(ALNUM, 59)
        return self._pick(["ghp_", "gho_", "ghs_", "ghu_", "ghr_", "ghp_"]) + self._s(ALNUM, 36)

    def gitlab_token(self) -> str:
        return "glpat-" + self._s(ALNUM + "-_", 20)

    def slack_token(self) -> str:
        kind = self.rng.random()
        if kind < 0.25:
            return (
                "https://hooks.slack.com/services/T"
                + self._s(string.ascii_uppercase + string.digits, 8)
                + "/B"
                + self._s(string.ascii_uppercase + string.digits, 10)
                + "/"
                + self._s(ALNUM, 24)
            )
        prefix = self._pick(["xoxb", "xoxp", "xoxa", "xoxs"])
        return f"{prefix}-{self._s(string.digits, 12)}-{self._s(string.digits, 13)}-{self._s(ALNUM, 24)}"

    def stripe_key(self) -> str:
        return self._pick(["sk_live_", "rk_live_", "sk_test_"]) + self._s(ALNUM, self.rng.choice([24, 34, 99]))

    def google_api_key(self) -> str:
        return "AIza" + self._s(ALNUM + "-_", 35)

    def openai_key(self) -> str:
        if self.rng.random() < 0.5:
            return "sk-" + self._s(ALNUM, 20) + "T3BlbkFJ" + self._s(ALNUM, 20)
        return "sk-proj-" + self._s(ALNUM + "-_", 74) + "T3BlbkFJ" + self._s(ALNUM + "-_", 74)

    def anthropic_key(self) -> str:
        return "sk-ant-api03-" + self._s(ALNUM + "-_", 93) + "AA"

    def huggingface_token(self) -> str:
        return "hf_" + self._s(string.ascii_letters, 34)

    def jwt(self) -> str:
        def b64(data: bytes) -> str:
            return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

        header = {"alg": self._pick(["HS256", "RS256", "ES256"]), "typ": "JWT"}
        payload = {
            "sub": str(self.rng.randint(10**6, 10**9)),
            "name": self.us.name(),
            "iat": self.rng.randint(1_600_000_000, 1_800_000_000),
        }
        signature = bytes(self.rng.getrandbits(8) for _ in range(32))
        compact = (",", ":")
        parts = (
            json.dumps(header, separators=compact).encode(),
            json.dumps(payload, separators=compact).encode(),
            signature,
        )
        return ".".join(b64(part) for part in parts)

    def private_key(self) -> str:
        label = self._pick(
            ["RSA PRIVATE KEY", "PRIVATE KEY", "EC PRIVATE KEY", "OPENSSH PRIVATE KEY", "ENCRYPTED PRIVATE KEY"]
        )
        body = base64.b64encode(
            bytes(self.rng.getrandbits(8) for _ in range(self.rng.choice([120, 240, 600])))
        ).decode()
        lines = "\n".join(body[i : i + 64] for i in range(0, len(body), 64))
        return f"-----BEGIN {label}-----\n{lines}\n-----END {label}-----"

    def database_url(self) -> str:
        user = self.us.user_name()
        password = self._s(ALNUM, self.rng.randint(10, 20))
        host = self._pick([self.us.domain_name(), f"db-{self.rng.randint(1, 9)}.internal", "10.0.3.17"])
        scheme, port = self.rng.choice(
            [
                ("postgres", "5432"),
                ("postgresql", "5432"),
                ("mysql", "3306"),
                ("mongodb+srv", ""),
                ("redis", "6379"),
                ("amqp", "5672"),
            ]
        )
        port_part = f":{port}" if port else ""
        return f"{scheme}://{user}:{password}@{host}{port_part}/{self.us.word()}"

    def password(self) -> str:
        words = self.us.words(2)
        return self._pick(
            [
                self._s(ALNUM + "!@#$%^&*", self.rng.randint(10, 18)),
                f"{words[0].capitalize()}{words[1]}{self.rng.randint(10, 99)}!",
                self.us.password(length=self.rng.randint(12, 20)),
            ]
        )

    # ------------------------------------------------------------ look-alikes (never PII or secrets)

    def lookalike(self) -> tuple[str, str]:
        """One look-alike value and its kind."""
        kind = self._pick(list(_LOOKALIKES))
        return _LOOKALIKES[kind](self), kind

    def bad_iban(self) -> str:
        while True:
            value = "DE" + self._s(string.digits, 20)
            if not _iban_ok(value):
                return value

    def bad_routing(self) -> str:
        while True:
            value = self._s(string.digits, 9)
            if not _aba_ok(value):
                return value

    def luhn_invalid(self) -> str:
        while True:
            digits = self._pick(["4", "5", "37", "6011"]) + self._s(string.digits, 15)
            digits = digits[:16]
            if not _luhn(digits):
                return " ".join(digits[i : i + 4] for i in range(0, 16, 4)) if self.rng.random() < 0.5 else digits


def _iban_ok(value: str) -> bool:
    moved = value[4:] + value[:4]
    return int("".join(str(int(c, 36)) for c in moved)) % 97 == 1


def _aba_ok(digits: str) -> bool:
    return sum(int(d) * w for d, w in zip(digits, (3, 7, 1) * 3, strict=True)) % 10 == 0


def _luhn(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


_LOOKALIKES: dict[str, Callable[[Generator], str]] = {
    "uuid": lambda g: str(uuid.UUID(int=g.rng.getrandbits(128), version=4)),
    "git_sha": lambda g: hashlib.sha1(g._s(ALNUM, 12).encode(), usedforsecurity=False).hexdigest(),
    "short_sha": lambda g: hashlib.sha1(g._s(ALNUM, 12).encode(), usedforsecurity=False).hexdigest()[:7],
    "sha256": lambda g: hashlib.sha256(g._s(ALNUM, 12).encode()).hexdigest(),
    "order_number": lambda g: (
        f"{g.rng.randint(100, 999)}-{g.rng.randint(1000000, 9999999)}-{g.rng.randint(1000000, 9999999)}"
    ),
    "ups_tracking": lambda g: "1Z" + g._s(string.ascii_uppercase + string.digits, 16),
    "usps_tracking": lambda g: "9400" + g._s(string.digits, 18),
    "fedex_tracking": lambda g: g._s(string.digits, 12),
    "version": lambda g: g._pick(
        [
            f"v{g.rng.randint(1, 20)}.{g.rng.randint(0, 40)}.{g.rng.randint(0, 99)}",
            f"10.0.{g.rng.randint(19041, 26100)}.{g.rng.randint(1000, 4999)}",
        ]
    ),
    "date": lambda g: g._pick([g.us.date(), g.us.date(pattern="%m/%d/%Y"), g.us.date(pattern="%d.%m.%Y")]),
    "luhn_invalid_16": lambda g: g.luhn_invalid(),
    "invalid_ssn": lambda g: g._pick(
        [
            f"000-{g.rng.randint(10, 99)}-{g.rng.randint(1000, 9999)}",
            f"666-{g.rng.randint(10, 99)}-{g.rng.randint(1000, 9999)}",
            f"{g.rng.randint(100, 665)}-00-{g.rng.randint(1000, 9999)}",
        ]
    ),
    "placeholder_key": lambda g: g._pick(
        [
            "AKIAXXXXXXXXXXXXXXXX",
            "sk-...your-key-here",
            "<YOUR_API_KEY>",
            "ghp_XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX",
            "xoxb-your-token",
            "${OPENAI_API_KEY}",
            "sk_live_xxxxxxxxxxxxxxxxxxxxxxxx",
        ]
    ),
    "placeholder_pii": lambda g: g._pick(["XXX-XX-XXXX", "name@your-domain", "(XXX) XXX-XXXX", "XXXX XXXX XXXX XXXX"]),
    "isbn": lambda g: (
        f"978-{g.rng.randint(0, 1)}-{g.rng.randint(100, 999)}-{g.rng.randint(10000, 99999)}-{g.rng.randint(0, 9)}"
    ),
    "ticket": lambda g: f"INC-{g.rng.randint(2019, 2026)}-{g.rng.randint(100000, 999999)}",
    "time_range": lambda g: (
        f"{g.rng.randint(8, 11)}:{g.rng.choice(['00', '15', '30', '45'])}-"
        f"{g.rng.randint(12, 17)}:{g.rng.choice(['00', '30'])}"
    ),
    "zip_plus4": lambda g: f"{g.rng.randint(10000, 99999)}-{g.rng.randint(1000, 9999)}",
    "invoice": lambda g: f"{g.rng.randint(2020, 2026)}-{g.rng.randint(100, 999)}-{g.rng.randint(1000, 9999)}",
    "hex_color": lambda g: "#" + g._s("0123456789abcdef", 6),
    "bad_iban": lambda g: g.bad_iban(),
    "bad_routing": lambda g: g.bad_routing(),
    "measurement": lambda g: (
        f"{g.rng.randint(100, 999)}.{g.rng.randint(0, 99)}.{g.rng.randint(256, 999)}.{g.rng.randint(0, 9)}"
    ),
    "base64_blob": lambda g: base64.b64encode(g._s(string.ascii_letters + " ", 30).encode()).decode(),
}

_LOOKALIKE_TEMPLATES = {
    "uuid": ["Request id {v} failed with a timeout.", "The tenant id is {v}."],
    "git_sha": ["Fixed in commit {v} on main.", "Please cherry-pick {v} into the release branch."],
    "short_sha": ["Reverted {v} because it broke the build."],
    "sha256": ["The download checksum (sha256) is {v}.", "Image digest: sha256:{v}"],
    "order_number": ["Your order {v} has shipped.", "Order #{v} was refunded yesterday."],
    "ups_tracking": ["UPS tracking number: {v}."],
    "usps_tracking": ["USPS tracking: {v}"],
    "fedex_tracking": ["FedEx tracking {v} shows it is out for delivery."],
    "version": ["Upgrade to {v} to get the fix.", "Tested on build {v}."],
    "date": ["The meeting moved to {v}.", "Invoice dated {v}."],
    "luhn_invalid_16": ["Reference number {v} (not a card).", "Batch {v} was processed."],
    "invalid_ssn": ["Example format only: {v}.", "The test fixture uses {v}."],
    "placeholder_key": ['Set api_key = "{v}" in your config.', "Replace {v} with your own key."],
    "placeholder_pii": ["Enter your number as {v}.", "Format: {v}"],
    "isbn": ["ISBN {v}", "The book (ISBN {v}) is back in stock."],
    "ticket": ["See ticket {v} for details."],
    "time_range": ["The store is open {v} on Saturdays."],
    "zip_plus4": ["Ship to ZIP {v}."],
    "invoice": ["Invoice {v} is overdue."],
    "hex_color": ["Use {v} for the header background."],
    "bad_iban": ["Account reference {v} (internal ledger)."],
    "bad_routing": ["Case number {v} was closed."],
    "measurement": ["Sensor reading {v} recorded at noon."],
    "base64_blob": ["The payload field was {v} in the logs."],
}

_TEMPLATES: dict[str, list[str]] = {
    "email": [
        "Please contact {name} at {v} about the invoice.",
        "Send the signed contract to {v} by Friday.",
        "Reply-To: {v}",
        "{name}'s new address is {v}.",
    ],
    "phone": [
        "You can reach {name} on {v} after 5pm.",
        "Call our office at {v} to reschedule.",
        "Phone: {v}",
        "{name} left a voicemail from {v}.",
    ],
    "credit_card": [
        "The card on file is {v}, expiring 09/28.",
        "Charge it to card number {v}.",
        "Payment details: {v} (CVV sent separately).",
        "{name} paid with {v}.",
    ],
    "us_ssn": [
        "Applicant SSN: {v}.",
        "{name}'s social security number is {v}.",
        "Please verify SSN {v} against the W-2.",
        "SSN {v} was entered on the form.",
    ],
    "iban": [
        "Please transfer the deposit to IBAN {v}.",
        "Bank details for {company}: {v}.",
        "Wire the refund to {v} (account holder {name}).",
        "IBAN: {v}",
    ],
    "ip_address": [
        "The login came from {v} in {city}.",
        "Block traffic from {v} at the firewall.",
        "Server {v} stopped responding at 03:12.",
        "Client IP: {v}",
    ],
    "uk_nino": [
        "Her National Insurance number is {v}.",
        "NI number: {v}",
        "{name} (NINO {v}) started on Monday.",
        "Please quote your NI number {v} on the form.",
    ],
    "aba_routing": [
        "Routing number {v}, account 000123456789.",
        "ABA routing: {v}",
        "Direct deposit to routing {v} at {company} Bank.",
        "Use routing number {v} for the ACH transfer.",
    ],
    "aws_access_key": [
        "aws_access_key_id = {v}",
        "The CI job uses access key {v}.",
        "export AWS_ACCESS_KEY_ID={v}",
        "Found {v} in the old deploy script.",
    ],
    "aws_secret_key": ["aws_secret_access_key = {v}", "export AWS_SECRET_ACCESS_KEY={v}", "AWS secret key: {v}"],
    "github_token": [
        "GITHUB_TOKEN={v}",
        "Use the token {v} to push to the repo.",
        "git clone https://{v}@github.com/acme/app.git",
        "The bot authenticates with {v}.",
    ],
    "gitlab_token": ["GITLAB_TOKEN={v}", "Personal access token: {v}", "Use {v} for the runner registration."],
    "slack_token": ["SLACK_BOT_TOKEN={v}", "Post alerts with {v}.", "The webhook is {v}"],
    "stripe_key": ["STRIPE_SECRET_KEY={v}", 'stripe.api_key = "{v}"', "The payments service uses {v}."],
    "google_api_key": [
        "GOOGLE_API_KEY={v}",
        "Maps key: {v}",
        "https://maps.googleapis.com/maps/api/geocode/json?key={v}",
    ],
    "openai_key": ["OPENAI_API_KEY={v}", 'client = OpenAI(api_key="{v}")', "Here is my key {v}, why does it fail?"],
    "anthropic_key": ["ANTHROPIC_API_KEY={v}", "Authorization header x-api-key: {v}", "The agent runs with {v}."],
    "huggingface_token": ["HF_TOKEN={v}", "huggingface-cli login --token {v}", "Use {v} to download the gated model."],
    "jwt": ["Authorization: Bearer {v}", "The session cookie was {v}.", 'token = "{v}"'],
    "private_key": ["Here is the deploy key:\n{v}\n", "{v}", "id_rsa contents:\n{v}"],
    "database_url": ["DATABASE_URL={v}", "Connect with {v} from the app server.", 'sqlalchemy.create_engine("{v}")'],
    "password": [
        'password = "{v}"',
        "DB_PASSWORD={v}",
        "The admin password is {v}, please change it.",
        "Login: {name} / password: {v}",
    ],
}

_FILLER = [
    "Thanks for getting back to me so quickly.",
    "Let me know if anything else is needed.",
    "The rest of the report is attached.",
    "We discussed this in yesterday's meeting.",
    "This was flagged during the quarterly review.",
    "",
]


def generate(per_type: int, negatives: int, *, seed: int = 1234) -> list[LabelledText]:
    """``per_type`` positives for every type in `TYPES`, then ``negatives`` look-alike-only texts."""
    g = Generator(seed)
    samples: list[LabelledText] = []
    for kind in TYPES:
        make: Callable[[], str] = getattr(g, kind)
        for _ in range(per_type):
            value = make()
            template = g.rng.choice(_TEMPLATES[kind])
            prefix, suffix = template.split("{v}", 1)
            fill = {"name": g.us.name(), "company": g.us.company(), "city": g.us.city()}
            prefix, suffix = prefix.format(**fill), suffix.format(**fill)
            lead = g.rng.choice(_FILLER)
            lead = f"{lead} " if lead else ""
            text = lead + prefix
            start = len(text)
            text += value
            sample = LabelledText(text="", spans=[Span(start, start + len(value), kind)])
            text += suffix
            if g.rng.random() < 0.5:
                look, look_kind = g.lookalike()
                text += " " + g.rng.choice(_LOOKALIKE_TEMPLATES[look_kind]).format(v=look)
                sample.lookalikes.append(look_kind)
            sample.text = text
            samples.append(sample)
    for _ in range(negatives):
        parts: list[str] = []
        kinds: list[str] = []
        for _ in range(g.rng.randint(1, 3)):
            look, look_kind = g.lookalike()
            parts.append(g.rng.choice(_LOOKALIKE_TEMPLATES[look_kind]).format(v=look))
            kinds.append(look_kind)
        samples.append(LabelledText(" ".join(parts), [], kinds))
    return samples


def prose(size: int, *, seed: int = 7, with_values: bool = False) -> str:
    """About ``size`` characters of ordinary business prose (optionally with a few labelled values)."""
    g = Generator(seed)
    out = ""
    while len(out) < size:
        if with_values and g.rng.random() < 0.15:
            kind = g.rng.choice(TYPES)
            fill = {"name": g.us.name(), "company": g.us.company(), "city": g.us.city()}
            sentence = g.rng.choice(_TEMPLATES[kind]).format(v=getattr(g, kind)(), **fill)
        else:
            sentence = g.us.paragraph(nb_sentences=2)
        # Paragraphs of a few hundred characters, as a model writes them.
        out += sentence + ("\n\n" if g.rng.random() < 0.3 else " ")
    return out[:size]
