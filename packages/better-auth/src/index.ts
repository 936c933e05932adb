//! @authhooks/better-auth: Better Auth's changes to authhooks through an outbox, and other
//! systems' changes applied back without echo.
export { authhooks, type AuthhooksOptions } from "./plugin.js";
export { withoutEmitting } from "./quiet.js";
export { userView, type RouteEvent, type UserView } from "./catalogue.js";
export type { Outcome, ReceiveOptions, ReceivedField } from "./receiver.js";
export type { ReconcileOptions, ReconcileReport } from "./reconcile.js";
