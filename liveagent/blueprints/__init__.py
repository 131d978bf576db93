"""HTTP and websocket routes of the live-agent service, one blueprint per resource."""
