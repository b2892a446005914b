from bench.publish.run import main

raise SystemExit(main())
