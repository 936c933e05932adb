//! A real `authhooks dev` built from this workspace (target/debug/authhooks, or
//! AUTHHOOKS_BIN), and a small client of its admin API.
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { freePort, repoRoot, start, until, type Child } from "./process.js";

export function newSecret(): string {
  return `whsec_${randomBytes(32).toString("base64")}`;
}

export interface AuthhooksOptions {
  /** Keep one port across restarts so producers need not be told a new URL. */
  port?: number;
  /** An SQS/DynamoDB API (moto): state then survives a restart of authhooks. */
  awsEndpoint?: string;
  adminToken?: string;
  ingestSecret?: string;
}

export interface Authhooks {
  url: string;
  /** `…/v1/events` */
  ingestUrl: string;
  adminToken: string;
  ingestSecret: string;
  port: number;
  child: Child;
  admin: AdminClient;
  /** The same settings, for starting it again after `child.kill()`. */
  options: Required<Pick<AuthhooksOptions, "port" | "adminToken" | "ingestSecret">> & AuthhooksOptions;
}

export function authhooksBinary(): string {
  const bin = process.env["AUTHHOOKS_BIN"] ?? join(repoRoot(), "target", "debug", "authhooks");
  if (!existsSync(bin)) {
    throw new Error(`authhooks binary not found at ${bin}: run \`cargo build -p authhooks-cli\` (or set AUTHHOOKS_BIN)`);
  }
  return bin;
}

export async function startAuthhooks(options: AuthhooksOptions = {}): Promise<Authhooks> {
  const settings = {
    ...options,
    port: options.port ?? (await freePort()),
    adminToken: options.adminToken ?? `ah_${randomBytes(16).toString("hex")}`,
    ingestSecret: options.ingestSecret ?? newSecret(),
  };
  const args = ["dev", "--port", String(settings.port)];
  if (settings.awsEndpoint) args.push("--aws-endpoint", settings.awsEndpoint);
  const env: NodeJS.ProcessEnv = {
    AUTHHOOKS_ADMIN_TOKEN: settings.adminToken,
    AUTHHOOKS_INGEST_SECRET: settings.ingestSecret,
    RUST_LOG: process.env["RUST_LOG"] ?? "warn",
  };
  if (settings.awsEndpoint) {
    Object.assign(env, { AWS_ACCESS_KEY_ID: "test", AWS_SECRET_ACCESS_KEY: "test", AWS_REGION: "us-east-1" });
  }
  const child = start(authhooksBinary(), args, env);
  const url = `http://127.0.0.1:${settings.port}`;
  const admin = new AdminClient(url, settings.adminToken);
  await until(async () => (await admin.raw("GET", "/v1/endpoints")).status === 200, "authhooks dev did not start", {
    child,
    timeoutMs: 30_000,
  });
  return {
    url,
    ingestUrl: `${url}/v1/events`,
    adminToken: settings.adminToken,
    ingestSecret: settings.ingestSecret,
    port: settings.port,
    child,
    admin,
    options: settings,
  };
}

export interface CreatedEndpoint {
  id: string;
  secret: string;
}

/** Retries fast enough for a test: a receiver that is down gets its backlog within seconds. */
export const FAST_RETRY = {
  retry: { initial_delay_ms: 200, backoff_multiplier: 1.5, max_delay_ms: 1_000, max_retries: 20 },
  // An open circuit holds deliveries back without spending their attempts, so a receiver
  // that is down for longer than the retries last still gets everything once it is back.
  circuit: { failure_threshold: 3, success_threshold: 1, open_timeout_secs: 1, half_open_max_requests: 1 },
  rate_limit: null,
};

export class AdminClient {
  constructor(
    readonly url: string,
    readonly token: string,
  ) {}

  async raw(method: string, path: string, body?: unknown): Promise<Response> {
    const init: RequestInit = { method, headers: { authorization: `Bearer ${this.token}` } };
    if (body !== undefined) {
      init.body = JSON.stringify(body);
      init.headers = { ...init.headers, "content-type": "application/json" };
    }
    return fetch(`${this.url}${path}`, init);
  }

  async json<T>(method: string, path: string, body?: unknown): Promise<T> {
    const response = await this.raw(method, path, body);
    const text = await response.text();
    if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${text}`);
    return JSON.parse(text) as T;
  }

  createEndpoint(spec: Record<string, unknown>): Promise<CreatedEndpoint> {
    return this.json<CreatedEndpoint>("POST", "/v1/endpoints", { ...FAST_RETRY, ...spec });
  }

  async failures(): Promise<unknown[]> {
    return (await this.json<{ items: unknown[] }>("GET", "/v1/failures")).items;
  }
}
