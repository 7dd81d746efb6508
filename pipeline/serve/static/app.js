// avatarforge serve: the page. Every string that came from a user (prompts, file names, errors) reaches the
// DOM through textContent or an attribute set by setAttribute, never as HTML.
import * as THREE from 'three';
import { GLTFLoader } from 'three/addons/loaders/GLTFLoader.js';
import { OrbitControls } from 'three/addons/controls/OrbitControls.js';

const $ = (id) => document.getElementById(id);
const BACKGROUND = 0x262a33;

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === 'class') node.className = v; else node.setAttribute(k, v);
  }
  for (const c of children) node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return node;
}

async function api(url, options) {
  const r = await fetch(url, options);
  let body = null;
  try { body = await r.json(); } catch (e) { body = null; }
  if (!r.ok) throw new Error((body && body.error) || `${r.status} ${r.statusText}`);
  return body;
}

// ------------------------------------------------------------------ viewer
const canvas = $('viewer');
const renderer = new THREE.WebGLRenderer({ canvas, antialias: true, preserveDrawingBuffer: true });
renderer.setPixelRatio(Math.min(window.devicePixelRatio, 2));
renderer.outputColorSpace = THREE.SRGBColorSpace;
const scene = new THREE.Scene();
scene.background = new THREE.Color(BACKGROUND);
scene.add(new THREE.HemisphereLight(0xffffff, 0x444455, 2.2));
const sun = new THREE.DirectionalLight(0xffffff, 2.0);
sun.position.set(2, 4, 3);
scene.add(sun);
const camera = new THREE.PerspectiveCamera(35, 1, 0.01, 100);
const controls = new OrbitControls(camera, canvas);
controls.enableDamping = true;
const grid = new THREE.GridHelper(4, 16, 0x7a8194, 0x434a58);
scene.add(grid);
const clock = new THREE.Clock();
let model = null, mixer = null, clips = [], action = null, home = null, morphMeshes = [];

const viewer = { ready: false, url: null, clips: [], morphs: [], frames: 0, error: null };
window.avatarforge = viewer;  // what the browser test reads

function resize() {
  const w = canvas.clientWidth, h = canvas.clientHeight;
  if (canvas.width !== Math.floor(w * renderer.getPixelRatio()) || canvas.height !== Math.floor(h * renderer.getPixelRatio())) {
    renderer.setSize(w, h, false);
    camera.aspect = w / Math.max(h, 1);
    camera.updateProjectionMatrix();
  }
}

function frame() {
  resize();
  const dt = clock.getDelta();
  if (mixer) mixer.update(dt);
  controls.update();
  renderer.render(scene, camera);
  viewer.frames += 1;
  requestAnimationFrame(frame);
}
requestAnimationFrame(frame);

function frameModel() {
  if (!home) return;
  camera.position.copy(home.position);
  controls.target.copy(home.target);
  controls.update();
}

function setWireframe(on) {
  if (!model) return;
  model.traverse((o) => {
    if (o.isMesh) for (const m of [].concat(o.material)) m.wireframe = on;
  });
}

function loadAvatar(url) {
  viewer.ready = false;
  viewer.url = url;
  document.body.dataset.viewer = 'loading';
  return new Promise((resolve, reject) => {
    new GLTFLoader().load(url, (gltf) => {
      if (model) scene.remove(model);
      model = gltf.scene;
      // feet on the grid, centred on the vertical axis
      const box = new THREE.Box3().setFromObject(model);
      const size = box.getSize(new THREE.Vector3()), centre = box.getCenter(new THREE.Vector3());
      model.position.set(-centre.x, -box.min.y, -centre.z);
      scene.add(model);
      const height = Math.max(size.y, 0.1);
      const dist = (height * 0.62) / Math.tan(THREE.MathUtils.degToRad(camera.fov / 2));
      home = { position: new THREE.Vector3(0, height * 0.55, dist), target: new THREE.Vector3(0, height * 0.5, 0) };
      frameModel();
      setWireframe($('wire').checked);
      mixer = new THREE.AnimationMixer(model);
      clips = gltf.animations;
      action = null;
      const select = $('clip');
      select.replaceChildren(...clips.map((c, i) => el('option', { value: String(i) }, c.name || `clip ${i + 1}`)));
      $('play').disabled = !clips.length;
      $('play').textContent = 'Play';
      setupMorphs();
      viewer.clips = clips.map((c) => c.name);
      viewer.ready = true;
      document.body.dataset.viewer = 'ready';
      resolve(gltf);
    }, undefined, (e) => { viewer.error = String(e && e.message || e); reject(e); });
  });
}

function setupMorphs() {
  morphMeshes = [];
  const names = new Set();
  model.traverse((o) => {
    if (o.isMesh && o.morphTargetDictionary) {
      morphMeshes.push(o);
      Object.keys(o.morphTargetDictionary).forEach((n) => names.add(n));
    }
  });
  viewer.morphs = [...names];
  const box = $('morphs');
  box.replaceChildren(...viewer.morphs.map((name) => {
    const input = el('input', { type: 'range', min: '0', max: '1', step: '0.01', value: '0' });
    input.addEventListener('input', () => {
      for (const m of morphMeshes) {
        const i = m.morphTargetDictionary[name];
        if (i !== undefined) m.morphTargetInfluences[i] = Number(input.value);
      }
    });
    return el('label', {}, name, input);
  }));
  $('morphs-box').hidden = !viewer.morphs.length;
}

$('grid').addEventListener('change', (e) => { grid.visible = e.target.checked; });
$('wire').addEventListener('change', (e) => setWireframe(e.target.checked));
$('reset').addEventListener('click', frameModel);
$('play').addEventListener('click', () => {
  if (!mixer || !clips.length) return;
  if (action && action.isRunning()) {
    action.stop();
    $('play').textContent = 'Play';
    return;
  }
  mixer.stopAllAction();
  action = mixer.clipAction(clips[Number($('clip').value) || 0]);
  action.reset().play();
  $('play').textContent = 'Stop';
});
$('clip').addEventListener('change', () => { if (action && action.isRunning()) { action.stop(); $('play').click(); } });

// ------------------------------------------------------------------ result panel
function fmt(v) {
  if (v === null || v === undefined) return '';
  if (typeof v === 'number') return Number.isInteger(v) ? String(v) : v.toFixed(2);
  if (Array.isArray(v)) return v.map(fmt).join(', ');
  if (typeof v === 'object') return Object.entries(v).filter(([, x]) => x !== null && x !== '' && !(Array.isArray(x) && !x.length)).map(([k, x]) => `${k}: ${fmt(x)}`).join('; ');
  return String(v);
}

function showResult(result, params) {
  const s = result.summary || {};
  $('result').hidden = false;
  $('result-title').textContent = `“${s.prompt || params.prompt}” (seed ${s.seed ?? params.seed})`;
  const files = result.files;
  const links = [['avatar', (result.name || '').endsWith('.vrm') ? 'VRM' : 'GLB'], ['sidecar', 'sidecar JSON'], ['preview', 'preview PNG']];
  $('downloads').replaceChildren(...links.filter(([k]) => files[k]).map(([k, label]) =>
    el('a', { href: files[k] + '?download=1', download: '', 'data-file': k }, label)));
  const u = s.understood || {}, t = u.template || {}, report = u.report;
  const rows = [];
  if (report && report.attributes && report.attributes.length) {  // the generator's own report (pipeline/understood.py)
    for (const a of report.attributes) {
      const how = a.confidence === null || a.confidence === undefined ? a.source : Number(a.confidence).toFixed(2);
      rows.push([a.attribute, `${a.value} (${how})`]);
    }
  } else {
    if (u.height_m) rows.push(['height', `${Number(u.height_m).toFixed(2)} m`]);
    const shape = Object.entries(t.shape || {}).filter(([k]) => k !== 'height');
    if (shape.length) rows.push(['build', shape.map(([k, v]) => `${k} ${fmt(v)}`).join(', ')]);
    const words = (v) => typeof v === 'string' || (Array.isArray(v) && v.every((x) => typeof x === 'string'));
    for (const [k, v] of Object.entries(t.layout || {})) if (words(v)) rows.push([k, fmt(v) || 'none']);
  }
  if (report && report.note) rows.unshift(['read by', report.note]);
  for (const w of (report && report.unused) || []) rows.push([`not used: “${w.word}”`, w.reason]);
  rows.push(['mesh', `${s.triangles} triangles, ${s.joints} joints`]);
  if (s.clip_score) rows.push(['CLIP score', `${fmt(s.clip_score.initial)} → ${fmt(s.clip_score.final)}`]);
  if (s.timings_s) rows.push(['time', `${fmt(s.timings_s.total)} s`]);
  $('understood').replaceChildren(...rows.flatMap(([k, v]) => [el('dt', {}, k), el('dd', {}, v)]));
  $('warnings').replaceChildren(...(s.warnings || []).map((w) => el('li', {}, w)));
  $('preview').src = files.preview;
  return loadAvatar(files.avatar);
}

// ------------------------------------------------------------------ jobs
function describe(job) {
  const what = job.kind === 'batch' ? `batch ${job.params.prompts_name || ''}` : `“${job.params.prompt}”`;
  if (job.state === 'queued') return `${what}: waiting, position ${job.position} in the queue`;
  if (job.state === 'running') {
    let line = `${what}: ${job.stage || 'starting'}`;
    if (job.steps && (job.stage === 'optimize' || job.kind === 'batch')) line += ` ${job.step}/${job.steps}`;
    if (job.clip_score !== null && job.kind === 'generate') line += `, CLIP score ${job.clip_score.toFixed(3)}`;
    return line;
  }
  if (job.state === 'done') return `${what}: done in ${job.elapsed_s} s`;
  if (job.state === 'cancelled') return `${what}: cancelled`;
  return `${what}: failed: ${job.error}`;
}

function follow(job, ui, onDone) {
  ui.cancel.disabled = false;
  ui.cancel.onclick = () => api(`/api/jobs/${job.id}/cancel`, { method: 'POST' }).catch((e) => { ui.error.textContent = e.message; });
  const source = new EventSource(`/api/jobs/${job.id}/events`);
  source.onmessage = async (ev) => {
    const j = JSON.parse(ev.data);
    ui.status.dataset.job = j.id;
    ui.status.dataset.state = j.state;
    ui.status.dataset.position = String(j.position);
    ui.line.textContent = describe(j);
    ui.bar.max = Math.max(j.steps || 1, 1);
    ui.bar.value = j.state === 'done' ? ui.bar.max : (j.step || 0);
    if (ui.log) ui.log.replaceChildren(...j.log.map(([t, m]) => el('li', {}, `${t.toFixed(1)} s  ${m}`)));
    if (['done', 'failed', 'cancelled'].includes(j.state)) {
      source.close();
      ui.cancel.disabled = true;
      ui.go.disabled = false;
      if (j.state === 'failed') ui.error.textContent = j.error;
      if (j.state === 'done') await onDone(j);
    }
  };
  source.onerror = () => { if (source.readyState === EventSource.CLOSED) ui.go.disabled = false; };
}

const createUi = { status: $('status'), line: $('status-line'), bar: $('bar'), log: $('log'), cancel: $('cancel'), go: $('go'), error: $('error') };
const batchUi = { status: $('batch-status'), line: $('batch-line'), bar: $('batch-bar'), log: null, cancel: $('batch-cancel'), go: $('batch-go'), error: $('batch-error') };

function formData(form) {
  const data = new FormData(form);
  for (const [k, v] of [...data.entries()]) {
    if (v === '' || (v instanceof File && !v.name)) data.delete(k);
  }
  return data;
}

$('create').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  createUi.error.textContent = '';
  createUi.go.disabled = true;
  try {
    const job = await api('/api/generate', { method: 'POST', body: formData(ev.target) });
    createUi.line.textContent = describe(job);
    follow(job, createUi, async (j) => { await showResult(j.result, j.params); refreshGallery(); });
  } catch (e) {
    createUi.error.textContent = e.message;
    createUi.go.disabled = false;
  }
});

$('batch').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  batchUi.error.textContent = '';
  batchUi.go.disabled = true;
  $('batch-links').replaceChildren();
  $('batch-items').replaceChildren();
  try {
    const job = await api('/api/batch', { method: 'POST', body: formData(ev.target) });
    follow(job, batchUi, (j) => {
      const r = j.result;
      $('batch-line').textContent = `${describe(j)}: ${r.ok} ok, ${r.failed} failed`;
      $('batch-links').replaceChildren(el('a', { href: r.files.index, target: '_blank', rel: 'noopener' }, 'contact sheet'),
        el('a', { href: r.files.zip + '?download=1', download: '' }, 'download zip'));
      $('batch-items').replaceChildren(...r.items.map((it) => {
        const open = el('button', { type: 'button' }, 'view');
        open.disabled = !it.files.avatar;
        open.addEventListener('click', () => showResult({ files: it.files, name: it.files.avatar || '', summary: { prompt: it.prompt } }, {}));
        return el('tr', {}, el('td', {}, String(it.line)), el('td', {}, it.prompt || ''), el('td', {}, it.status === 'ok' ? 'ok' : `failed: ${it.error}`), el('td', {}, open));
      }));
    });
  } catch (e) {
    batchUi.error.textContent = e.message;
    batchUi.go.disabled = false;
  }
});

async function refreshGallery() {
  const g = await api('/api/gallery');
  $('gallery').replaceChildren(...g.avatars.map((j) => {
    const card = el('button', { type: 'button', class: 'card' }, el('img', { src: j.result.files.preview, alt: '' }), el('span', {}, j.params.prompt));
    card.addEventListener('click', () => showResult(j.result, j.params));
    return card;
  }));
}

for (const tab of document.querySelectorAll('nav .tab')) {
  tab.addEventListener('click', () => {
    document.querySelectorAll('nav .tab').forEach((t) => t.classList.toggle('active', t === tab));
    document.querySelectorAll('.pane').forEach((p) => p.classList.toggle('active', p.id === tab.dataset.tab));
  });
}

(async () => {
  try {
    const info = await api('/api/info');
    $('version').textContent = `avatarforge ${info.version}`;
    for (const id of ['preset', 'batch-preset']) {
      $(id).replaceChildren(...info.presets.map((p) => el('option', { value: p }, p)));
      $(id).value = info.preset;
    }
    const hint = () => { $('steps').placeholder = String(info.steps[$('preset').value] ?? ''); };
    const bhint = () => { $('batch-steps').placeholder = String(info.steps[$('batch-preset').value] ?? ''); };
    $('preset').addEventListener('change', hint); $('batch-preset').addEventListener('change', bhint);
    hint(); bhint();
    $('steps').max = $('batch-steps').max = String(info.max_steps);
    $('prompt').maxLength = info.max_prompt_chars;
    $('library').replaceChildren(...info.libraries.map((l) => el('option', { value: l }, l === 'default' ? 'shipped swatches' : l)));
    document.body.dataset.app = 'ready';
    refreshGallery();
  } catch (e) {
    createUi.error.textContent = `cannot reach the server: ${e.message}`;
  }
})();
