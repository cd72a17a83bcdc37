// The signed documents beside the directory: /.well-known/tipline/{policy,canary,client-manifest}. Stub: the
// owner (issue 9, documents) replaces this file.
import type { RoutePlugin } from '../context.js';

export const documentRoutes: RoutePlugin = async () => {};
