//! The CMS app: Payload's REST API (its own collections and the authhooks receiver) on a
//! plain Node HTTP server, without Next.js. `npm run cms` runs it; the first start creates
//! an editor from CMS_EDITOR_EMAIL / CMS_EDITOR_PASSWORD.
import { serve } from "@hono/node-server";
import { getPayload, handleEndpoints } from "payload";
import { authhooksOutbox } from "@authhooks/payload";
import { cmsConfig } from "./cms.js";

const config = await cmsConfig(process.env);
const payload = await getPayload({ config });
await seedEditor();

const port = Number(process.env["CMS_PORT"] ?? 3001);
// Payload adds fields to the request it is given: it gets a standard `Request` (a clone).
const server = serve({ fetch: (request) => handleEndpoints({ config, request: request.clone() }), port, hostname: "127.0.0.1" }, () =>
  console.log(`cms app on http://127.0.0.1:${port}/api`),
);

for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, async () => {
    // What is still in the outbox stays in the database; the next start sends it.
    await authhooksOutbox(payload)?.stop();
    server.close(() => process.exit(0));
  });
}

async function seedEditor(): Promise<void> {
  const email = process.env["CMS_EDITOR_EMAIL"];
  const password = process.env["CMS_EDITOR_PASSWORD"];
  if (!email || !password) return;
  const found = await payload.find({ collection: "editors", where: { email: { equals: email } }, limit: 1 });
  if (found.docs.length === 0) await payload.create({ collection: "editors", data: { email, password } });
}
