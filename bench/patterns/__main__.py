from bench.patterns.run import main

raise SystemExit(main())
