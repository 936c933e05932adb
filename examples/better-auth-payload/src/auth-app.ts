//! The auth app: Better Auth on a plain Node HTTP server, its tables (the plugin's outbox
//! among them) migrated at start. `npm run auth` runs it.
import { createServer } from "node:http";
import { toNodeHandler } from "better-auth/node";
import { createAuth } from "./auth.js";

const { auth, hooks } = createAuth(process.env);
await (await auth.$context).runMigrations();

const port = Number(process.env["AUTH_PORT"] ?? 3000);
const server = createServer(toNodeHandler(auth));
server.listen(port, "127.0.0.1", () => console.log(`auth app on http://127.0.0.1:${port}/api/auth`));

for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, async () => {
    // What is still in the outbox stays in the database; the next start sends it.
    await hooks.stop();
    server.close(() => process.exit(0));
  });
}
