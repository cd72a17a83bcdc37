// What an auditor's key is for, said wherever one is refused (fetch, reply, delete: before any request is sent),
// so an auditor handed the wrong command learns the right ones. The server says the same in its 403 answers
// (server/staff-auth.ts; the server and the client share no module, so the words are written twice).
export const AUDITOR_CAN =
  "an auditor key can list the tips' metadata (tipline list: ids, sizes, days), read the audit chain and run tipline audit; it cannot read, answer or delete tips";

/** The refusal for `command` run with an auditor's key `file`. */
export function auditorRefusal(command: string, file: string): string {
  return `${file} is an auditor's key, and tipline ${command} needs a desk key: ${AUDITOR_CAN}`;
}
