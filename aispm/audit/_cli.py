"""``aispm audit verify``: its arguments, and running it on parsed arguments or a command line."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from ..errors import PolicyError
from ._keys import load_public_key
from ._verify import verify_log


def add_verify_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare the arguments of ``aispm audit verify`` on ``parser``."""
    parser.add_argument("file", metavar="FILE", help="the JSONL audit log")
    parser.add_argument(
        "--key",
        metavar="PUBKEY.pem",
        action="append",
        required=True,
        help="Ed25519 public key (PEM) that signs the checkpoints; repeat it for rotated keys",
    )
    parser.add_argument("--expect-seq", type=int, metavar="N", help="anchor: the log reached at least seq N")
    parser.add_argument("--expect-hash", metavar="HEX", help="anchor: the hash of the record at --expect-seq")
    parser.add_argument(
        "--allow-unsigned-tail", action="store_true", help="accept records after the last checkpoint (a live log)"
    )
    parser.add_argument("--json", action="store_true", help="print the report as JSON")


def run_verify(args: argparse.Namespace, *, stdout: TextIO | None = None, stderr: TextIO | None = None) -> int:
    """Run ``aispm audit verify`` for parsed ``args``; print a report.

    Returns:
        0 when the log verifies, 1 when it does not, 2 when a key or the file cannot be read.
    """
    out = sys.stdout if stdout is None else stdout
    err = sys.stderr if stderr is None else stderr
    try:
        keys = [load_public_key(Path(k)) for k in args.key]
        report = verify_log(
            args.file,
            keys,
            expected_seq=args.expect_seq,
            expected_hash=args.expect_hash,
            allow_unsigned_tail=args.allow_unsigned_tail,
        )
    except (PolicyError, OSError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        err.write(f"aispm: error: {reason}\n")
        return 2
    if args.json:
        doc = {
            "file": str(args.file),
            "ok": report.ok,
            "records": report.records,
            "checkpoints": report.checkpoints,
            "signed_through": report.signed_through,
            "last_seq": report.last_seq,
            "last_hash": report.last_hash,
            "problems": [{"kind": p.kind, "line": p.line, "seq": p.seq, "message": p.message} for p in report.problems],
        }
        out.write(json.dumps(doc, indent=2) + "\n")
    else:
        out.write(f"{args.file}: {report}\n")
    return 0 if report.ok else 1


def main_verify(
    argv: Sequence[str] | None = None, *, stdout: TextIO | None = None, stderr: TextIO | None = None
) -> int:
    """``aispm audit verify FILE --key PUBKEY.pem``, as a function: returns the exit status."""
    parser = argparse.ArgumentParser(prog="aispm audit verify", description="Verify a tamper-evident audit log.")
    add_verify_arguments(parser)
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help or a usage error: argparse has printed the message
        return exc.code if isinstance(exc.code, int) else 2
    return run_verify(args, stdout=stdout, stderr=stderr)
