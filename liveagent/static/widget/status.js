/*
 * Which status line the widget shows. Every line with a state carries the version of the conversation it
 * was computed from (docs/agent-api.md, "Status"); the service's replicas send lines independently, so a
 * queue place computed before another replica assigned the chat can arrive after the "agent joined" line.
 */

/** Whether `incoming` was computed from an older version of the conversation than the `shown` line. */
export function isOutdated(shown, incoming) {
  return Boolean(shown) && Number.isInteger(incoming.version) && Number.isInteger(shown.version)
    && incoming.version < shown.version;
}
