/*
 * "Tallenna keskustelu": the visitor downloads their conversation (during the chat and after it) as a
 * Finnish HTML page (docs/agent-api.md, "Transcripts"). The service identifies the visitor only by the
 * signed session token the widget holds (with the website's identity token of a logged-in customer), sent
 * in a POST body, never in an address; the answer becomes a file here (a Blob and a download link).
 */
import { el } from '../lib/dom.js';
import T from '../copy/widget.fi.json';

/**
 * The header button. `serverUrl`: the service; `session()` -> {token, authToken} now; `tell(text)`: a line
 * for the visitor when the download fails.
 */
export function transcriptButton(serverUrl, session, tell) {
  const button = el('button', { type: 'button', className: 'lumo-chat-save', text: T.transcriptSave });
  button.addEventListener('click', async () => {
    const { token, authToken } = session();
    if (!token) {
      tell(T.transcriptEmpty);
      return;
    }
    button.disabled = true;
    try {
      const response = await fetch(`${serverUrl.origin}${serverUrl.pathname.replace(/\/+$/, '')}/api/visitor/transcript`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ session_id: token, auth_token: authToken || undefined, format: 'html' }),
        credentials: 'omit',
      });
      if (!response.ok) {
        let message = T.transcriptFailed;
        try {
          message = (await response.json()).message || message;
        } catch (err) {
          /* not JSON: the general line */
        }
        tell(message);
        return;
      }
      const disposition = response.headers.get('Content-Disposition') || '';
      const match = /filename="([^"]+)"/.exec(disposition);
      const link = el('a', { href: URL.createObjectURL(await response.blob()), download: match ? match[1] : 'lumo-keskustelu.html' });
      document.body.appendChild(link);
      link.click();
      link.remove();
      window.setTimeout(() => URL.revokeObjectURL(link.href), 10000);
      tell(T.transcriptSaved);
    } catch (err) {
      tell(T.transcriptFailed);
    } finally {
      button.disabled = false;
    }
  });
  return button;
}
