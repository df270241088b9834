"""What every network family shares: loading a state dict with a readable error."""


def load_weights(module, state_dict, what="model"):
    """``module.load_state_dict`` with a readable error listing mismatched keys and shapes.

    Raises:
        ValueError: naming ``what`` and up to 10 missing keys, unexpected keys and shape
            mismatches.
    """
    own = module.state_dict()
    missing = sorted(set(own) - set(state_dict))
    unexpected = sorted(set(state_dict) - set(own))
    shapes = [f"{k}: checkpoint {tuple(state_dict[k].shape)} vs model {tuple(own[k].shape)}"
              for k in own if k in state_dict and state_dict[k].shape != own[k].shape]
    if missing or unexpected or shapes:
        lines = ([f"missing: {', '.join(missing[:10])}"] if missing else []) + \
                ([f"unexpected: {', '.join(unexpected[:10])}"] if unexpected else []) + shapes[:10]
        raise ValueError(f"{what} does not match the model:\n  " + "\n  ".join(lines))
    module.load_state_dict(state_dict)
