/** Every string the page shows, per language: one object per language, nothing hard-coded elsewhere. */
export interface Strings {
  lang: string;
  languageName: string;
  title: string;
  intro: string;
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
  noscriptCli: string;
  messageLabel: string;
  messageHelp: string;
  filesLabel: string;
  filesHelp: string;
  dropHere: string;
  remove: string;
  totalSize: string;
  metadataWarning: string;
  stripLabel: string;
  send: string;
  states: {
    loading: string;
    verifying: string;
    preparing: string;
    encrypting: string;
    retrying: string;
    finishing: string;
  };
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
  receiptTitle: string;
  receiptBody: string;
  receiptId: string;
  receiptDay: string;
  receiptNotKept: string;
  receiptAgain: string;
  languageMenu: string;
}
