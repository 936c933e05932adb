//! @authhooks/testkit: real servers for the TypeScript tests.
export { AdminClient, FAST_RETRY, authhooksBinary, newSecret, startAuthhooks, type Authhooks, type AuthhooksOptions, type CreatedEndpoint } from "./authhooks.js";
export { startMoto, type Moto } from "./moto.js";
export { freePort, repoRoot, start, until, type Child } from "./process.js";
export { Receiver, type Received } from "./receiver.js";
export { serveFetch, type Served } from "./serve.js";
