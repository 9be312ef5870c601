from inferd_tui.cli import main

raise SystemExit(main())
