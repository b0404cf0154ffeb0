"""The ``aispm`` command line.

::

    aispm demo [--json]          run the offline demo: a scripted agent through the guards
    aispm policy check FILE      validate a policy file (YAML, TOML or JSON)
    aispm policy schema          print the JSON Schema of policy files
    aispm audit verify FILE --key PUBKEY.pem
                                 verify a tamper-evident audit log (hash chain and checkpoint signatures)
    aispm --version

Exit status: 0 on success, 1 when a policy file or an audit log is invalid, 2 on any other
error (a missing extra, a bad command line, an unexpected failure). Errors are
one line each; set ``AISPM_DEBUG=1`` to also get the traceback. Needs the
``cli`` extra (``pip install "aispm[cli]"``) for ``demo``.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
import traceback
from collections.abc import Sequence

from ._version import __version__
from .errors import MissingExtraError, PolicyError
from .guard import Guard
from .policy import Policy

__all__ = ["main"]


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``aispm`` command line.

    Args:
        argv: The arguments, without the program name; defaults to ``sys.argv[1:]``.

    Returns:
        The exit status: 0 on success, 1 when a checked policy is invalid, 2 on any other error.
    """
    parser = _parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, --version and usage errors: argparse has printed the message
        return exc.code if isinstance(exc.code, int) else 2
    try:
        status: int = args.handler(args)
    except MissingExtraError as exc:
        print(f"aispm: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # e.g. `aispm demo --json | head`: the reader left, nothing to report
        _silence_stdout()
        return 1
    except Exception as exc:
        if os.environ.get("AISPM_DEBUG") == "1":
            traceback.print_exc()
        message = " ".join(str(exc).split())
        print(f"aispm: error: {type(exc).__name__}{': ' if message else ''}{message}", file=sys.stderr)
        return 2
    return status


def _silence_stdout() -> None:
    # Python flushes stdout at exit, which would raise again: point it at devnull.
    with contextlib.suppress(OSError, ValueError):  # stdout may have no file descriptor
        fd = sys.stdout.fileno()
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, fd)
        os.close(devnull)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="aispm", description="Security guards inside the AI agent loop.")
    parser.add_argument("--version", action="version", version=f"aispm {__version__}")
    commands = parser.add_subparsers(title="commands", required=True, metavar="COMMAND")

    demo = commands.add_parser("demo", help="run a scripted agent through the guards, offline")
    demo.add_argument("--json", action="store_true", help="print the decisions and spans as JSON")
    demo.set_defaults(handler=_demo)

    policy = commands.add_parser("policy", help="check policy files, print their schema")
    policy_commands = policy.add_subparsers(title="commands", required=True, metavar="COMMAND")
    check = policy_commands.add_parser("check", help="validate a policy file (.yaml, .yml, .toml, .json)")
    check.add_argument("file", metavar="FILE")
    check.set_defaults(handler=_policy_check)
    schema = policy_commands.add_parser("schema", help="print the JSON Schema of policy files")
    schema.set_defaults(handler=_policy_schema)

    from . import audit  # the audit commands' arguments are defined next to the log format they check

    audit_parser = commands.add_parser("audit", help="verify tamper-evident audit logs")
    audit_commands = audit_parser.add_subparsers(title="commands", required=True, metavar="COMMAND")
    verify = audit_commands.add_parser("verify", help="check an audit log's hash chain and checkpoint signatures")
    audit.add_verify_arguments(verify)
    verify.set_defaults(handler=audit.run_verify)  # prints the report; 0 ok, 1 does not verify, 2 unreadable
    return parser


def _demo(args: argparse.Namespace) -> int:
    from . import _demo

    demo = _demo.run()
    if args.json:
        print(demo.to_json())
    else:
        _demo.print_report(demo)
    return 0


def _policy_check(args: argparse.Namespace) -> int:
    file: str = args.file
    try:
        Guard(Policy.from_file(file))  # a guard also checks that every named detector exists
    except PolicyError as exc:
        if not exc.issues:
            print(f"{file}: {exc}", file=sys.stderr)
        for issue in exc.issues:
            line = f":{issue.line}" if issue.line is not None else ""
            print(f"{file}{line}: {issue.location}: {issue.message}", file=sys.stderr)
        return 1
    print(f"{file}: OK")
    return 0


def _policy_schema(args: argparse.Namespace) -> int:
    print(json.dumps(Policy.model_json_schema(), indent=2))
    return 0


if __name__ == "__main__":  # pragma: no cover - run in a subprocess by tests/test_cli.py
    raise SystemExit(main())
