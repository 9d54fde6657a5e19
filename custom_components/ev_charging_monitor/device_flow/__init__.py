"""Config-flow steps that add a wallbox or meter reached over the network (config_flow.py)."""
