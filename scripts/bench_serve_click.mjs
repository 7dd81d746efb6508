// Time `avatarforge serve` as a user sees it: from clicking Generate to the avatar drawn in the viewer, in a
// real headless Chromium (playwright-core). Used by scripts/bench_serve.py; prints one JSON list of seconds.
//
//   node bench_serve_click.mjs URL RUNS_JSON     RUNS_JSON: [{"prompt": ..., "steps": "0" | ""}, ...]
//   (NODE_MODULES_DIR holds playwright-core; CHROMIUM is the browser; SCREENSHOT, if set, a PNG path for the page)
import { createRequire } from 'node:module';
import path from 'node:path';

const [url, runsJson] = process.argv.slice(2);
const require = createRequire(path.join(process.env.NODE_MODULES_DIR, 'noop.js'));
const { chromium } = require('playwright-core');
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM, headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--use-angle=swiftshader', '--enable-unsafe-swiftshader', '--disable-quic',
    '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
const seconds = [];
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  await page.goto(url);
  await page.waitForSelector('body[data-app=ready]', { timeout: 30000 });
  for (const run of JSON.parse(runsJson)) {
    await page.fill('#prompt', run.prompt);
    await page.fill('#steps', run.steps);  // '' leaves the preset's steps
    const before = await page.getAttribute('#status', 'data-job');
    const t0 = Date.now();
    await page.click('#go');
    await page.waitForFunction((prev) => {
      const s = document.getElementById('status').dataset;
      return s.job && s.job !== prev && (s.state === 'failed' || s.state === 'cancelled'
        || (s.state === 'done' && document.body.dataset.viewer === 'ready'));
    }, before, { timeout: 600000 });
    const state = await page.getAttribute('#status', 'data-state');
    if (state !== 'done') throw new Error(`${run.prompt}: ${state}: ${await page.textContent('#error')}`);
    seconds.push((Date.now() - t0) / 1000);
  }
  if (process.env.SCREENSHOT) {  // the page with the last avatar in it, for the README
    await page.waitForTimeout(800);
    await page.screenshot({ path: process.env.SCREENSHOT });
  }
} finally {
  await browser.close();
}
process.stdout.write(JSON.stringify(seconds));
