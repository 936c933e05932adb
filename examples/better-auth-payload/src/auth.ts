//! The auth server's configuration: Better Auth with the authhooks plugin. This is the
//! whole integration on the Better Auth side — one plugin, two secrets.
import Database from "better-sqlite3";
import { betterAuth, type BetterAuthOptions } from "better-auth";
import { authhooks } from "@authhooks/better-auth";
import { required } from "./env.js";

export function createAuth(env: NodeJS.ProcessEnv) {
  const hooks = authhooks({
    url: required(env, "AUTHHOOKS_INGEST_URL"), // …/v1/events
    secret: required(env, "AUTHHOOKS_INGEST_SECRET"), // whsec_…
    // Changes made in the CMS arrive at POST /api/auth/authhooks/deliveries.
    receive: { secrets: required(env, "AUTHHOOKS_ENDPOINT_SECRETS") },
  });
  const auth = betterAuth({
    database: new Database(env["AUTH_DB"] ?? "auth.db") as BetterAuthOptions["database"],
    baseURL: env["AUTH_URL"] ?? "http://127.0.0.1:3000",
    secret: required(env, "BETTER_AUTH_SECRET"),
    emailAndPassword: { enabled: true },
    user: { deleteUser: { enabled: true } },
    plugins: [hooks],
  });
  return { auth, hooks };
}
