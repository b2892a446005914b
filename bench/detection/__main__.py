from bench.detection.run import main

raise SystemExit(main())
