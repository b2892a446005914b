"""Privacy benchmark: scrubbing recall and false scrubs on labelled corpora, and throughput."""
