// A real TrustSeal service for the end-to-end test: embedded defaults, a temporary data
// directory, JSON access log (stderr) written to a file the test reads.
import { spawn } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { createWriteStream, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';

// browser-extension/test/e2e/support → the repository root
export const REPO_ROOT = fileURLToPath(new URL('../../../../', import.meta.url));

export function trustsealBin() {
  const bin = process.env.TRUSTSEAL_BIN ?? join(REPO_ROOT, '.venv', 'bin', 'trustseal');
  if (!existsSync(bin)) throw new Error(`no trustseal command at ${bin} (set TRUSTSEAL_BIN)`);
  return bin;
}

function run(bin, args, env) {
  return new Promise((resolve, reject) => {
    const child = spawn(bin, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code === 0) resolve(stdout);
      else reject(new Error(`trustseal ${args.join(' ')} exited ${code}: ${stderr.trim()}`));
    });
  });
}

export class TrustSeal {
  constructor(dataDir) {
    this.bin = trustsealBin();
    this.dataDir = dataDir;
    this.env = { ...process.env, TRUSTSEAL_DATA_DIR: dataDir };
    this.logPath = join(dataDir, 'serve.log');
    this.process = null;
  }

  /** `trustseal sign FILE -o OUT`: the JSON document it prints. */
  async signFile(path, output, extra = []) {
    return JSON.parse(await run(this.bin, ['sign', path, '-o', output, ...extra], this.env));
  }

  /** `trustseal sign --text TEXT [--publisher NAME]`. */
  async signText(text, publisher = null) {
    const args = ['sign', '--text', text, ...(publisher ? ['--publisher', publisher] : [])];
    return JSON.parse(await run(this.bin, args, this.env));
  }

  /** `trustseal publisher add NAME --public-key BASE64` with a fresh Ed25519 key. */
  async addPublisher(name) {
    const { publicKey } = generateKeyPairSync('ed25519');
    const raw = Buffer.from(publicKey.export({ format: 'jwk' }).x, 'base64url').toString('base64');
    return JSON.parse(await run(this.bin, ['publisher', 'add', name, '--public-key', raw], this.env));
  }

  /** `trustseal apikey create NAME --scope SCOPE`: the new key's token. */
  async apiKey(name, scope) {
    return JSON.parse(await run(this.bin, ['apikey', 'create', name, '--scope', scope], this.env)).api_key;
  }

  /** `trustseal keys rotate PURPOSE` (the service picks the new key up when restarted). */
  async rotateKey(purpose) {
    return run(this.bin, ['keys', 'rotate', purpose], this.env);
  }

  async serve(port) {
    this.port = port;
    this.url = `http://127.0.0.1:${port}`;
    const log = createWriteStream(this.logPath);
    this.process = spawn(this.bin, ['serve', '--host', '127.0.0.1', '--port', String(port)], {
      env: this.env,
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    this.process.stderr.pipe(log);
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline) {
      if (this.process.exitCode !== null) throw new Error(`trustseal serve exited: ${this.logTail()}`);
      try {
        const response = await fetch(`${this.url}/healthz`);
        if (response.ok) return;
      } catch {
        // not listening yet
      }
      await sleep(250);
    }
    throw new Error(`trustseal serve did not answer in time: ${this.logTail()}`);
  }

  logTail() {
    return existsSync(this.logPath) ? readFileSync(this.logPath, 'utf8').slice(-2000) : '';
  }

  /** The access-log lines ({method, route, status, ...}) after `mark` lines. */
  accessLog(mark = 0) {
    const lines = readFileSync(this.logPath, 'utf8').split('\n').filter(Boolean);
    return lines
      .slice(mark)
      .map((line) => {
        try {
          return JSON.parse(line);
        } catch {
          return null;
        }
      })
      .filter((entry) => entry && entry.logger === 'trustseal.access');
  }

  logMark() {
    return readFileSync(this.logPath, 'utf8').split('\n').filter(Boolean).length;
  }

  async stop() {
    const child = this.process;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  }
}
