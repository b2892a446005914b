from bench.web.run import main

raise SystemExit(main())
