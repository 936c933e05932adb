//! The CMS's configuration: Payload with the authhooks plugin mirroring Better Auth's
//! users into a `members` collection. This is the whole integration on the Payload side.
import { sqliteAdapter } from "@payloadcms/db-sqlite";
import { buildConfig } from "payload";
import { authhooks } from "@authhooks/payload";
import { required } from "./env.js";

export function cmsConfig(env: NodeJS.ProcessEnv) {
  return buildConfig({
    secret: required(env, "PAYLOAD_SECRET"),
    // SQLite runs without transactions unless `transactionOptions` is given; the plugin needs
    // them so a change, its receipt and its outbox row commit together or not at all.
    db: sqliteAdapter({ client: { url: `file:${env["CMS_DB"] ?? "cms.db"}` }, transactionOptions: {} }),
    telemetry: false,
    typescript: { autoGenerate: false },
    graphQL: { disable: true },
    admin: { user: "editors" },
    collections: [
      // The people who edit the CMS sign in here. The mirrored users are `members`, a
      // collection the plugin adds (soft delete: a deleted user's doc goes to the trash).
      { slug: "editors", auth: true, fields: [] },
    ],
    plugins: [
      authhooks({
        collection: "members",
        secrets: required(env, "AUTHHOOKS_ENDPOINT_SECRETS"), // deliveries: POST /api/authhooks
        ingest: { url: required(env, "AUTHHOOKS_INGEST_URL"), secret: required(env, "AUTHHOOKS_INGEST_SECRET") },
      }),
    ],
  });
}
