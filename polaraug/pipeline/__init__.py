"""``polaraug run PIPELINE.yaml``: stages declared in YAML, run in dependency order, cached by a hash of
their configuration and inputs."""
