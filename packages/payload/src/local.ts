//! The Local API calls the plugin makes, typed for it. Payload's own types are generic over
//! the app's generated collection types, which a plugin cannot know: the casts live here.
import type { CollectionSlug, Payload, PayloadRequest, RequestContext, Where } from "payload";
import type { DocData } from "./options.js";

export interface Doc extends DocData {
  id: string | number;
}

/** Every call carries `req` (the transaction it belongs to) when there is one. */
export interface Scope {
  payload: Payload;
  req?: PayloadRequest;
  context?: RequestContext;
  /**
   * A single statement with no transaction of its own. On SQLite an open transaction holds
   * the one write lock across awaits, and a save that starts meanwhile fails with
   * SQLITE_BUSY: background writes must never do that to the app's saves.
   */
  noTransaction?: boolean;
}

const slug = (collection: string) => collection as CollectionSlug;

function scoped(scope: Scope): { req?: PayloadRequest; context?: RequestContext; disableTransaction?: boolean } {
  const out: { req?: PayloadRequest; context?: RequestContext; disableTransaction?: boolean } = {};
  if (scope.req) out.req = scope.req;
  if (scope.context) out.context = scope.context;
  if (scope.noTransaction) out.disableTransaction = true;
  return out;
}

export async function findDocs(
  scope: Scope,
  collection: string,
  where: Where,
  options: { limit?: number; sort?: string; trash?: boolean } = {},
): Promise<Doc[]> {
  const result = await scope.payload.find({
    ...scoped(scope),
    collection: slug(collection),
    where,
    depth: 0,
    pagination: false,
    limit: options.limit ?? 0,
    trash: options.trash ?? false,
    ...(options.sort ? { sort: options.sort } : {}),
  });
  return result.docs as unknown as Doc[];
}

export async function createDoc(scope: Scope, collection: string, data: DocData): Promise<Doc> {
  const doc = await scope.payload.create({ ...scoped(scope), collection: slug(collection), data, depth: 0 } as Parameters<
    Payload["create"]
  >[0]);
  return doc as unknown as Doc;
}

export async function updateDoc(scope: Scope, collection: string, id: Doc["id"], data: DocData): Promise<Doc> {
  const doc = await scope.payload.update({
    ...scoped(scope),
    collection: slug(collection),
    id,
    data,
    depth: 0,
    trash: true,
  } as Parameters<Payload["update"]>[0]);
  return doc as unknown as Doc;
}

export async function deleteDoc(scope: Scope, collection: string, id: Doc["id"]): Promise<void> {
  await scope.payload.delete({ ...scoped(scope), collection: slug(collection), id, depth: 0, trash: true });
}

export async function deleteWhere(scope: Scope, collection: string, where: Where): Promise<void> {
  await scope.payload.delete({ ...scoped(scope), collection: slug(collection), where, depth: 0 });
}
