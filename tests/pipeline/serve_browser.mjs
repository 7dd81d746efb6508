// Drive `avatarforge serve` in a real headless Chromium (playwright-core), as a user would, and print one JSON
// object of what was seen. Screenshots and the downloaded avatar go in OUT_DIR; tests/pipeline/test_serve.py
// judges them (pixels, the validator, the GLB's own clip list).
//
//   node serve_browser.mjs URL OUT_DIR            (NODE_MODULES_DIR holds playwright-core; CHROMIUM the browser)
import { createRequire } from 'node:module';
import fs from 'node:fs';
import path from 'node:path';

const [url, outDir] = process.argv.slice(2);
const require = createRequire(path.join(process.env.NODE_MODULES_DIR, 'noop.js'));
const { chromium } = require('playwright-core');
const origin = new URL(url).origin;
const out = { outside: [], console: [], pageErrors: [] };
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM, headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--use-angle=swiftshader', '--enable-unsafe-swiftshader', '--disable-quic',
    '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
try {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, acceptDownloads: true });
  const page = await context.newPage();
  // the page must fetch nothing from outside the app: any such request is recorded and refused
  await page.route('**/*', (route) => {
    const u = route.request().url();
    if (u.startsWith(origin) || u.startsWith('blob:') || u.startsWith('data:')) return route.continue();
    out.outside.push(u);
    return route.abort();
  });
  page.on('console', (m) => { if (m.type() === 'error') out.console.push(m.text()); });
  page.on('pageerror', (e) => out.pageErrors.push(String(e)));
  await page.goto(url);
  await page.waitForSelector('body[data-app=ready]', { timeout: 30000 });

  // the job after `previous` is over and, if it made an avatar, the viewer shows it
  const finished = (previous) => page.waitForFunction((prev) => {
    const s = document.getElementById('status').dataset;
    if (!s.job || s.job === prev) return false;
    if (s.state === 'failed' || s.state === 'cancelled') return true;
    return s.state === 'done' && document.body.dataset.viewer === 'ready';
  }, previous, { timeout: 300000 });

  // 1. a prompt, Generate, the viewer
  await page.fill('#prompt', 'a tall knight in a red poncho');
  await page.fill('#steps', '0');
  const t0 = Date.now();
  await page.click('#go');
  await finished(null);
  out.generateToViewerMs = Date.now() - t0;
  await page.uncheck('#grid');
  await page.waitForTimeout(600);
  const canvas = page.locator('#viewer');
  await canvas.screenshot({ path: path.join(outDir, 'still.png') });
  out.clips = await page.evaluate(() => window.avatarforge.clips);
  out.clipOptions = await page.$$eval('#clip option', (os) => os.map((o) => o.textContent));
  out.morphs = await page.evaluate(() => window.avatarforge.morphs.length);
  out.statusLine = await page.textContent('#status-line');
  out.understood = await page.textContent('#understood');
  const wave = out.clipOptions.indexOf('wave');
  await page.selectOption('#clip', String(wave >= 0 ? wave : 0));
  await page.click('#play');
  await page.waitForTimeout(1200);
  await canvas.screenshot({ path: path.join(outDir, 'playing.png') });
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('#downloads a[data-file=avatar]')]);
  await download.saveAs(path.join(outDir, 'downloaded.glb'));
  out.downloadName = download.suggestedFilename();

  // 2. a hostile prompt: shown as text, never run
  const hostile = '<img src=x onerror="window.pwned=1"><script>window.pwned=2</script> a short wizard';
  await page.fill('#prompt', hostile);
  const before = await page.getAttribute('#status', 'data-job');
  await page.click('#go');
  await finished(before);
  await page.waitForFunction((h) => [...document.querySelectorAll('#gallery .card span')].some((x) => x.textContent.includes(h)),
    hostile, { timeout: 30000 }).catch(() => {});
  out.hostile = hostile;
  out.hostileState = await page.getAttribute('#status', 'data-state');
  out.hostileTitle = await page.textContent('#result-title');
  out.hostileGallery = await page.$$eval('#gallery .card span', (s) => s.map((x) => x.textContent));
  out.pwned = await page.evaluate(() => window.pwned ?? null);
  out.injected = await page.$$eval('#stage img, #gallery img', (imgs) => imgs.filter((i) => i.getAttribute('src') === 'x').length);
  await page.screenshot({ path: path.join(outDir, 'page.png') });
} catch (e) {
  out.error = String(e && e.stack || e);
} finally {
  await browser.close();
}
process.stdout.write(JSON.stringify(out));
