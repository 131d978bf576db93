"""Running the assistant's processes: `make run`, `make run-prod`, the tests that start real servers and
the load benchmark all start, watch and stop them through stack.processes."""
