// Test harness: a real switchboard process on 127.0.0.1, set up through its CLI and API, a host
// page on another port (so the widget works cross-origin), and Debian's Chromium via Playwright.
import { spawn, execFileSync } from "node:child_process";
import { mkdtempSync, mkdirSync } from "node:fs";
import { createServer } from "node:http";
import { createServer as createNetServer } from "node:net";
import { tmpdir } from "node:os";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
export const ROOT = root;
export const BIN = process.env.SWITCHBOARD_BIN || join(root, "target", "debug", "switchboard");
export const ARTIFACTS = join(root, "e2e", "artifacts");
mkdirSync(ARTIFACTS, { recursive: true });

export const OPERATOR = { email: "agent@acme.test", password: "correct horse battery" };

async function freePort() {
  return new Promise((resolve) => {
    const server = createNetServer().listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** A switchboard process that can be stopped and started again on the same port and data. */
export class Switchboard {
  /** A server on a free port with a fresh database, not started yet. */
  static async blank(extraArgs = []) {
    const sb = new Switchboard();
    sb.dir = mkdtempSync(join(tmpdir(), "sb-e2e-"));
    sb.database = `sqlite://${sb.dir}/switchboard.db`;
    sb.port = await freePort();
    sb.base = `http://127.0.0.1:${sb.port}`;
    sb.extraArgs = extraArgs;
    return sb;
  }

  /** A server with one tenant, Acme Lamps, and its API key; `extraArgs` go to `serve`. */
  static async create(extraArgs = []) {
    const sb = await Switchboard.blank(extraArgs);
    const out = execFileSync(BIN, ["tenant", "create", "--name", "Acme Lamps", "--email", "owner@acme.test", "--password-stdin", "--database", sb.database], { input: "correct horse battery\n" }).toString();
    sb.apiKey = out.match(/api_key: (\S+)/)[1];
    await sb.start();
    return sb;
  }

  /** `switchboard serve --demo`, on a fresh database. */
  static async demo() {
    const sb = await Switchboard.blank(["--demo"]);
    await sb.start();
    return sb;
  }

  async start() {
    const args = ["serve", "--listen", `127.0.0.1:${this.port}`, "--database", this.database, ...this.extraArgs];
    this.process = spawn(BIN, args, { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, RUST_LOG: "warn" } });
    this.process.stderr.on("data", (d) => process.stderr.write(d));
    for (let i = 0; i < 200; i++) {
      try { if ((await fetch(`${this.base}/healthz`)).ok) return; } catch { /* not yet */ }
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error("switchboard did not start");
  }

  async stop() {
    if (!this.process) return;
    const exited = new Promise((r) => this.process.once("exit", r));
    this.process.kill("SIGTERM");
    await exited;
    this.process = null;
  }

  async api(method, path, body) {
    const response = await fetch(`${this.base}/api/v1${path}`, { method, headers: { "x-api-key": this.apiKey, "content-type": "application/json" }, body: body === undefined ? undefined : JSON.stringify(body) });
    const data = await response.json();
    if (!response.ok) throw new Error(`${method} ${path}: ${JSON.stringify(data)}`);
    return data.data;
  }
}

/** A third-party page embedding the widget, with deliberately hostile CSS. */
export async function hostPage(sb, widgetId) {
  const html = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Acme Lamps</title>
    <style>
      * { color: red !important; font-size: 40px !important; font-family: serif !important; }
      div, button, textarea, form { display: block !important; position: static !important; background: yellow !important; border: 5px dashed green !important; }
      button { width: 10px !important; height: 10px !important; }
    </style></head>
    <body><h1>Our lamps</h1><p>Best lamps in town.</p>
    <script src="${sb.base}/widget.js" data-widget="${widgetId}" data-name="Vera" async></script></body></html>`;
  const server = createServer((req, res) => { res.setHeader("content-type", "text/html"); res.end(html); });
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  return { url: `http://127.0.0.1:${server.address().port}/`, close: () => server.close() };
}

export async function launch() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH || "/usr/bin/chromium",
    args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
}

/** Waits until `check()` is truthy (polling), or fails with `what`. */
export async function eventually(check, what, timeout = 10000) {
  const end = Date.now() + timeout;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
