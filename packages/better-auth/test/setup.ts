//! A real Better Auth (SQLite through better-sqlite3, email and password, the admin and
//! organization plugins) with the authhooks plugin, on a database file that outlives it,
//! so a test can start a second instance on it as a restarted process would.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { betterAuth, type BetterAuthOptions } from "better-auth";
import { admin, organization } from "better-auth/plugins";
import type { Logger } from "@authhooks/sync";
import { authhooks, type AuthhooksOptions } from "../src/index.js";

export const quiet: Logger = { warn: () => {}, error: () => {} };

export function databaseFile(): string {
  return join(mkdtempSync(join(tmpdir(), "authhooks-ba-")), "auth.db");
}

export async function makeAuth(file: string, options: AuthhooksOptions) {
  const hooks = authhooks({ logger: quiet, ...options, flush: { intervalMs: 100, minBackoffMs: 50, maxBackoffMs: 200, ...options.flush } });
  const auth = betterAuth({
    // Typed as the option, not as better-sqlite3's class, so the test's types can be emitted.
    database: new Database(file) as BetterAuthOptions["database"],
    baseURL: "http://127.0.0.1:3000",
    secret: "a-test-secret-that-is-long-enough-0123456789",
    emailAndPassword: { enabled: true },
    plugins: [hooks, admin(), organization()],
    logger: { disabled: true },
  });
  const context = await auth.$context;
  await context.runMigrations();
  return { auth, hooks, context };
}

export type Made = Awaited<ReturnType<typeof makeAuth>>;

/** Signs a user up and answers the user and the cookie of their session. */
export async function signUp(auth: Made["auth"], email: string, name = "Ada") {
  const { headers, response } = await auth.api.signUpEmail({ body: { email, password: "correct horse battery", name }, returnHeaders: true });
  const cookie = headers.getSetCookie().map((c) => c.split(";")[0]).join("; ");
  return { user: response.user, headers: new Headers({ cookie }) };
}

export async function outboxRows(made: Made): Promise<{ eventId: string; status: string; event: string }[]> {
  return made.context.adapter.findMany({ model: "authhooksOutbox", sortBy: { field: "position", direction: "asc" } });
}

export async function eventually(probe: () => boolean | Promise<boolean>, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
