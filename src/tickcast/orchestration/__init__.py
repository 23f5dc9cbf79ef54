"""Pipeline plumbing: the functions KFP components call, and (later) local / cluster backends."""
