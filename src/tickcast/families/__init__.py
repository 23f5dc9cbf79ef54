"""Model families as units: each in a module of its own (networks, ridge, LightGBM) behind one
interface (`tickcast.families.base.Family`: fit with its interval model, save, load), found by
name through the `tickcast.families` entry points (`tickcast.families.registry`)."""
