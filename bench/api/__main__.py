from bench.api.run import main

raise SystemExit(main())
