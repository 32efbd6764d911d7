"""CloudProvider adapters: the simulator in-process, the simulator over HTTP, and AWS."""
