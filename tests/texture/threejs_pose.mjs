// Load a GLB with three.js's GLTFLoader in Node, as a web page would, and pose it with AnimationMixer.
//   node threejs_pose.mjs THREE_PACKAGE_DIR FILE.glb [TIME ...]
// Prints JSON: what the loader warned about, the skinned meshes, bones, material, clips, the first mesh's
// morph target names, and its skinned vertex positions (world space, three.js's own skinning) at rest, at
// rest with jawOpen at 1 (when it has that target), and at each TIME of the first clip.
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const [threeDir, file, ...times] = process.argv.slice(2);
const THREE = await import(pathToFileURL(path.join(threeDir, 'build', 'three.module.js')).href);
const { GLTFLoader } = await import(pathToFileURL(path.join(threeDir, 'examples', 'jsm', 'loaders',
                                                            'GLTFLoader.js')).href);
const problems = [];
for (const level of ['warn', 'error']) {
  console[level] = (...a) => problems.push(`${level}: ${a.map(String).join(' ')}`);
}
globalThis.self = globalThis;  // GLTFLoader reads self.URL for embedded images
// Node has fetch, Blob and blob: URLs but no image decoder: the "bitmap" is the PNG's header size
globalThis.createImageBitmap = async (blob) => {
  const b = new DataView(await blob.arrayBuffer());
  if (b.byteLength < 24 || b.getUint32(0) !== 0x89504e47) throw new Error('embedded image is not a PNG');
  return { width: b.getUint32(16), height: b.getUint32(20), close() {} };
};

const data = fs.readFileSync(file);
const gltf = await new GLTFLoader().parseAsync(data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength), '');
const skinned = [];
gltf.scene.traverse((o) => { if (o.isSkinnedMesh) skinned.push(o); });
const out = { problems, skinned_meshes: skinned.length,
              clips: gltf.animations.map((c) => ({ name: c.name, duration: c.duration, tracks: c.tracks.length })) };
if (skinned.length) {
  const mesh = skinned[0];
  const pos = mesh.geometry.attributes.position;
  const skinnedPositions = () => {
    gltf.scene.updateMatrixWorld(true);
    mesh.skeleton.update();
    const v = new THREE.Vector3();
    const xyz = [];
    for (let i = 0; i < pos.count; i++) {
      v.fromBufferAttribute(pos, i);
      mesh.applyBoneTransform(i, v).applyMatrix4(mesh.matrixWorld);
      xyz.push([v.x, v.y, v.z]);
    }
    return xyz;
  };
  const map = mesh.material.map;
  out.bones = mesh.skeleton.bones.map((b) => b.name);
  out.material = { type: mesh.material.type, map: map ? [map.image.width, map.image.height] : null,
                   color_space: map ? map.colorSpace : null };
  out.rest = skinnedPositions();
  const dict = mesh.morphTargetDictionary ?? {};
  out.morph_names = Object.keys(dict).sort((a, b) => dict[a] - dict[b]);
  if ('jawOpen' in dict) {  // the mouth open at rest: morphs, then skinning (getVertexPosition does both)
    mesh.morphTargetInfluences[dict.jawOpen] = 1;
    gltf.scene.updateMatrixWorld(true);
    mesh.skeleton.update();
    const v = new THREE.Vector3();
    out.jaw_open = [];
    for (let i = 0; i < pos.count; i++) {
      mesh.getVertexPosition(i, v).applyMatrix4(mesh.matrixWorld);
      out.jaw_open.push([v.x, v.y, v.z]);
    }
    mesh.morphTargetInfluences[dict.jawOpen] = 0;
  }
  out.posed = [];
  if (gltf.animations.length) {
    const mixer = new THREE.AnimationMixer(gltf.scene);
    mixer.clipAction(gltf.animations[0]).play();
    for (const t of times) {
      mixer.setTime(Number(t));
      out.posed.push(skinnedPositions());
    }
  }
}
process.stdout.write(JSON.stringify(out));
