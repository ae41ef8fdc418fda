/**
 * The comparison page. `?autorun` runs the default comparison (smallest model, every available GPU backend)
 * without clicks, then sets <body data-status="done"> (or "error", or "stopped" by the Stop button) and exposes
 * `window.demoResults` (cleared when a run starts).
 * URL parameters preset the form: backends=webgl,webgpu variant=atto size=224 batch=1 iterations=20 warmup=3
 * models=convnext-original,convnext-converted,convfirst profile=0|1 seed=1.
 */
import '../src/index.js';
import { type BackendAvailability, probeBackends, type BackendName } from './lib/backends.js';
import { type ComparisonConfig, type ComparisonResults, isStopped, runComparison } from './lib/comparison.js';
import { mainModelFile, type ModelKey, type OwnModelInput } from './lib/model_sources.js';
import { renderFigures } from './ui/figures.js';
import { renderResults } from './ui/results_table.js';

declare global {
  interface Window { demoResults?: ComparisonResults }
}

const $ = <T extends Element>(sel: string) => document.querySelector(sel) as T;
const form = $<HTMLFormElement>('#controls');
const params = new URLSearchParams(location.search);
let ownModel: OwnModelInput | undefined;
/**
 * Chosen files that hold no model (no .onnx, no .json): Run names them rather than quietly running the built-in
 * models the user had turned away from.
 */
let rejectedFiles: string[] = [];
let results: ComparisonResults | undefined;
/** Backends the URL asked for that cannot run (unknown or unavailable): named when no backend is left. */
let urlBackendProblems: string[] = [];
/** Whether this browser runs WebGPU: the figures' message words its advice by it. */
let webgpu: BackendAvailability | undefined;
/** Stops the comparison in progress (the Stop button); undefined when none runs. */
let stopper: AbortController | undefined;

function setStatus(status: 'idle' | 'running' | 'done' | 'error' | 'stopped', message?: string): void {
  document.body.dataset.status = status;
  const err = $<HTMLParagraphElement>('#error');
  err.hidden = status !== 'error';
  err.textContent = status === 'error' ? message ?? 'failed' : '';
}

function log(line: string): void {
  const li = document.createElement('li');
  li.textContent = line;
  $<HTMLOListElement>('#log').append(li);
  li.scrollIntoView({ block: 'nearest' });
}

async function setUpBackends(): Promise<BackendName[]> {
  const box = $<HTMLDivElement>('#backends');
  const avail = await probeBackends();
  webgpu = avail.find((b) => b.name === 'webgpu');
  const wanted = params.get('backends')?.split(',');
  // Named in the error readConfig gives when none is left: silently dropping them left "choose a backend" unexplained.
  urlBackendProblems = (wanted ?? []).filter((w) => !avail.some((b) => b.name === w && b.available)).map((w) => {
    const b = avail.find((a) => a.name === w);
    return b == null ? `unknown backend '${w}' in the URL (known: ${avail.map((a) => a.name).join(', ')})` :
      `backend '${w}' is not available here (${b.reason})`;
  });
  for (const b of avail) {
    const label = document.createElement('label');
    const input = Object.assign(document.createElement('input'), { type: 'checkbox', name: 'backend', value: b.name });
    input.disabled = !b.available;
    input.checked = b.available && (wanted ? wanted.includes(b.name) : b.name !== 'cpu');
    label.append(input, ` ${b.name}`);
    if (!b.available) {
      label.classList.add('disabled');
      label.title = b.reason ?? '';
      const why = Object.assign(document.createElement('span'), { className: 'reason', textContent: `(${b.reason})` });
      label.append(' ', why);
    }
    box.append(label);
  }
  return avail.filter((b) => b.available && b.name !== 'cpu').map((b) => b.name);
}

function presetForm(): void {
  for (const name of ['variant', 'size', 'batch', 'iterations', 'warmup'] as const) {
    const v = params.get(name);
    const el = form.elements.namedItem(name) as HTMLInputElement | HTMLSelectElement | null;
    if (v == null || el == null) continue;
    // A select only takes listed values: an unlisted one from the URL becomes a new option.
    if (el instanceof HTMLSelectElement && ![...el.options].some((o) => o.value === v)) el.add(new Option(v, v));
    el.value = v;
  }
  const models = params.get('models')?.split(',');
  if (models) {
    for (const el of form.querySelectorAll<HTMLInputElement>('input[name=model]')) el.checked = models.includes(el.value);
  }
}

/** The URL's seed (default 1); a value that is not a number is named as typed, not as NaN. */
function urlSeed(): number {
  const text = params.get('seed');
  if (text == null) return 1;
  const seed = Number(text);
  if (text.trim() === '' || !Number.isInteger(seed)) throw new Error(`seed '${text}' in the URL must be an integer`);
  return seed;
}

function readConfig(): ComparisonConfig {
  const get = (n: string) => (form.elements.namedItem(n) as HTMLInputElement).value;
  const int = (n: string, lo: number, hi: number) => {
    const v = Number(get(n));
    if (!Number.isInteger(v) || v < lo || v > hi) throw new Error(`${n} must be an integer from ${lo} to ${hi}`);
    return v;
  };
  const backends = [...form.querySelectorAll<HTMLInputElement>('input[name=backend]:checked')]
    .map((e) => e.value as BackendName);
  if (backends.length === 0) throw new Error(['choose at least one backend', ...urlBackendProblems].join('; '));
  const models = [...form.querySelectorAll<HTMLInputElement>('input[name=model]:checked')].map((e) => e.value as ModelKey);
  if (ownModel == null && rejectedFiles.length > 0) {
    throw new Error(`${rejectedFiles.join(', ')}: no .onnx file or model.json among the chosen files; choose the model ` +
      'file (with its .onnx.data or .bin files), or press "Use the built-in models instead"');
  }
  if (models.length === 0 && ownModel == null) throw new Error('choose at least one model');
  return {
    backends, models, variant: get('variant'), inputSize: int('size', 32, 1024), batch: int('batch', 1, 64),
    iterations: int('iterations', 1, 500), warmup: int('warmup', 0, 50), seed: urlSeed(),
    profile: params.get('profile') !== '0', ownModel,
  };
}

/** The form is read once, when a run starts: while it runs, its controls are disabled and Stop is offered. */
function setRunning(running: boolean): void {
  const stop = $<HTMLButtonElement>('#stop');
  const runButton = $<HTMLButtonElement>('#run');
  $<HTMLFieldSetElement>('#settings').disabled = running;
  runButton.disabled = running;
  // Keyboard users keep a focused control: Run hands focus to Stop and gets it back.
  const stopHadFocus = document.activeElement === stop;
  stop.hidden = !running;
  stop.disabled = !running;
  if (running) stop.focus();
  else if (stopHadFocus) runButton.focus();
}

/** Empties the results card, so that a run that fails or is stopped never shows an earlier run's results. */
function clearResults(emptyText: string): void {
  results = undefined;
  delete window.demoResults;
  $<HTMLButtonElement>('#download').disabled = true;
  renderResults($<HTMLTableSectionElement>('#results tbody'), [], emptyText);
  $<HTMLDivElement>('#figures').replaceChildren();
}

/** The first log line: what runs. A dropped model brings its batch and input size unless they are dynamic. */
function describeRun(config: ComparisonConfig): string {
  const what = config.ownModel ?
    `your model (${config.ownModel.name}) · its own batch and input size (where dynamic: batch ${config.batch}, ` +
      `${config.inputSize}px)` :
    `${config.models.join(', ')} · ${config.variant} · ${config.inputSize}px · batch ${config.batch}`;
  return `${what} · ${config.backends.join(', ')}`;
}

async function run(): Promise<void> {
  if (stopper != null) return;
  const controller = new AbortController();
  stopper = controller;
  setRunning(true);
  clearResults('Running…');
  $<HTMLOListElement>('#log').replaceChildren();
  setStatus('running');
  const started = performance.now();
  const seconds = () => `${((performance.now() - started) / 1000).toFixed(1)} s`;
  try {
    const config = { ...readConfig(), signal: controller.signal };
    log(describeRun(config));
    let lastStage = '';
    results = await runComparison(config, (p) => {
      $<HTMLProgressElement>('#progress').value = p.fraction;
      $<HTMLParagraphElement>('#stage').textContent = p.detail ? `${p.stage}: ${p.detail}` : p.stage;
      if (p.stage !== lastStage || p.stage === 'Uploading weights') log(p.detail ? `${p.stage}: ${p.detail}` : p.stage);
      lastStage = p.stage;
    });
    for (const note of results.notes) log(note);
    renderResults($<HTMLTableSectionElement>('#results tbody'), results.rows);
    renderFigures($<HTMLDivElement>('#figures'), results, webgpu);
    window.demoResults = results;
    $<HTMLButtonElement>('#download').disabled = false;
    log(`finished in ${seconds()}`);
    setStatus('done');
  } catch (e) {
    if (isStopped(e, controller.signal)) {
      // runComparison drops the rows of a stopped run (see ComparisonConfig.signal); the table says so.
      clearResults('Stopped: the partial results were discarded. Press Run to start again.');
      log(`stopped after ${seconds()}`);
      $<HTMLParagraphElement>('#stage').textContent = 'Stopped.';
      setStatus('stopped');
    } else {
      const message = e instanceof Error ? e.message : String(e);
      clearResults('No results: the run failed (see Progress).');
      log(`error: ${message}`);
      $<HTMLParagraphElement>('#stage').textContent = 'Failed.';
      setStatus('error', message);
    }
  } finally {
    stopper = undefined;
    setRunning(false);
  }
}

function stop(): void {
  if (stopper == null || stopper.signal.aborted) return;
  stopper.abort();
  $<HTMLButtonElement>('#stop').disabled = true;
  // An inference is not interrupted: on a slow backend the stop can take one inference's time.
  $<HTMLParagraphElement>('#stage').textContent = 'Stopping after the current step…';
}

function download(): void {
  if (results == null) return;
  const blob = new Blob([JSON.stringify(results, null, 2)], { type: 'application/json' });
  const a = Object.assign(document.createElement('a'), { href: URL.createObjectURL(blob),
    download: `tfjs-block-fusion-${results.startedAt.replace(/[:.]/g, '-')}.json` });
  a.click();
  setTimeout(() => URL.revokeObjectURL(a.href), 1000);
}

function setUpFileDrop(): void {
  const zone = $<HTMLDivElement>('#dropzone');
  const input = $<HTMLInputElement>('#files');
  const clear = $<HTMLButtonElement>('#clear-own');
  const forget = () => {
    ownModel = undefined;
    rejectedFiles = [];
    input.value = '';
    clear.hidden = true;
    $<HTMLParagraphElement>('#own-files').textContent = '';
  };
  const take = (files: FileList | null) => {
    // An emptied picker (or a cancelled choice) forgets the model: the checked built-in models run again.
    if (files == null || files.length === 0) { forget(); return; }
    const list = [...files];
    const main = mainModelFile(list);
    if (main == null) {
      ownModel = undefined;
      rejectedFiles = list.map((f) => f.name);
      clear.hidden = false;
      $<HTMLParagraphElement>('#own-files').textContent =
        `${rejectedFiles.join(', ')}: expected an .onnx file or a model.json (with its .bin shards).`;
      return;
    }
    ownModel = { name: main.name, files: list };
    rejectedFiles = [];
    clear.hidden = false;
    $<HTMLParagraphElement>('#own-files').textContent =
      `Will convert ${main.name}${list.length > 1 ? ` (+${list.length - 1} files)` : ''}. Press Run.`;
  };
  input.addEventListener('change', () => take(input.files));
  clear.addEventListener('click', forget);
  // The zone is focusable: Enter or Space opens the file chooser, as a click on "choose files" does.
  zone.addEventListener('keydown', (e) => {
    if (e.target === zone && (e.key === 'Enter' || e.key === ' ')) { e.preventDefault(); input.click(); }
  });
  zone.addEventListener('dragover', (e) => { e.preventDefault(); zone.classList.add('over'); });
  zone.addEventListener('dragleave', () => zone.classList.remove('over'));
  zone.addEventListener('drop', (e) => {
    e.preventDefault();
    zone.classList.remove('over');
    // A drop is no control of the disabled form: while a run reads nothing, a new file would be silently ignored.
    if (stopper == null) take(e.dataTransfer?.files ?? null);
  });
}

async function start(): Promise<void> {
  presetForm();
  const gpu = await setUpBackends();
  setUpFileDrop();
  form.addEventListener('submit', (e) => { e.preventDefault(); void run(); });
  $<HTMLButtonElement>('#download').addEventListener('click', download);
  $<HTMLButtonElement>('#stop').addEventListener('click', stop);
  // Every control is wired from here on (scripts wait for this before they use the form).
  document.body.dataset.ready = 'true';
  if (params.has('autorun')) {
    if (gpu.length === 0 && !params.get('backends')) {
      const message = 'no GPU backend is available in this browser';
      log(`error: ${message}`);
      $<HTMLParagraphElement>('#stage').textContent = 'Failed.';
      setStatus('error', message);
      return;
    }
    await run();
  }
}

start().catch((e) => setStatus('error', e instanceof Error ? e.message : String(e)));
