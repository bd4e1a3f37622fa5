// The real litmus-server for the package's tests: scripts/wasm/test-package.sh builds it and
// sets LITMUS_SERVER_BIN. Shared by the config client's and the event tracker's tests.

import { spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** The server binary, or undefined (the real-server tests are then skipped). */
export const SERVER = process.env.LITMUS_SERVER_BIN;
/** The admin key the server is started with. */
export const ADMIN = "admin-key-for-tests";

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** A TCP port nobody listens on. */
export async function freePort() {
  const s = createServer();
  await new Promise((resolve) => s.listen(0, "127.0.0.1", resolve));
  const { port } = s.address();
  await new Promise((resolve) => s.close(resolve));
  return port;
}

/** Starts the server on the embedded store for test `t` (stopped after it); its URL. */
export async function startServer(t) {
  const data = await mkdtemp(join(tmpdir(), "litmus-server-"));
  const port = await freePort();
  const proc = spawn(SERVER, [], {
    // The embedded store, whatever DATABASE_URL / REDIS_URL the caller has.
    env: { ...process.env, DATABASE_URL: "", REDIS_URL: "", LITMUS_LISTEN: `127.0.0.1:${port}`, LITMUS_DATA: data, LITMUS_ADMIN_KEY: ADMIN, RUST_LOG: "warn" },
    stdio: ["ignore", "ignore", "pipe"],
  });
  let log = "";
  proc.stderr.on("data", (d) => (log += d));
  const exited = new Promise((resolve) => proc.on("exit", resolve));
  t.after(async () => {
    proc.kill("SIGKILL");
    await exited;
    await rm(data, { recursive: true, force: true });
  });
  const url = `http://127.0.0.1:${port}`;
  const end = Date.now() + 20_000;
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`litmus-server exited: ${log}`);
    if (await fetch(`${url}/healthz`).then((r) => r.ok, () => false)) return url;
    if (Date.now() > end) throw new Error(`litmus-server did not start: ${log}`);
    await sleep(20);
  }
}
