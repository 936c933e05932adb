//! Child processes the tests start — moto and `authhooks dev` — killed when the test
//! process ends, however it ends, so no server outlives its test run.
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { createServer } from "node:net";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const children = new Set<ChildProcess>();
process.on("exit", () => {
  for (const child of children) child.kill("SIGKILL");
});

/** The repository's root: the directory holding the Rust workspace's Cargo.toml. */
export function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, "Cargo.toml"))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error("testkit: the repository root (Cargo.toml) was not found");
    dir = parent;
  }
  return dir;
}

/** A loopback port free right now. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => (typeof address === "object" && address ? resolve(address.port) : reject(new Error("no port"))));
    });
  });
}

export interface Child {
  process: ChildProcess;
  /** What it printed, both streams, for failure messages. */
  output(): string;
  /** SIGKILL, and wait until it is gone. */
  kill(): Promise<void>;
  /** A polite signal (SIGINT), and wait until it is gone. */
  stop(): Promise<void>;
}

export function start(command: string, args: string[], env: NodeJS.ProcessEnv = {}, cwd?: string): Child {
  const child = spawn(command, args, {
    cwd,
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  children.add(child);
  // Neither the child nor its pipes keep the test process alive: a failed test still ends.
  child.unref();
  for (const stream of [child.stdout, child.stderr]) (stream as unknown as { unref?: () => void } | null)?.unref?.();
  let output = "";
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-64 * 1024);
  };
  child.stdout?.on("data", keep);
  child.stderr?.on("data", keep);
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  child.once("exit", () => children.delete(child));
  const signal = async (name: NodeJS.Signals) => {
    if (child.exitCode === null && child.signalCode === null) {
      // Waited for now: its exit must keep the event loop alive until it comes.
      child.ref();
      child.kill(name);
    }
    await exited;
  };
  return { process: child, output: () => output, kill: () => signal("SIGKILL"), stop: () => signal("SIGINT") };
}

/** Polls `probe` until it answers true; fails with `what` and the child's output. */
export async function until(
  probe: () => Promise<boolean> | boolean,
  what: string,
  { timeoutMs = 20_000, intervalMs = 50, child }: { timeoutMs?: number; intervalMs?: number; child?: Child } = {},
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child && (child.process.exitCode !== null || child.process.signalCode !== null)) {
      throw new Error(`${what}: the process exited (${child.process.exitCode ?? child.process.signalCode})\n${child.output()}`);
    }
    if (await Promise.resolve().then(probe).catch(() => false)) return;
    if (Date.now() > deadline) {
      throw new Error(`${what}: not within ${timeoutMs} ms${child ? `\n${child.output()}` : ""}`);
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
