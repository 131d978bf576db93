"""Live-agent handoff service: visitors escalated by the Rasa bot wait here for a human agent."""
