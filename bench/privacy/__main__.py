from bench.privacy.run import main

raise SystemExit(main())
