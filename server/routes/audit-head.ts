// /.well-known/tipline/audit-head: the audit chain's last signed head. Stub: the owner (issue 9, chain)
// replaces this file.
import type { RoutePlugin } from '../context.js';

export const auditHeadRoutes: RoutePlugin = async () => {};
