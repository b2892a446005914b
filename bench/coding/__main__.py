from bench.coding.run import main

raise SystemExit(main())
