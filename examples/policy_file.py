"""Load a policy file, with a keyword rule and per-role overrides.

The policy is written as YAML to a temporary directory and loaded with
``aispm.Guard.from_file``. The policy:

* denies prompts that ask for destructive SQL, unless the user is a DBA;
* lets users with the ``compliance`` role see e-mail addresses and phone
  numbers (medium-severity PII) in answers, which everyone else gets redacted;
* denies private keys in answers outright, instead of redacting them.

The same text then goes through the guard as different users.

Offline, no keys. Needs PyYAML. Run it from a checkout::

    python -m pip install -e ".[yaml]"
    python examples/policy_file.py
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import aispm

POLICY_YAML = """\
version: 1
mode: enforce
prompt:
  rules:
    - id: prompt.destructive_sql
      description: SQL that destroys data is for DBAs only
      keywords: ["drop table", "truncate table", "delete from"]
      action: deny
      unless_roles: [dba]
output:
  detector_actions:
    secrets.private_key: deny
  roles:
    compliance:
      actions: {medium: allow}
"""

PROMPT = "Please DROP TABLE invoices_2019, it is obsolete."
ANSWER = "The customer is bob@example.com, +1 202-555-0143, card 4111 1111 1111 1111."
KEY_ANSWER = "Here is the key:\n-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA..."

USERS = (
    ("alice", ["analyst"]),
    ("carol", ["compliance"]),
    ("dana", ["dba"]),
)


def load_guard(directory: Path) -> aispm.Guard:
    """Write the policy file and build a guard from it."""
    path = directory / "policy.yaml"
    path.write_text(POLICY_YAML, encoding="utf-8")
    return aispm.Guard.from_file(path)


def main() -> None:
    """Run the same prompt and answers through the guard as three different users."""
    with tempfile.TemporaryDirectory() as tmp:
        guard = load_guard(Path(tmp))
    print(f"loaded: mode={guard.mode}, prompt rules={[rule.id for rule in guard.policy.prompt.rules]}")

    for user, roles in USERS:
        with guard.session(user=user, roles=roles):
            prompt = guard.prompt.check(PROMPT)
            answer = guard.output.scan(ANSWER)
            key = guard.output.scan(KEY_ANSWER)
        print(f"{user} ({', '.join(roles)}):")
        print(f"  prompt: {prompt.action.value} {list(prompt.rule_ids)}")
        print(f"  answer: {answer.text}")
        print(f"  key:    {key.action.value} {list(key.rule_ids)}")


if __name__ == "__main__":
    main()
