// What the store modules take: the database, or a transaction on it.
import type { Kysely, Transaction } from 'kysely';
import type { Database } from '../../schema/db.js';

export type Db = Kysely<Database> | Transaction<Database>;
