"""chatwoot-etl: the command line of the ETL (also ``python -m chatwoot_etl``).

Exit codes: 0 success, 1 failure, 2 refused because another sync of the tenant holds its lock.

``cli.parser`` declares the commands, ``cli.core`` and ``cli.admin`` run them, ``cli.output``
prints their results.
"""

from __future__ import annotations

import os


def main(argv: list[str] | None = None) -> int:
    from chatwoot_etl.cli.parser import build_parser
    from chatwoot_etl.paths import LOCAL_DIR

    args = build_parser().parse_args(argv)
    os.environ.setdefault("AIRFLOW_HOME", str(LOCAL_DIR / "airflow"))
    os.environ.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")
    # The embedded default also points Airflow at its metadata database (where the watermark
    # Variables live): that must happen before Airflow is imported, which reads its config once.
    offline = args.command in ("embedded", "settings") or (args.command == "registry" and args.action == "show")
    if offline:
        args.connections = None
    else:
        from chatwoot_etl.localdev import embedded

        args.connections = embedded.ensure_connections()  # 'configured' or 'embedded'
    from chatwoot_etl import logs

    logs.configure(args.log_level)
    return args.func(args)


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
