import { el, setText, str } from '../lib/dom.js';
import { format } from '../lib/format.js';
import { loadFindings } from './findings.js';
import { api, editor } from './http.js';
import { POLL_MS, clearAlert, copy, list, setAlert, setStatus, state, timeElement, ui } from './state.js';

// ---- publishing ------------------------------------------------------------------------------------------------
export function runningRun() {
  return state.runs.find((r) => r && r.state === 'running') || null;
}

export function updatePublishButtons() {
  const running = Boolean(runningRun()) || state.watchedRunId !== null;
  ui.publishButton.disabled = running;
  ui.rollbackButton.disabled = running || !state.canRollback;
  ui.publishRunningNote.textContent = running ? copy.publishRunning : '';
}

export function showProgress(run) {
  const percent = Math.max(0, Math.min(100, Number(run.percent) || 0));
  ui.progressBox.hidden = false;
  setText(ui.progressLabel, run.kind === 'rollback' ? copy.progressRollback : copy.progressPublish);
  ui.progress.value = percent;
  ui.progress.textContent = `${Math.round(percent)} %`;
  setText(ui.percent, `${Math.round(percent)} %`);
  const kind = copy.runKind[run.kind] || copy.runKind.publish;
  const stage = copy.runStage[run.stage];
  setText(
    ui.publishDetail,
    str(run.detail) || (stage ? format(copy.runRunningStage, { kind, stage }) : format(copy.runRunning, { kind }))
  );
}

export function hideProgress() {
  ui.progressBox.hidden = true;
  setText(ui.publishDetail, '');
}

/** The result of a finished run; ``quiet``: shown when the page opens, without announcing it. */
export function showRunResult(run, quiet) {
  ui.publishResult.textContent = '';
  if (!run) {
    state.shownRunId = null;
    ui.publishResult.hidden = true;
    return;
  }
  state.shownRunId = run.id;
  const ok = run.state === 'succeeded';
  const kind = run.kind === 'rollback' ? copy.runKind.rollback : copy.runKind.publish;
  ui.publishResult.className = `publish-result ${ok ? 'publish-result--ok' : 'publish-result--failed'}`;
  const outcome = format(ok ? copy.runSucceeded : copy.runFailed, { kind });
  ui.publishResult.appendChild(el('h4', { text: outcome }));
  ui.publishResult.appendChild(el('p', { text: str(run.message) || (ok ? copy.runDone : copy.runNoReason) }));
  const details = list(run.details).map(str).filter(Boolean);
  if (details.length) {
    ui.publishResult.appendChild(el('p', { className: 'result-details-title', text: `${copy.toFix}:` }));
    ui.publishResult.appendChild(el('ul', { className: 'result-details' }, details.map((d) => el('li', { text: d }))));
  }
  ui.publishResult.hidden = false;
  if (quiet) return;
  const message = `${outcome}: ${str(run.message)}`;
  if (ok) {
    setStatus(message);
  } else {
    setStatus(''); // "Julkaisu aloitettu…" is over
    setAlert(message);
  }
}

export function schedulePoll() {
  window.clearTimeout(state.pollTimer);
  state.pollTimer = window.setTimeout(pollRuns, POLL_MS);
}

export async function pollRuns() {
  state.pollTimer = null;
  if (!state.me) return;
  const ok = await loadRuns();
  if (!ok && state.watchedRunId !== null && state.me) {
    setText(ui.publishDetail, copy.runStatusUnknown);
    schedulePoll();
  }
}

/** GET /runs; follows a running run until it ends. Returns false if the list could not be loaded. */
export async function loadRuns() {
  let data;
  try {
    data = await api('GET', editor('/runs'));
  } catch (err) {
    if (state.view === 'publish' && state.watchedRunId === null) setAlert(err.message);
    return false;
  }
  state.runs = list(data.runs).filter((r) => r && typeof r === 'object');
  state.canRollback = Boolean(data.can_rollback);
  const running = runningRun();
  if (running) {
    state.watchedRunId = running.id;
    showProgress(running);
    schedulePoll();
  } else if (state.watchedRunId !== null) {
    const finished = state.runs.find((r) => r.id === state.watchedRunId) || null;
    state.watchedRunId = null;
    hideProgress();
    showRunResult(finished);
    loadFindings();
  } else {
    // Nothing running: the page shows how the latest run ended (also after a reload), never a bar.
    hideProgress();
    const latest = state.runs[0] || null;
    if (latest && latest.id !== state.shownRunId) showRunResult(latest, true);
  }
  renderRuns();
  updatePublishButtons();
  return true;
}

export function renderRuns() {
  ui.runsList.textContent = '';
  ui.runsEmpty.hidden = state.runs.length > 0;
  for (const run of state.runs.slice(0, 20)) {
    const kind = copy.runKind[run.kind] || str(run.kind);
    const details = list(run.details).map(str).filter(Boolean);
    const stateText = copy.runState[run.state] || str(run.state);
    const percent = Math.round(Number(run.percent) || 0);
    ui.runsList.appendChild(
      el('li', { className: `card run run--${str(run.state)}` }, [
        el('h4', { className: 'card-title' }, [`${kind}: `, el('span', { className: 'run-state', text: stateText })]),
        el('dl', { className: 'brief' }, [
          el('div', {}, [el('dt', { text: copy.runStarted }), el('dd', {}, [timeElement(run.created_at)])]),
          run.finished_at
            ? el('div', {}, [el('dt', { text: copy.runFinished }), el('dd', {}, [timeElement(run.finished_at)])])
            : null,
          run.state === 'running'
            ? el('div', {}, [
                el('dt', { text: copy.stage }),
                el('dd', { text: `${copy.runStage[run.stage] || str(run.stage)}, ${percent} %` }),
              ])
            : null,
        ]),
        run.message ? el('p', { text: str(run.message) }) : null,
        details.length
          ? el('details', {}, [
              el('summary', { text: `${copy.toFix} (${details.length})` }),
              el('ul', {}, details.map((d) => el('li', { text: d }))),
            ])
          : null,
      ])
    );
  }
}

export async function startRun(path, kind) {
  clearAlert();
  showRunResult(null);
  ui.publishButton.disabled = true;
  ui.rollbackButton.disabled = true;
  try {
    const data = await api('POST', editor(path));
    const run = data.run || {};
    state.watchedRunId = run.id !== undefined ? run.id : -1;
    state.runs = [run].concat(state.runs.filter((r) => r.id !== run.id));
    showProgress(Object.assign({ kind, percent: 0 }, run));
    renderRuns();
    updatePublishButtons();
    ui.progressBox.focus();
    setStatus(kind === 'rollback' ? copy.rollbackStarted : copy.publishStarted);
    schedulePoll();
  } catch (err) {
    setAlert(err.message);
    await loadRuns(); // 409 run_in_progress: follow the run that is going on
    updatePublishButtons();
  }
}

// No confirmation: a publish with errors stops at its first stage within seconds and lists them.
ui.publishButton.addEventListener('click', () => startRun('/publish', 'publish'));

ui.rollbackButton.addEventListener('click', () => {
  if (!window.confirm(copy.rollbackConfirm)) return;
  startRun('/rollback', 'rollback');
});
