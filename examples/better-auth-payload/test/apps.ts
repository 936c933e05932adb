//! The two example apps as real processes (so they can be killed and restarted), a client
//! for each that acts as their users and editors do, and what each has stored.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import Database from "better-sqlite3";
import { start, until, type Child } from "@authhooks/testkit";

const dist = join(dirname(fileURLToPath(import.meta.url)), "..", "src");

export interface AppsEnv {
  dir: string;
  authPort: number;
  cmsPort: number;
  env: NodeJS.ProcessEnv;
}

export function appsEnv(authPort: number, cmsPort: number, values: Record<string, string>): AppsEnv {
  const dir = mkdtempSync(join(tmpdir(), "authhooks-example-"));
  return {
    dir,
    authPort,
    cmsPort,
    env: {
      ...values,
      AUTH_DB: join(dir, "auth.db"),
      AUTH_PORT: String(authPort),
      AUTH_URL: `http://127.0.0.1:${authPort}`,
      BETTER_AUTH_SECRET: "example-better-auth-secret-0123456789abcdef",
      CMS_DB: join(dir, "cms.db"),
      CMS_PORT: String(cmsPort),
      PAYLOAD_SECRET: "example-payload-secret-0123456789",
      CMS_EDITOR_EMAIL: "editor@example.com",
      CMS_EDITOR_PASSWORD: "editor-password-123",
    },
  };
}

export async function startAuthApp(apps: AppsEnv): Promise<Child> {
  const child = start("node", [join(dist, "auth-app.js")], apps.env, apps.dir);
  await until(async () => (await fetch(`http://127.0.0.1:${apps.authPort}/api/auth/ok`)).ok, "the auth app did not start", { child, timeoutMs: 30_000 });
  return child;
}

export async function startCmsApp(apps: AppsEnv): Promise<Child> {
  const child = start("node", [join(dist, "cms-app.js")], apps.env, apps.dir);
  await until(async () => (await fetch(`http://127.0.0.1:${apps.cmsPort}/api/members?limit=1`)).status < 500, "the CMS app did not start", { child, timeoutMs: 60_000 });
  return child;
}

export interface Person {
  id: string;
  email: string;
  cookie: string;
}

/** Acts as the auth app's users do, over its HTTP API. */
export class AuthClient {
  constructor(readonly apps: AppsEnv) {}

  get #base(): string {
    return `http://127.0.0.1:${this.apps.authPort}/api/auth`;
  }

  async #post(path: string, body: unknown, cookie?: string): Promise<Response> {
    const headers: Record<string, string> = { "content-type": "application/json", origin: `http://127.0.0.1:${this.apps.authPort}` };
    if (cookie) headers["cookie"] = cookie;
    const response = await fetch(`${this.#base}${path}`, { method: "POST", headers, body: JSON.stringify(body) });
    if (!response.ok) throw new Error(`auth ${path}: ${response.status} ${await response.text()}`);
    return response;
  }

  async signUp(email: string, name: string): Promise<Person> {
    const response = await this.#post("/sign-up/email", { email, name, password: "password-1234" });
    const { user } = (await response.json()) as { user: { id: string } };
    const cookie = response.headers.getSetCookie().map((c) => c.split(";")[0]).join("; ");
    return { id: user.id, email, cookie };
  }

  async rename(person: Person, name: string): Promise<void> {
    await this.#post("/update-user", { name }, person.cookie);
  }

  async deleteAccount(person: Person): Promise<void> {
    await this.#post("/delete-user", { password: "password-1234" }, person.cookie);
  }

  /** What Better Auth has stored, read from its database file. */
  users(): { id: string; email: string; name: string }[] {
    const db = new Database(this.apps.env["AUTH_DB"]!, { readonly: true });
    try {
      return db.prepare(`SELECT id, email, name FROM "user" ORDER BY id`).all() as { id: string; email: string; name: string }[];
    } finally {
      db.close();
    }
  }
}

export interface Member {
  id: number | string;
  authId: string;
  email: string;
  name: string;
  deletedAt?: string | null;
}

/** Acts as a CMS editor does, over Payload's REST API. */
export class CmsClient {
  #token: string | undefined;
  constructor(readonly apps: AppsEnv) {}

  get #base(): string {
    return `http://127.0.0.1:${this.apps.cmsPort}/api`;
  }

  async #request(method: string, path: string, body?: unknown): Promise<unknown> {
    if (!this.#token) {
      const login = await fetch(`${this.#base}/editors/login`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ email: this.apps.env["CMS_EDITOR_EMAIL"], password: this.apps.env["CMS_EDITOR_PASSWORD"] }),
      });
      if (!login.ok) throw new Error(`cms login: ${login.status} ${await login.text()}`);
      this.#token = ((await login.json()) as { token: string }).token;
    }
    const init: RequestInit = { method, headers: { authorization: `JWT ${this.#token}`, "content-type": "application/json" } };
    if (body !== undefined) init.body = JSON.stringify(body);
    const response = await fetch(`${this.#base}${path}`, init);
    if (!response.ok) throw new Error(`cms ${method} ${path}: ${response.status} ${await response.text()}`);
    return response.json();
  }

  /** Every member, trashed ones included. */
  async members(): Promise<Member[]> {
    const page = (await this.#request("GET", "/members?limit=1000&depth=0&trash=true")) as { docs: Member[] };
    return page.docs;
  }

  async #member(authId: string): Promise<Member> {
    const found = (await this.members()).find((m) => m.authId === authId);
    if (!found) throw new Error(`no member for ${authId}`);
    return found;
  }

  async rename(authId: string, name: string): Promise<void> {
    const member = await this.#member(authId);
    await this.#request("PATCH", `/members/${member.id}`, { name });
  }

  /** Moves the member to the trash, as the admin panel's delete does. */
  async trash(authId: string): Promise<void> {
    const member = await this.#member(authId);
    await this.#request("PATCH", `/members/${member.id}`, { deletedAt: new Date().toISOString() });
  }

  /** The receiver's receipts, read from the CMS's database (no API serves them). */
  receipts(): { eventId: string; outcome: string }[] {
    const db = new Database(this.apps.env["CMS_DB"]!, { readonly: true });
    try {
      return db.prepare(`SELECT event_id AS eventId, outcome FROM authhooks_receipts`).all() as { eventId: string; outcome: string }[];
    } finally {
      db.close();
    }
  }
}
