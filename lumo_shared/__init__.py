"""What crosses process boundaries: the live-agent service, the action server and content/ share it.

Identity tokens and their settings (``identity``, ``settings``), personal-data masking (``privacy``),
the handoff signal and the availability answer (``handoff``), and helpers over Rasa's tracker events
(``tracker_events``). Nothing here imports a process's own package, and importing any module has no
side effect: a process that wants its log records masked calls ``privacy.install_log_masking()``
at its entry point.
"""
