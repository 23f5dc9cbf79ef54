"""The pipeline steps' work, one module per step (resolve production, predict, monitor, decide,
tune, train candidate, evaluate, promote, init, the stores they wait for) and the results they
hand each other."""
