"""Pipeline plumbing: the step functions KFP components call, and the kfp.local and KFP backends."""
