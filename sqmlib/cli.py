"""Command line: ``sqm report`` builds a quarterly report, ``sqm explore`` serves the explorers, ``sqm training``
renders the training notebooks, ``sqm synth`` writes sample data, ``sqm instrument draft`` drafts an instrument
file from a survey file."""
from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
import traceback
from pathlib import Path

from .errors import SQMError
from .hosts import bind, check_bind_host, check_token
from .paths import SAMPLE_DIR, resolve


def _report(args) -> int:
    from .runner import build

    period = args.period or ("week" if args.week else "quarter")  # --week alone asks for a weekly report
    path = build(quarter=args.quarter, period=period, week=args.week or "", data_dir=args.data, out_dir=args.out,
                 force=args.force, instrument=args.instrument or "", encoding=args.encoding or "", lang=args.lang,
                 pdf=not args.no_pdf, timeout=args.timeout, jobs=args.jobs, progress=not args.no_progress,
                 parameters={**({"engine": args.engine} if args.engine != "pandas" else {}),
                             **({"tickets": True} if args.tickets else {})} or None)
    print(f"Report written: {path / 'index.html'}")
    for name in ("summary.pdf", "report.pdf"):
        if (path / name).exists():
            print(f"PDF: {path / name}")
    return 0


def _explore(args) -> int:
    data = resolve(args.data, SAMPLE_DIR).resolve()
    if not data.is_dir():
        raise SQMError(f"data folder not found: {data}")
    check_bind_host(args.host, args.allow_remote)  # all before the explorers' libraries are imported (seconds)
    check_token(args.token)
    if args.allow_remote:
        print("warning: the explorer speaks plain HTTP: beyond a trusted network put it behind a TLS-terminating "
              "reverse proxy (nginx, Caddy), or the token and the data travel readable", file=sys.stderr, flush=True)
    sockets = bind(args.host, args.port)
    from .explore.serve import serve

    serve(data, host=args.host, port=args.port, token=args.token or None, allow_remote=args.allow_remote,
          lang=args.lang, say=lambda msg: print(msg, flush=True), sockets=sockets)
    return 0


def _training(args) -> int:
    from .training import render

    done = render(args.out, langs=args.lang, versions=[v == "instructor" for v in args.version], force=args.force,
                  log=lambda msg: print(msg, flush=True))
    print(f"{len(done)} notebooks rendered into {args.out} (<lang>/<trainee|instructor>/, .ipynb and .html)")
    return 0


def _instrument(args) -> int:
    from .io.draft import write_draft

    out = write_draft(args.file, args.out, encoding=args.encoding or None, force=args.force)
    print(f"Draft instrument written to {out}: check every line marked 'guessed', group the items into "
          "dimensions, then put it beside the survey as instrument.yaml and run sqm report --data FOLDER")
    return 0


def _synth(args) -> int:
    from . import sample as synth

    if args.shapes:
        from .sample.exports import SHAPES, write_all

        write_all(args.shapes)
        print(f"{len(SHAPES)} survey shapes written to {args.shapes}/<shape>/ (survey file and instrument.yaml)")
        return 0
    out = Path(args.out)
    if out.exists() and any(out.iterdir()) and not args.force:
        raise SQMError(f"{out} is not empty; use --force to overwrite its sample files")
    cfg = synth.SynthConfig(**({"seed": args.seed} if args.seed is not None else {}), language=args.lang)
    data = synth.generate(cfg)
    data.save(out)
    print(f"Sample data written to {out} (seed {cfg.seed}): {len(data.survey):,} survey responses, "
          f"{len(data.customers):,} customers, {len(data.interactions):,} interactions")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="sqm", description="Service-quality analytics notebook suite")
    sub = parser.add_subparsers(dest="command", required=True)
    r = sub.add_parser("report", help="build the quarterly report with papermill")
    r.add_argument("--quarter", help="quarter as YYYYQn (default: the latest in the data; a survey without dates "
                                     "gets a study report)")
    r.add_argument("--period", choices=["quarter", "week"], default=None,
                   help="quarter (default): the quarterly report; week: the weekly improvement report of --week, "
                        "into OUT/<week> (it reads the feedback and the PDCA action register)")
    r.add_argument("--week", help="ISO week as YYYY-Www, e.g. 2026-W39, for --period week (default: the last complete "
                                  "week of the feedback)")
    r.add_argument("--tickets", action="store_true",
                   help="the voice of the customer also reads the tickets' texts (beside the feedback and the "
                        "survey's open answers)")
    r.add_argument("--data", help="data folder (default: the bundled data/sample)")
    r.add_argument("--out", help="folder for this data's reports: the report goes to OUT/<quarter> (OUT/study for a "
                                 "survey without dates); default reports/<study name>")
    r.add_argument("--encoding", help="text encoding of the survey CSV, e.g. gb18030 or cp949 (default: detected)")
    r.add_argument("--no-pdf", action="store_true", help="skip the PDFs of the summary and the whole report")
    r.add_argument("--lang", choices=["en", "zh"], default="en",
                   help="language of the report: en (English, default) or zh (简体中文); a Chinese report goes to "
                        "reports/<study>-zh/<quarter> unless --out is given")
    r.add_argument("--instrument", help="instrument name or YAML file (default: the data folder's own or servqual)")
    r.add_argument("--force", action="store_true", help="replace an existing report for the quarter")
    r.add_argument("--engine", choices=["pandas", "duckdb", "spark"], default="pandas",
                   help="where survey statistics are computed (default pandas; duckdb or spark aggregate moments); "
                        "orders are summarised per customer in DuckDB unless spark is given")
    r.add_argument("--jobs", type=int, default=None, help="kernels running notebooks side by side (default: "
                   "$SQM_JOBS, else one per core, at most two)")
    r.add_argument("--timeout", type=int, default=1200, help="seconds a notebook cell may run (default 1200)")
    r.add_argument("--no-progress", action="store_true", help="no progress bars")
    r.set_defaults(func=_report)
    e = sub.add_parser("explore", help="serve the interactive explorers as a local web app")
    e.add_argument("--data", help="data folder (default: the bundled data/sample)")
    e.add_argument("--port", type=int, default=8866, help="port (default 8866)")
    e.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1: this machine only)")
    e.add_argument("--allow-remote", action="store_true",
                   help="allow binding to an address other than localhost, and requests naming other hosts")
    e.add_argument("--token", help="access token (default: a new random one, printed in the address)")
    e.add_argument("--lang", choices=["en", "zh"], default="en",
                   help="language the pages open in (en or zh; each page has a switch)")
    e.set_defaults(func=_explore)
    t = sub.add_parser("training", help="render the training notebooks in every language and version")
    t.add_argument("--out", default="reports/training/rendered", help="output folder (default reports/training/rendered)")
    t.add_argument("--lang", nargs="+", choices=["en", "zh"], default=["en", "zh"], help="languages (default both)")
    t.add_argument("--version", nargs="+", choices=["trainee", "instructor"], default=["trainee", "instructor"],
                   help="versions (default both)")
    t.add_argument("--force", action="store_true", help="replace notebooks rendered before")
    t.set_defaults(func=_training)
    s = sub.add_parser("synth", help="generate sample data with known ground truth")
    s.add_argument("--out", default="data/sample", help="output folder (default data/sample)")
    s.add_argument("--seed", type=int, help="random seed (default: the documented one)")
    s.add_argument("--force", action="store_true", help="overwrite files in a non-empty output folder")
    s.add_argument("--lang", choices=("en", "zh"), default="en",
                   help="zh: Chinese region, channel and plan names and Chinese ticket texts (default en)")
    s.add_argument("--shapes", metavar="DIR",
                   help="instead: write small surveys of many shapes and platform exports, each with its instrument")
    s.set_defaults(func=_synth)
    i = sub.add_parser("instrument", help="work with instrument files")
    isub = i.add_subparsers(dest="action", required=True)
    d = isub.add_parser("draft", help="draft an instrument file from a survey file's headers and answers")
    d.add_argument("file", help="the survey file (CSV, Excel, SPSS .sav, Parquet; platform exports as they are)")
    d.add_argument("-o", "--out", default="instrument.yaml", help="the draft to write (default instrument.yaml)")
    d.add_argument("--encoding", help="text encoding of a CSV file (default: detected)")
    d.add_argument("--force", action="store_true", help="replace an existing file")
    d.set_defaults(func=_instrument)
    args = parser.parse_args(argv)
    previous = _terminate_cleanly()
    interrupt = signal.getsignal(signal.SIGINT)
    try:
        return args.func(args)
    except SQMError as exc:  # our own errors: a clear message, no traceback
        print(f"sqm {args.command}: {exc}", file=sys.stderr)
        return 1
    except (KeyboardInterrupt, Terminated) as exc:
        # stopped once is enough: a signal still pending (the notebook runner's event loop may have taken it
        # first) must not turn the clean exit into a second interruption
        if previous is not None:
            signal.signal(signal.SIGINT, signal.SIG_IGN)
            signal.signal(signal.SIGTERM, signal.SIG_IGN)
        # the notebook runner's pending tasks die with the kernel; asyncio would log their "exception was never
        # retrieved" with a traceback when they are collected, after our one line
        logging.getLogger("asyncio").disabled = True
        what = "interrupted" if isinstance(exc, KeyboardInterrupt) else "stopped (SIGTERM)"
        print(f"sqm {args.command}: {what}; nothing half-written was left behind", file=sys.stderr)
        return 130 if isinstance(exc, KeyboardInterrupt) else 143
    except OSError as exc:  # a folder that cannot be written, a full disk, a file where a folder should be
        where = f" ({exc.filename})" if getattr(exc, "filename", None) else ""
        print(f"sqm {args.command}: {exc.strerror or exc}{where}", file=sys.stderr)
        return 1
    except Exception as exc:  # anything else: one line here, the traceback in a log file
        log = _write_log(args.command)
        print(f"sqm {args.command}: unexpected {type(exc).__name__}: {' '.join(str(exc).split())[:300]} "
              f"(details in {log})", file=sys.stderr)
        return 1
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
            signal.signal(signal.SIGINT, interrupt)


class Terminated(BaseException):
    """SIGTERM (``timeout``, systemd, CI) turned into an exception, so that every ``finally`` and cleanup runs."""


def _terminate_cleanly():
    """Make SIGTERM raise :class:`Terminated` in the main thread; returns the handler it replaced."""
    if threading.current_thread() is not threading.main_thread():
        return None

    def handler(signum, frame):
        raise Terminated()

    return signal.signal(signal.SIGTERM, handler)


def _write_log(command: str) -> Path:
    """The traceback of an unexpected error, in this user's private log folder (a new file, 0600)."""
    from .private import keep, private_dir

    try:
        return keep("logs", f"sqm-{command}", ".log", traceback.format_exc().encode("utf-8"))
    except OSError:
        return private_dir("logs")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
