"""Redaction modes: mask, partial masks, and reversible pseudonyms restored in the final answer.

A support agent gets a prompt naming a customer's e-mail address. With
``mode: vault`` the model only ever sees ``<EMAIL_1>``; the answer is scanned
(a real address the model repeats becomes the same pseudonym), and the last
step restores the value for the user who asked. Another session cannot
restore it.

Offline, no keys. Run it from a checkout::

    python -m pip install -e .
    python examples/redaction.py
"""

from __future__ import annotations

import aispm

ANSWER = "Draft: Dear <EMAIL_1>, your card 4111 1111 1111 1111 was refunded. Copy to bob@example.com."


def fake_model(prompt: str) -> str:
    """Stand-in for a chat model: it echoes the pseudonym it was shown, and leaks a value."""
    assert "bob@example.com" not in prompt  # the model never sees the address
    return ANSWER


def main() -> None:
    """Show a partial mask, then a vaulted pseudonym going through the model and back."""
    masked = aispm.Guard({"output": {"redaction": {"mode": "partial"}}})
    print("partial:", masked.output.scan(ANSWER.replace("<EMAIL_1>", "bob@example.com")).text)

    guard = aispm.Guard(
        {
            "prompt": {
                "detectors": [*aispm.Policy().prompt.detectors, "pii.email"],
                "detector_actions": {"pii.email": "redact"},
                "redaction": {"mode": "vault"},
            },
            "output": {"redaction": {"mode": "vault", "modes": {"pii.credit_card": "mask"}}},
        }
    )
    with guard.session(user="alice", agent="support-bot"):
        prompt = guard.prompt.check("Write a refund note to bob@example.com")
        print("model sees:", prompt.text)
        answer = guard.output.scan(fake_model(prompt.text))
        print("scanned:", answer.text)
        print("alice gets:", guard.output.restore(answer.text))
    with guard.session(user="mallory"):
        print("mallory gets:", guard.output.restore(answer.text))


if __name__ == "__main__":
    main()
