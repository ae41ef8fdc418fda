// Browser tests: jasmine specs bundled by esbuild, run in Debian's headless Chromium, which gives real
// WebGL2 and WebGPU through SwiftShader. A custom reporter writes the pass/fail counts for scripts/test.mjs.
import { existsSync, mkdirSync, realpathSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('.', import.meta.url).pathname;
// karma-esbuild writes its entry into the OS temp dir and imports specs relative to it.
process.env.TMPDIR = join(root, '.tmp');
mkdirSync(process.env.TMPDIR, { recursive: true });
process.env.CHROME_BIN ??= '/usr/bin/chromium';
// The shared fixtures (real ONNX / TF.js exports) live next to the repo; specs fetch them from /fixtures/.
const fixtures = join(root, '..', 'shared', 'fixtures');
const fixturesReal = existsSync(fixtures) ? realpathSync(fixtures) : fixtures;

function SummaryReporter(baseReporterDecorator) {
  baseReporterDecorator(this);
  this.onRunComplete = (_browsers, results) => {
    writeFileSync(join(root, '.tmp/karma-summary.json'), JSON.stringify({
      success: results.success, failed: results.failed, skipped: results.skipped ?? 0, error: !!results.error,
    }));
  };
}
SummaryReporter.$inject = ['baseReporterDecorator'];

export default (config) => {
  config.set({
    frameworks: ['jasmine'],
    files: [
      { pattern: 'test/browser/**/*.spec.ts', watched: false },
      { pattern: `${fixturesReal}/**/*`, included: false, served: true, watched: false, nocache: true },
    ],
    proxies: { '/fixtures/': `/absolute${fixturesReal}/` },
    preprocessors: { 'test/browser/**/*.spec.ts': ['esbuild'] },
    esbuild: { target: 'es2022', define: { 'process.env.TEST_SEED': JSON.stringify(process.env.TEST_SEED ?? '') } },
    plugins: ['karma-jasmine', 'karma-chrome-launcher', 'karma-esbuild', { 'reporter:summary': ['type', SummaryReporter] }],
    reporters: ['dots', 'summary'],
    browsers: ['ChromiumSoftwareGPU'],
    customLaunchers: {
      // Not ChromeHeadless: it pins the debugging port to 9222, so two runs could not overlap.
      ChromiumSoftwareGPU: {
        base: 'Chrome',
        flags: ['--headless=new', '--no-sandbox', '--enable-unsafe-webgpu', '--enable-unsafe-swiftshader',
          '--use-angle=swiftshader', '--disable-background-networking', '--disable-component-update',
          '--disable-sync', '--disable-quic', '--no-first-run', '--remote-debugging-port=0'],
      },
    },
    client: { jasmine: { random: false, timeoutInterval: 120000 } },
    browserNoActivityTimeout: 600000,
    browserDisconnectTimeout: 60000,
    captureTimeout: 120000,
    singleRun: true,
    concurrency: 1,
  });
};
