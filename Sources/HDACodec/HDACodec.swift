// HDACodec: filled in by its issue.
