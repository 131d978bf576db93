import { el, str } from '../lib/dom.js';
import { format, plural } from '../lib/format.js';
import { api, editor, request } from './http.js';
import { copy, list, state, topicByName, ui } from './state.js';
import { openTopicFromElsewhere } from './topic.js';

// ---- findings --------------------------------------------------------------------------------------------------
// Every request ends in a final text: the findings, or why they could not be had. Requests may overlap
// (opening the view, a run ending, the button): only the latest one changes the panel.
export async function loadFindings() {
  const request = ++state.findingsRequest;
  ui.findingsSummary.className = 'findings-summary';
  ui.findingsSummary.textContent = copy.findingsChecking;
  ui.findingsRefresh.disabled = true;
  try {
    const data = await api('GET', editor('/findings'));
    if (request !== state.findingsRequest) return;
    const found = list(data.findings);
    // Errors ("virhe") first, then warnings; the server's order within each.
    state.findings = found
      .filter((f) => f.severity === 'virhe')
      .concat(found.filter((f) => f.severity !== 'virhe'));
    renderFindings();
  } catch (err) {
    if (request !== state.findingsRequest) return;
    ui.findingsSummary.textContent = format(copy.findingsFailed, { error: err.message });
  } finally {
    if (request === state.findingsRequest) ui.findingsRefresh.disabled = false;
  }
}

export function findingTopic(path) {
  const match = /^data\/faq\/([a-z][a-z0-9_]*)\.yml$/.exec(str(path));
  return match && topicByName(match[1]) ? match[1] : null;
}

export function renderFindings() {
  const errors = state.findings.filter((f) => f.severity === 'virhe').length;
  const warnings = state.findings.length - errors;
  if (!state.findings.length) {
    ui.findingsSummary.textContent = copy.findingsNone;
  } else {
    const counts = {
      errors: plural(errors, copy.errorsOne, copy.errorsMany),
      warnings: plural(warnings, copy.warningsOne, copy.warningsMany),
    };
    let summary = copy.findingsWarnings;
    if (errors) summary = warnings ? copy.findingsErrorsAndWarnings : copy.findingsErrors;
    ui.findingsSummary.textContent = format(summary, counts);
  }
  ui.findingsSummary.className = errors ? 'findings-summary findings-summary--error' : 'findings-summary';
  ui.findingsList.textContent = '';
  state.findings.forEach((finding, index) => {
    const isError = finding.severity === 'virhe';
    const name = findingTopic(finding.path);
    const messageId = `finding-${index}`;
    ui.findingsList.appendChild(
      el('li', { className: `finding ${isError ? 'finding--error' : 'finding--warning'}` }, [
        el('span', { className: 'finding-badge', text: isError ? copy.findingError : copy.findingWarning }),
        el('span', { className: 'vh', text: ': ' }),
        el('span', { id: messageId, className: 'finding-message', text: str(finding.message) }),
        el('span', { className: 'finding-place small' }, [
          str(finding.path),
          finding.line ? format(copy.findingLine, { line: str(finding.line) }) : '',
        ]),
        name
          ? el('button', {
              type: 'button',
              className: 'button-secondary button-small',
              'aria-describedby': messageId,
              text: format(copy.openTopic, { title: str(topicByName(name).title) }),
              onclick: () => openTopicFromElsewhere(name),
            })
          : null,
      ])
    );
  });
}

ui.findingsRefresh.addEventListener('click', loadFindings);
