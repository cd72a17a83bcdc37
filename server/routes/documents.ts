// The signed documents beside the directory, served byte-for-byte as signed: /.well-known/tipline/policy,
// /canary and /client-manifest. A stored document that no longer verifies under the root is not served.
import { SignedDocumentBody } from '../../schema/wire.js';
import { AppError } from '../errors.js';
import { DOCUMENT_KINDS, loadDocumentBody } from '../documents.js';
import { errorResponses, type RoutePlugin } from '../context.js';

export const documentRoutes: RoutePlugin = async (app, { ctx }) => {
  for (const kind of DOCUMENT_KINDS) {
    app.get(`/.well-known/tipline/${kind}`, { schema: { response: { 200: SignedDocumentBody, ...errorResponses } } }, async () => {
      const body = await loadDocumentBody(ctx.db, kind, ctx.config.rootFingerprint, ctx.config.now());
      if (body === undefined) throw new AppError('TIPLINE_ERR_NO_DOCUMENT', `this tip line publishes no signed ${kind}`);
      return SignedDocumentBody.parse(JSON.parse(body));
    });
  }
};
