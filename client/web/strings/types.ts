/** Every string the page shows, per language: one object per language, nothing hard-coded elsewhere.
 * Placeholders in braces ({n}, {name}, {day}…) are filled by the script; {fingerprint} by page.ts with the slot
 * the server fills. */
export interface Strings {
  lang: string;
  languageName: string;
  title: string;
  intro: string;
  /** The link near the top to the section for a source who comes back with a codename. */
  returningLead: string;
  returningLink: string;
  fingerprintLabel: string;
  fingerprintHelp: string;
  /** Shown instead of the fingerprint and the form while the server has no newsroom keys to offer. */
  notReadyTitle: string;
  notReadyBody: string;
  /** For the person who runs the server and opens the page before making keys. */
  notReadyOperator: string;
  noscriptTitle: string;
  noscriptWhy: string;
  noscriptHow: string;
  /** Introduces the command in noscriptCli, which is shown as a block of its own. */
  noscriptCliLabel: string;
  /** With {fingerprint}: the server puts the real fingerprint there. */
  noscriptCli: string;
  /** How to get the `tipline` command. */
  noscriptGet: string;
  messageLabel: string;
  messageHelp: string;
  filesLabel: string;
  /** Says that file names travel too (encrypted). */
  filesHelp: string;
  dropHere: string;
  remove: string;
  totalSize: string;
  metadataWarning: string;
  /** Files named before sending, by the kind of hidden details they may carry. */
  risky: {
    intro: string;
    pdf: string;
    office: string;
    /** A JPEG or PNG while the cleaning box is unticked. */
    photoKept: string;
    /** An image format this page does not clean (HEIC, TIFF, WebP…). */
    photoUncleanable: string;
    media: string;
    advice: string;
  };
  stripLabel: string;
  repliesLabel: string;
  repliesHelp: string;
  send: string;
  states: {
    loading: string;
    verifying: string;
    preparing: string;
    encrypting: string;
    retrying: string;
    finishing: string;
  };
  /** Under "preparing": {elapsed} and {estimate} in seconds. */
  preparingTime: string;
  preparingLong: string;
  timeLeft: string;
  errors: {
    empty: string;
    tooLarge: string;
    directory: string;
    expired: string;
    failed: string;
    noCrypto: string;
    uncleanable: string;
    loadFailed: string;
  };
  /** The codename shown before a tip that asks for replies is sent. */
  codename: {
    title: string;
    write: string;
    only: string;
    keep: string;
    written: string;
    confirmLabel: string;
    confirmHelp: string;
    confirmSend: string;
    showAgain: string;
    cancel: string;
    wrongWord: string;
    wrongCount: string;
  };
  /** "I have a codename": replies and follow-ups. */
  returning: {
    title: string;
    intro: string;
    label: string;
    help: string;
    check: string;
    checking: string;
    none: string;
    repliesTitle: string;
    from: string;
    deskPast: string;
    more: string;
    refused: string;
    unknownWord: string;
    count: string;
    checkWord: string;
    failed: string;
    delete: string;
    deleteHelp: string;
    deleting: string;
    deleted: string;
    deleteFailed: string;
    followTitle: string;
    followIntro: string;
    followLabel: string;
    followAgain: string;
  };
  receiptTitle: string;
  followReceiptTitle: string;
  receiptBody: string;
  receiptId: string;
  receiptDay: string;
  receiptExpires: string;
  receiptNextTitle: string;
  receiptAnswerYes: string;
  receiptAnswerNo: string;
  receiptKeepYes: string;
  receiptKeepNo: string;
  receiptDestroy: string;
  receiptUntil: string;
  receiptNotKept: string;
  receiptAgain: string;
  /** The newsroom's signed retention policy, shown above the form once the worker has verified it under the
   * fingerprint. Nothing of it shows unverified. */
  policy: {
    title: string;
    checking: string;
    /** {tips} and {replies}: a number of days, written with `days`. */
    summary: string;
    /** Plural forms by Intl.PluralRules category ("one", "other"…), {n} the number; "other" is the fallback. */
    days: Record<string, string>;
    hours: Record<string, string>;
    /** The policy could not be fetched, or did not verify: no number is shown. */
    invalid: string;
    missing: string;
    /** The summary line of the <details> that lists what is stored. */
    storedTitle: string;
    storedIntro: string;
    /** Each table the policy may list, in plain words; its technical name and columns follow in <code>. */
    tables: Record<string, string>;
    /** A table this page has no words for. */
    otherTable: string;
    /** {hours}: written with `hours`. */
    uploads: string;
    /** {period}: written with `days`. */
    keyPeriod: string;
    logged: string;
    keysTitle: string;
    /** The holders and powers are the newsroom's signed English words, shown as given. */
    keysIntro: string;
    roles: Record<string, string>;
    heldBy: string;
    can: string;
  };
  /** The warrant canary: {issued} and {expires} are days, written in the page's language. */
  canary: {
    ok: string;
    stale: string;
    missing: string;
    invalid: string;
    /** Fetching or checking failed (a dropped connection, a browser that cannot run the crypto code). */
    unchecked: string;
    statementLabel: string;
  };
  languageMenu: string;
}
