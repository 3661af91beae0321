from chatwoot_etl.cli import main

raise SystemExit(main())
