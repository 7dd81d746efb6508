// Load a VRM 1.0 (or 0.x) file with three.js's GLTFLoader + @pixiv/three-vrm's VRMLoaderPlugin in Node, as a
// web viewer would, and print what three-vrm sees as one JSON object.
//   node threevrm_probe.mjs NODE_MODULES_DIR FILE.vrm [--every K] [SCENARIO ...]
// NODE_MODULES_DIR holds both `three` and `@pixiv/three-vrm` (texture.gltf.validate.node_dir()/node_modules).
// Bare imports: three-vrm's module build and GLTFLoader.js `import ... from "three"`; Node's ESM resolver walks up
// from their files to NODE_MODULES_DIR/three and takes its "import" export (build/three.module.js). This script
// imports the same file by its real path, so there is ONE three module instance (checked: `problems` says so if not).
// SCENARIO (the "rest" scenario always comes first; several ops can be joined with "+"):
//   expr:NAME[=W]            expression NAME at weight W (default 1), every other expression 0
//   bone:NAME:AXIS:DEGREES   the NORMALIZED human bone NAME rotated about its local AXIS (x|y|z) by DEGREES; normalized
//                            bones have world-aligned axes at rest (VRM 1.0: model faces +Z, its left is +X)
//   sim:FRAMES               after the other ops, FRAMES more vrm.update(1/60): the spring bones simulate
// Before each scenario: all expressions 0, normalized pose reset to its rest pose, spring bones reset; then the ops,
// vrm.update(0) (raw bones follow the normalized ones; spring bones do not simulate at delta 0), the sim frames,
// scene.updateMatrixWorld(true).
// Output: {versions, problems, error, vrm, meta, humanBones, humanBoneNodes, expressions, lookAt, springJoints,
//          every, probes: {SCENARIO: [{name, node, mesh, primitive, skinned, count, positions}] | null},
//          springs: {SCENARIO: {JOINT_NODE_NAME: [x, y, z] world}}}
// positions: world-space x,y,z (morphs + skinning applied) of vertices 0, K, 2K, ... (count = all vertices), 1e-6.
// Exit status 0 when the file loaded (vrm may still be null), 1 when loading threw (`error` says why), 2 usage.
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const args = process.argv.slice(2);
if (args.length < 2) {
  process.stderr.write('usage: node threevrm_probe.mjs NODE_MODULES_DIR FILE.vrm [--every K] [SCENARIO ...]\n');
  process.exit(2);
}
const [nodeModules, file, ...rest] = args;
let every = 1;
const scenarios = ['rest'];
for (let i = 0; i < rest.length; i++) {
  if (rest[i] === '--every') {
    every = Number(rest[++i]);
    if (!Number.isInteger(every) || every < 1) {
      process.stderr.write(`--every needs a positive integer, got ${rest[i]}\n`);
      process.exit(2);
    }
  } else if (rest[i] !== 'rest') {
    scenarios.push(rest[i]);
  }
}

const root = fs.realpathSync(nodeModules);  // realpath: the URL must equal what Node resolves "three" to
const moduleUrl = (pkg, sub) => pathToFileURL(fs.realpathSync(path.join(root, pkg, sub))).href;
const vrmPkg = JSON.parse(fs.readFileSync(path.join(root, '@pixiv', 'three-vrm', 'package.json'), 'utf8'));
const THREE = await import(moduleUrl('three', path.join('build', 'three.module.js')));
const { GLTFLoader } = await import(moduleUrl('three', path.join('examples', 'jsm', 'loaders', 'GLTFLoader.js')));
const { VRMLoaderPlugin } = await import(moduleUrl(path.join('@pixiv', 'three-vrm'), vrmPkg.exports['.'].import));

const problems = [];
for (const level of ['warn', 'error']) {
  console[level] = (...a) => problems.push(`${level}: ${a.map((x) => (x && x.stack) || String(x)).join(' ')}`);
}
globalThis.self = globalThis;  // GLTFLoader reads self.URL for embedded images
// Node has fetch, Blob and blob: URLs but no image decoder: the "bitmap" is the PNG's header size
globalThis.createImageBitmap = async (blob) => {
  const b = new DataView(await blob.arrayBuffer());
  if (b.byteLength < 24 || b.getUint32(0) !== 0x89504e47) throw new Error('embedded image is not a PNG');
  return { width: b.getUint32(16), height: b.getUint32(20), close() {} };
};

const out = { versions: { three: THREE.REVISION, threeVrm: vrmPkg.version }, problems, error: null, vrm: null,
              meta: null, humanBones: null, humanBoneNodes: null, expressions: null, lookAt: null,
              springJoints: null, every, probes: {} };
const finish = (code) => {
  process.stdout.write(JSON.stringify(out));
  process.exitCode = code;
};

const data = fs.readFileSync(file);
const loader = new GLTFLoader();
loader.register((parser) => new VRMLoaderPlugin(parser));
let gltf;
try {
  gltf = await loader.parseAsync(data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength), '');
} catch (e) {
  out.error = String((e && e.message) || e);
  finish(1);
}

const vrm = gltf && gltf.userData.vrm;
if (vrm) {
  const assoc = gltf.parser.associations;
  const m = vrm.meta;
  out.vrm = { metaVersion: m.metaVersion, sameThree: vrm.scene instanceof THREE.Object3D &&
              vrm.humanoid.normalizedHumanBonesRoot instanceof THREE.Object3D };
  if (!out.vrm.sameThree) problems.push('error: three-vrm resolved another copy of three than the probe imported');
  const pick = (...keys) => { for (const k of keys) if (m[k] !== undefined) return m[k]; return null; };
  out.meta = { metaVersion: m.metaVersion, name: pick('name', 'title'), version: pick('version'),
               authors: m.authors ?? (m.author != null ? [m.author] : null),
               licenseUrl: pick('licenseUrl', 'otherLicenseUrl'), avatarPermission: pick('avatarPermission'),
               commercialUsage: pick('commercialUsage', 'commercialUssageName'),
               allowRedistribution: pick('allowRedistribution'), modification: pick('modification'),
               creditNotation: pick('creditNotation') };
  out.humanBones = {};
  out.humanBoneNodes = {};
  for (const [bone, hb] of Object.entries(vrm.humanoid.humanBones)) {  // the RAW humanoid: the file's own nodes
    if (!hb || !hb.node) continue;
    out.humanBones[bone] = hb.node.name;
    out.humanBoneNodes[bone] = assoc.get(hb.node)?.nodes ?? null;  // the glTF node index
  }
  const em = vrm.expressionManager;
  out.expressions = em ? Object.keys(em.expressionMap) : null;
  out.lookAt = vrm.lookAt ? { type: vrm.lookAt.applier?.constructor?.type ?? null,
                              offsetFromHeadBone: vrm.lookAt.offsetFromHeadBone.toArray() } : null;
  out.springJoints = vrm.springBoneManager ? vrm.springBoneManager.joints.size : null;

  const meshes = [];
  vrm.scene.traverse((o) => { if (o.isMesh) meshes.push(o); });
  const axes = { x: new THREE.Vector3(1, 0, 0), y: new THREE.Vector3(0, 1, 0), z: new THREE.Vector3(0, 0, 1) };
  const reset = () => {
    if (em) for (const name of Object.keys(em.expressionMap)) em.setValue(name, 0);
    vrm.humanoid.resetNormalizedPose();
    vrm.update(0);
    vrm.scene.updateMatrixWorld(true);
    if (vrm.springBoneManager) vrm.springBoneManager.reset();
  };
  let frames = 0;
  const apply = (op) => {  // null when fine, else why the op cannot be applied
    let mm;
    if ((mm = /^expr:(.+?)(?:=([-+0-9.eE]+))?$/.exec(op))) {
      if (!em || !em.getExpression(mm[1])) return `no expression ${mm[1]}`;
      em.setValue(mm[1], mm[2] === undefined ? 1 : Number(mm[2]));
    } else if ((mm = /^bone:([A-Za-z]+):([xyz]):([-+0-9.eE]+)$/.exec(op))) {
      const node = vrm.humanoid.getNormalizedBoneNode(mm[1]);
      if (!node) return `no normalized human bone ${mm[1]}`;
      node.quaternion.multiply(new THREE.Quaternion().setFromAxisAngle(axes[mm[2]], Number(mm[3]) * Math.PI / 180));
    } else if ((mm = /^sim:([0-9]+)$/.exec(op))) {
      frames += Number(mm[1]);
    } else {
      return 'not expr:NAME[=W], bone:NAME:x|y|z:DEGREES or sim:FRAMES';
    }
    return null;
  };
  const round = (x) => Math.round(x * 1e6) / 1e6 + 0;  // + 0: no -0 in the JSON
  const v = new THREE.Vector3();
  out.springs = {};
  for (const scenario of scenarios) {
    reset();
    frames = 0;
    const bad = scenario === 'rest' ? [] : scenario.split('+').map((op) => [op, apply(op)]).filter(([, e]) => e);
    if (bad.length) {
      problems.push(`error: scenario ${scenario}: ${bad.map(([op, e]) => `${op}: ${e}`).join('; ')}`);
      out.probes[scenario] = null;
      continue;
    }
    vrm.update(0);
    for (let f = 0; f < frames; f++) vrm.update(1 / 60);
    vrm.scene.updateMatrixWorld(true);
    out.springs[scenario] = {};
    for (const joint of vrm.springBoneManager ? vrm.springBoneManager.joints : []) {
      joint.bone.getWorldPosition(v);
      out.springs[scenario][joint.bone.name] = [round(v.x), round(v.y), round(v.z)];
    }
    out.probes[scenario] = meshes.map((mesh) => {
      const count = mesh.geometry.attributes.position.count;
      const positions = [];
      for (let i = 0; i < count; i += every) {
        mesh.getVertexPosition(i, v).applyMatrix4(mesh.matrixWorld);  // morphs, then (SkinnedMesh) bones
        positions.push(round(v.x), round(v.y), round(v.z));
      }
      const a = assoc.get(mesh) ?? {};
      return { name: mesh.name, node: a.nodes ?? null, mesh: a.meshes ?? null, primitive: a.primitives ?? null,
               skinned: !!mesh.isSkinnedMesh, count, positions };
    });
  }
  reset();
}
if (gltf) finish(0);
