/*
 * Transcript downloads of the open conversation (docs/agent-api.md, "Transcripts"): the service sends the
 * file as an attachment (GET /api/agent/conversations/{id}/transcript?format=html|text), so a plain link
 * with the session cookie downloads it. Open, held before, closed or a supervisor's: whatever the agent may
 * see; internal notes are never in it.
 */
import { AGENT_API } from '../lib/session.js';
import { $, state } from './state.js';

function download(kind) {
  const open = state.open;
  if (!open) return;
  const link = document.createElement('a');
  link.href = `${AGENT_API}/conversations/${encodeURIComponent(open.brief.id)}/transcript?format=${kind}`;
  link.download = '';
  document.body.appendChild(link);
  link.click();
  link.remove();
}

$('transcript-html').addEventListener('click', () => download('html'));
$('transcript-text').addEventListener('click', () => download('text'));
