// The system sqlite3 shell loads build/tslite.so with `.load` and sees its functions.
import { sqlite, eq, check, tmpDir, done } from './lib.mjs';
import path from 'node:path';

const db = path.join(tmpDir(), 't.db');
const r = sqlite(db, 'SELECT tslite_version();\n');
eq('shell .load + tslite_version()', r.stdout.trim(), '0.1.0');
check('shell exits 0', r.status === 0, r.stderr);
done();
