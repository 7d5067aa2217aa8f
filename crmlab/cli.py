"""``crmlab`` — the command line: ``run``, ``stages``, ``validate``.

Exit codes: 0 success; 2 bad params or bad input (one ``error:`` line naming the file, key
or column, no traceback), including a folder the run cannot write; 1 a notebook failed (the
line names the stage and the executed notebook that shows the failing cell); 130
interrupted (Ctrl-C); 143 terminated (SIGTERM).
"""

from __future__ import annotations

import argparse
import errno
import sys
from collections.abc import Sequence

from crmlab import __version__
from crmlab.errors import InputError, Terminated

__all__ = ["main", "build_parser"]

_ENV_ERRNOS = {
    errno.EACCES, errno.EPERM, errno.EROFS, errno.ENOSPC, errno.EDQUOT, errno.ENOTDIR,
    errno.EISDIR, errno.EEXIST, errno.ENAMETOOLONG, errno.ENOENT,
}


def build_parser() -> argparse.ArgumentParser:
    """Build the argument parser (exposed for tests and docs)."""
    p = argparse.ArgumentParser(
        prog="crmlab",
        description="CRM analytics lab: run the notebook chain on a params file.",
    )
    p.add_argument("--version", action="version", version=f"crmlab {__version__}")
    sub = p.add_subparsers(dest="command", required=True, metavar="{run,stages,validate}")

    r = sub.add_parser("run", help="run the chain (or some stages) on a params file")
    r.add_argument("--params", default=None, help="params YAML (default: params/default.yaml)")
    r.add_argument(
        "--only", action="append", metavar="STAGE[,STAGE...]",
        help="run only these stages; earlier products are read from paths.processed",
    )
    r.add_argument(
        "--set", dest="overrides", action="append", default=[], metavar="dotted.key=value",
        help="override a params key (repeatable), e.g. --set periods.observation_end=1998-03-31",
    )
    r.add_argument("--no-progress", action="store_true", help="no cell progress bars (cron logs)")

    sub.add_parser("stages", help="list the stages in chain order with their notebooks")

    v = sub.add_parser("validate", help="check params and input files without running anything")
    v.add_argument("--params", default=None, help="params YAML (default: params/default.yaml)")
    v.add_argument("--set", dest="overrides", action="append", default=[], metavar="dotted.key=value")
    return p


def _cmd_stages() -> int:
    from crmlab.stages import STAGES

    for i, st in enumerate(STAGES, 1):
        sections = (st.section,) if isinstance(st.section, str) else (st.section or ())
        needs = "needs " + " or ".join(f"'{s}:'" for s in sections) if sections else "always"
        print(f"{i}. {st.name:<13} notebooks/{st.notebook:<32} ({needs})")
    return 0


def _cmd_validate(args: argparse.Namespace) -> int:
    from crmlab.config import apply_privacy, check_writable, load_params
    from crmlab.io import check_inputs
    from crmlab.stages import STAGES

    params = load_params(args.params, args.overrides)
    check_writable(params, args.params or "params")
    apply_privacy(params)
    for line in check_inputs(params):
        print(f"ok  {line}")
    for st in STAGES:
        reason = st.skip_reason(params)
        print(f"{'skip' if reason else 'run '} {st.name}" + (f": {reason}" if reason else ""))
    print("params and inputs are valid")
    return 0


def _cmd_run(args: argparse.Namespace) -> int:
    from crmlab.runner import StageFailed, run

    try:
        result = run(args.params, args.only, args.overrides, progress=not args.no_progress)
    except StageFailed as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"run folder: {result.run_dir}")
    if result.report is not None:
        print(f"report: {result.report}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``crmlab`` console script; returns the exit code."""
    args = build_parser().parse_args(argv)
    try:
        if args.command == "stages":
            return _cmd_stages()
        if args.command == "validate":
            return _cmd_validate(args)
        return _cmd_run(args)
    except InputError as exc:
        msg = " ".join(str(exc).split())  # exactly one line
        print(f"error: {msg}", file=sys.stderr)
        return 2
    except Terminated:
        print("error: terminated (SIGTERM)", file=sys.stderr)
        return 143
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return 130
    except OSError as exc:
        # a folder made read-only, a full disk, a path under a file: the environment the
        # params point at, not a bug; say which file and why, in one line
        if exc.errno not in _ENV_ERRNOS:
            raise
        where = exc.filename or "(file)"
        print(f"error: {where}: {exc.strerror or exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
