// /.well-known/tipline/audit-head: the audit chain's latest signed head (PROTOCOL.md §Signed heads), public so
// anyone can keep copies; an auditor's `tipline audit --heads FILE` then proves a later chain still contains them.
import { SignedHeadBody } from '../../schema/wire.js';
import { AppError } from '../errors.js';
import { latestSignedHead } from '../audit-head.js';
import { errorResponses, type RoutePlugin } from '../context.js';

export const auditHeadRoutes: RoutePlugin = async (app, { ctx }) => {
  const { db } = ctx;
  app.get('/.well-known/tipline/audit-head', { schema: { response: { 200: SignedHeadBody, ...errorResponses } } }, async () => {
    const head = await latestSignedHead(db);
    if (!head) throw new AppError('TIPLINE_ERR_NO_DOCUMENT', 'the audit chain has no signed head yet: it starts when the first directory is published');
    return head;
  });
};
